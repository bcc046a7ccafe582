/*
 * elf.h — checks a U-mode application image (RV32 ELF executable) and lists its segments.
 *
 * Rules of use: the image is treated as untrusted: every header field is checked against the
 * image size and the user address space before anything is loaded, and a bad image gives
 * -ENOEXEC (format) or -EINVAL (layout). Only PT_LOAD segments are returned.
 */
#ifndef PVK_ELF_H
#define PVK_ELF_H
#include "types.h"

struct elf_segment {
  uint32_t vaddr;
  uint32_t memsz;
  uint32_t filesz;
  uint32_t offset;
  uint32_t flags; /* PF_X 1, PF_W 2, PF_R 4 */
};

#define ELF_MAX_SEGMENTS 8u

struct elf_image {
  uint32_t entry;
  uint32_t count;
  struct elf_segment seg[ELF_MAX_SEGMENTS];
};

int elf_check(const uint8_t *image, uint32_t size, uint32_t user_top, struct elf_image *out);

#endif
