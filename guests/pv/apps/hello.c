/*
 * hello.c — the smallest application: one line from U-mode through SYS_write.
 *
 * Rules of use: yields once (SYS_yield: under the hypervisor a lone process yields the vCPU),
 * sleeps 2 ms and checks that SYS_time moved at least that far (the kernel's timer, idle wait
 * and wake-up, natively and through VIRQ_TIMER), prints "hello: ..." and ends with "app hello: done checksum=..." where the checksum is the
 * FNV-1a hash of the greeting (the same natively and as a PV guest).
 */
#include "ulib.h"

int main(const char *cmdline) {
  (void)cmdline;
  if (sys_call(SYS_yield, 0, 0) != 0) return app_fail("hello", "SYS_yield failed");
  uint64_t before = sys_time_ns();
  sys_sleep_ns(2000000);
  uint64_t slept = sys_time_ns() - before;
  if (slept < 2000000) return app_fail("hello", "slept %llu ns of 2000000", slept);
  const char *greeting = "hello from a U-mode application";
  uint32_t hash = 2166136261u;
  for (const char *p = greeting; *p != '\0'; p++) hash = (hash ^ (uint8_t)*p) * 16777619u;
  printf("hello: %s (pid %ld, %s)\n", greeting, sys_getpid(),
         sys_pv_mode() == 1 ? "paravirtualized" : "native");
  return app_done("hello", hash);
}
