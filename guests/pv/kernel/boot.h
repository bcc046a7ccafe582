/*
 * boot.h — what the kernel learned at boot, in one place for both ways of booting:
 * from start-info under the hypervisor (boot_pv.c) or from the device tree on the board
 * (boot_native.c, which also builds the tables the hypervisor's domain builder would have).
 *
 * Rules of use: `boot` is filled before kmain's first printk and read-only afterwards. The two
 * boot paths end in the same state: paging on, pfn p mapped at KERNEL_BASE + p * 4096, the
 * root table at boot.root_pfn, the frames from boot.first_free_pfn up free.
 */
#ifndef PVK_BOOT_H
#define PVK_BOOT_H
#include "types.h"

struct boot_info {
  bool pv;
  /* Pseudo-physical pages, all mapped in the linear map. */
  uint32_t nr_pages;
  /* First frame the allocator may hand out; everything below belongs to the boot layout. */
  pfn_t first_free_pfn;
  /* The kernel's root table and the frames of the initial tables (root first). */
  pfn_t root_pfn;
  pfn_t pt_first_pfn;
  uint32_t nr_pt_frames;
  /* Native: the machine frame of pfn 0 (the physical address the kernel was loaded at). */
  mfn_t base_mfn;
  /* PV: the P2M list, nr_pages machine frames. */
  const uint32_t *p2m;
  /* PV: machine address of the shared-info page; event channels of console and xenstore. */
  uint32_t shared_info_ma;
  uint32_t console_evtchn;
  uint32_t store_evtchn;
  uint32_t start_info_flags;
  /* Native: hart id, device-tree address, RAM, time base. */
  uint32_t hartid;
  uint32_t fdt_pa;
  uint64_t ram_base;
  uint64_t ram_size;
  uint32_t timebase_hz;
  char cmdline[MAX_GUEST_CMDLINE];
};

extern struct boot_info boot;

/* Boot path codes passed from entry.S to kmain. */
#define BOOT_NATIVE 0
#define BOOT_PV 1

/* boot_native.c: runs with paging off; returns the satp value to switch to (0 on failure,
 * after printing why through the SBI console). */
uint32_t native_early(uint32_t hartid, uint32_t fdt_pa, uint32_t phys_base);
/* boot_pv.c: reads start-info into `boot`; returns 0 or a negated errno. */
int pv_boot_info(const struct start_info *si);

/* Linker symbols. */
extern char _start[];
extern char _end[];

#endif
