/*
 * boot_pv.c — the hypervisor's boot path: reads the start-info page (public/README.md, "Image
 * and entry") into `boot`.
 *
 * Rules of use: called by kmain first thing when entry.S saw it was started with paging on.
 * The layout after the image is fixed by the contract: start-info, the P2M list, the page
 * tables (root first), the console ring, the xenstore ring; free frames follow. We check the
 * parts we can (magic, the page-table base, the ring frames against the P2M) and refuse to run
 * on a layout we do not understand rather than hand out a frame that is in use.
 */
#include "boot.h"
#include "console.h"
#include "string.h"

int pv_boot_info(const struct start_info *si) {
  boot.pv = true;
  if (memcmp(si->magic, START_INFO_MAGIC, sizeof(START_INFO_MAGIC)) != 0) {
    printk("pvkernel: bad start-info magic\n");
    return ERR(EINVAL);
  }
  uint32_t si_va = (uint32_t)(uintptr_t)si;
  uint32_t expected = ALIGN_UP((uint32_t)(uintptr_t)_end, PAGE_SIZE);
  if (si_va != expected) {
    printk("pvkernel: start-info at %p, expected right after the image at %p\n", si,
           (void *)(uintptr_t)expected);
    return ERR(EINVAL);
  }
  if (si->nr_pages == 0 || si->nr_pages > MAX_PAGES) {
    printk("pvkernel: start-info nr_pages %u out of range\n", si->nr_pages);
    return ERR(EINVAL);
  }
  boot.nr_pages = si->nr_pages;
  boot.p2m = (const uint32_t *)(uintptr_t)si->mfn_list;
  boot.shared_info_ma = si->shared_info;
  boot.console_evtchn = si->console_evtchn;
  boot.store_evtchn = si->store_evtchn;
  boot.start_info_flags = si->flags;
  boot.timebase_hz = 10000000u;
  strlcpy(boot.cmdline, (const char *)si->cmd_line, sizeof(boot.cmdline));

  if (si->pt_base < KERNEL_BASE || (si->pt_base & (PAGE_SIZE - 1)) != 0) {
    printk("pvkernel: start-info pt_base %p is not a page in the linear map\n",
           (void *)(uintptr_t)si->pt_base);
    return ERR(EINVAL);
  }
  boot.root_pfn = va_to_pfn((const void *)(uintptr_t)si->pt_base);
  boot.pt_first_pfn = boot.root_pfn;
  boot.nr_pt_frames = si->nr_pt_frames;
  pfn_t console_pfn = boot.root_pfn + si->nr_pt_frames;
  boot.first_free_pfn = console_pfn + 2;
  if (si->nr_pt_frames == 0 || boot.first_free_pfn >= boot.nr_pages) {
    printk("pvkernel: start-info nr_pt_frames %u leaves no free memory\n", si->nr_pt_frames);
    return ERR(EINVAL);
  }
  pfn_t p2m_pfn = va_to_pfn(boot.p2m);
  if (p2m_pfn != va_to_pfn(si) + 1 || si->first_p2m_pfn != p2m_pfn ||
      p2m_pfn + si->nr_p2m_frames != boot.root_pfn) {
    printk("pvkernel: P2M list at pfn %u (+%u frames) does not sit between start-info and the "
           "page tables\n",
           p2m_pfn, si->nr_p2m_frames);
    return ERR(EINVAL);
  }
  if (si->console_mfn != boot.p2m[console_pfn] || si->store_mfn != boot.p2m[console_pfn + 1]) {
    printk("pvkernel: console/xenstore ring frames are not the two pages after the page "
           "tables\n");
    return ERR(EINVAL);
  }
  return 0;
}
