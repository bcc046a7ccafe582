/*
 * boot_native.c — the board's boot path, run by entry.S with paging off at the physical
 * address the kernel was loaded at (a0 = hart id, a1 = device tree, as the SBI firmware
 * leaves them).
 *
 * Rules of use: this file runs before the kernel is mapped where it was linked. It is built
 * with -mcmodel=medany and -fno-jump-tables, so every global and string is reached PC-relative
 * and works at the physical address; it must not store or call through absolute pointers (no
 * pv-ops, no printk). It builds what the hypervisor's domain builder builds for a PV domain:
 *   - nr_pages = the RAM of the device tree's first /memory region from the load address up
 *     (at most MAX_PAGES), pfn 0 = the load address;
 *   - after the image (page aligned): the root table, then the leaf tables of the linear map
 *     pfn -> KERNEL_BASE + pfn * 4096 (R W X A D G); the frames after them are free;
 *   - one identity superpage over the 4 MiB that holds the entry code, so the instruction after
 *     `csrw satp` still runs; kmain drops it (native_drop_identity).
 * Unlike under the hypervisor, the table frames stay writable: nothing here enforces read-only
 * page tables, so the native pv-ops write entries directly.
 */
#include "boot.h"
#include "csr.h"
#include "fdt.h"
#include "sbi.h"

struct boot_info boot;

static void early_puts(const char *s) {
  while (*s != '\0') sbi_putchar(*s++);
}

static void early_hex(uint32_t v) {
  const char *digits = "0123456789abcdef";
  early_puts("0x");
  for (int shift = 28; shift >= 0; shift -= 4) sbi_putchar(digits[(v >> shift) & 15]);
}

static uint32_t fail(const char *why, uint32_t value) {
  early_puts("pvkernel: native boot failed: ");
  early_puts(why);
  early_puts(" ");
  early_hex(value);
  early_puts("\n");
  return 0;
}

uint32_t native_early(uint32_t hartid, uint32_t fdt_pa, uint32_t phys_base) {
  boot.pv = false;
  boot.hartid = hartid;
  boot.fdt_pa = fdt_pa;
  if ((phys_base & (PAGE_SIZE - 1)) != 0) return fail("load address not page aligned", phys_base);
  if (fdt_pa == 0 || (fdt_pa & 3) != 0) return fail("no device tree in a1", fdt_pa);

  struct fdt_info info;
  int rc = fdt_parse((const void *)(uintptr_t)fdt_pa, &info);
  if (rc != 0) return fail("malformed device tree at", fdt_pa);
  if (!info.has_memory) return fail("device tree has no /memory node at", fdt_pa);
  uint64_t ram_end = info.mem_base + info.mem_size;
  if (phys_base < info.mem_base || phys_base >= ram_end) {
    return fail("kernel loaded outside /memory at", phys_base);
  }
  boot.ram_base = info.mem_base;
  boot.ram_size = info.mem_size;
  boot.timebase_hz = info.timebase_hz != 0 ? info.timebase_hz : 10000000u;
  uint32_t n = info.bootargs_len < MAX_GUEST_CMDLINE - 1 ? info.bootargs_len
                                                        : MAX_GUEST_CMDLINE - 1;
  for (uint32_t i = 0; i < n; i++) boot.cmdline[i] = info.bootargs[i];
  boot.cmdline[n] = '\0';

  uint64_t pages = (ram_end - phys_base) >> PAGE_SHIFT;
  if (pages > MAX_PAGES) pages = MAX_PAGES;
  boot.nr_pages = (uint32_t)pages;
  boot.base_mfn = phys_base >> PAGE_SHIFT;

  /* The image ends at _end (its .bss included); _end is reached PC-relative, so this is the
   * physical address of the byte after the image. */
  uint32_t image_end = (uint32_t)(uintptr_t)_end;
  pfn_t root_pfn = (ALIGN_UP(image_end, PAGE_SIZE) - phys_base) >> PAGE_SHIFT;
  uint32_t leaves = (boot.nr_pages + PT_ENTRIES - 1) / PT_ENTRIES;
  if (root_pfn + 1 + leaves + 16 > boot.nr_pages) return fail("too little RAM:", boot.nr_pages);
  boot.root_pfn = root_pfn;
  boot.pt_first_pfn = root_pfn;
  boot.nr_pt_frames = 1 + leaves;
  boot.first_free_pfn = root_pfn + 1 + leaves;

  /* The tables, written at their physical addresses (paging is off). */
  uint32_t *root = (uint32_t *)(uintptr_t)(phys_base + (root_pfn << PAGE_SHIFT));
  for (uint32_t i = 0; i < PT_ENTRIES; i++) root[i] = 0;
  for (uint32_t leaf = 0; leaf < leaves; leaf++) {
    pfn_t leaf_pfn = root_pfn + 1 + leaf;
    uint32_t *table = (uint32_t *)(uintptr_t)(phys_base + (leaf_pfn << PAGE_SHIFT));
    for (uint32_t i = 0; i < PT_ENTRIES; i++) {
      pfn_t pfn = leaf * PT_ENTRIES + i;
      table[i] = pfn < boot.nr_pages
                     ? ((boot.base_mfn + pfn) << PTE_PPN_SHIFT) | PTE_R | PTE_W | PTE_X | PTE_A |
                           PTE_D | PTE_G | PTE_V
                     : 0;
    }
    root[KERNEL_ROOT_FIRST + leaf] = ((boot.base_mfn + leaf_pfn) << PTE_PPN_SHIFT) | PTE_V;
  }
  /* Identity superpage over the entry code (Sv32 superpages are 4 MiB aligned). */
  uint32_t identity = phys_base >> ROOT_SHIFT;
  root[identity] = ((identity << ROOT_SHIFT) >> PAGE_SHIFT << PTE_PPN_SHIFT) | PTE_R | PTE_W |
                   PTE_X | PTE_A | PTE_D | PTE_V;
  return SATP_SV32 | (boot.base_mfn + root_pfn);
}
