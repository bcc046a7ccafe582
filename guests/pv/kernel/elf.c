/*
 * elf.c — the application image checks of elf.h (ELF32, little endian, EM_RISCV, ET_EXEC).
 *
 * Rules of use: see elf.h.
 */
#include "elf.h"

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (rd16(p + 2) << 16); }

#define PT_LOAD 1u
#define EM_RISCV 243u
#define ET_EXEC 2u

int elf_check(const uint8_t *image, uint32_t size, uint32_t user_top, struct elf_image *out) {
  if (size < 52 || image[0] != 0x7f || image[1] != 'E' || image[2] != 'L' || image[3] != 'F') {
    return ERR(ENOEXEC);
  }
  if (image[4] != 1 || image[5] != 1 || rd16(image + 16) != ET_EXEC ||
      rd16(image + 18) != EM_RISCV) {
    return ERR(ENOEXEC);
  }
  uint32_t phoff = rd32(image + 28);
  uint32_t phentsize = rd16(image + 42);
  uint32_t phnum = rd16(image + 44);
  if (phentsize != 32 || phoff > size || phnum > (size - phoff) / 32) return ERR(ENOEXEC);
  out->entry = rd32(image + 24);
  out->count = 0;
  bool entry_ok = false;
  for (uint32_t i = 0; i < phnum; i++) {
    const uint8_t *ph = image + phoff + 32 * i;
    if (rd32(ph) != PT_LOAD) continue;
    struct elf_segment s = {
        .offset = rd32(ph + 4),
        .vaddr = rd32(ph + 8),
        .filesz = rd32(ph + 16),
        .memsz = rd32(ph + 20),
        .flags = rd32(ph + 24),
    };
    if (s.memsz == 0) continue;
    if (out->count == ELF_MAX_SEGMENTS) return ERR(EINVAL);
    if (s.filesz > s.memsz || s.offset > size || s.filesz > size - s.offset) return ERR(ENOEXEC);
    if (s.vaddr < PAGE_SIZE || s.vaddr > user_top || s.memsz > user_top - s.vaddr) {
      return ERR(EINVAL);
    }
    if ((s.flags & 1) && out->entry >= s.vaddr && out->entry - s.vaddr < s.memsz) entry_ok = true;
    out->seg[out->count++] = s;
  }
  if (out->count == 0 || !entry_ok || (out->entry & 3) != 0) return ERR(ENOEXEC);
  return 0;
}
