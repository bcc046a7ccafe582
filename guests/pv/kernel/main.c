/*
 * main.c — kmain: the boot sequence shared by both ways of booting, then the jobs.
 *
 * Rules of use: entered from entry.S with paging on, the kernel mapped at KERNEL_BASE, the boot
 * stack, interrupts off, and path = BOOT_PV (si = start-info) or BOOT_NATIVE (`boot` already
 * filled by native_early). Order matters: the pv-ops first (everything else uses them), then
 * the frames, paging (the fixmap must exist before any process root copies the kernel half),
 * events (PV: shared-info, which system time needs), the timer, threads, the console ring if
 * asked for (consfront.h), and the jobs.
 * Console protocol: the first line is "pvkernel: booting mode=<native|xen> pages=N
 * cmdline=\"...\"".
 */
#include "apps.h"
#include "boot.h"
#include "consfront.h"
#include "console.h"
#include "csr.h"
#include "events.h"
#include "frame.h"
#include "paging.h"
#include "pvops.h"
#include "thread.h"
#include "timer.h"
#include "trap.h"

__attribute__((noreturn)) void kmain(uint32_t path, const struct start_info *si);

void kmain(uint32_t path, const struct start_info *si) {
  trap_init();
  pvops_select();
  if (path == BOOT_PV) {
    if (!pv->paravirtualized) panic("started with paging on, but the SBI probe says bare hardware");
    if (pv_boot_info(si) != 0) panic("unusable start-info");
  } else if (pv->paravirtualized) {
    panic("started with paging off, but the SBI probe says paravirtualized");
  }
  /* The kernel reads user buffers directly (after checking them) and lets U-mode read the
   * counters (time for the benchmarks). */
  csr_set(sstatus, SSTATUS_SUM);
  csr_write(scounteren, 7u);
  printk("pvkernel: booting mode=%s pages=%u cmdline=\"%s\"\n", pv->name, boot.nr_pages,
         boot.cmdline);
  frame_init(boot.nr_pages, boot.first_free_pfn);
  paging_init();
  if (pv->paravirtualized) events_init();
  timer_init();
  thread_init();
  /* The console ring (console=ring|auto): console=auto asks xenstore, which needs threads. */
  consfront_init(boot.cmdline);
  printk("pvkernel: ready: %u free frames, time %llu ns\n", frame_free_count(), now_ns());
  int failed = apps_run(boot.cmdline);
  pv->shutdown(failed == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash);
}
