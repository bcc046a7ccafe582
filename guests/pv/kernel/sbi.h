/*
 * sbi.h — calls to the SBI firmware (on the board) or to the hypervisor's SBI service (as a PV
 * guest): ecall from S-mode with a7 = extension, a6 = function, a0-a2 = arguments.
 *
 * Rules of use: the kernel uses the base extension's probe to choose its pv-ops, and natively
 * the legacy console, the TIME extension and SRST. These work with paging off (boot_native.c
 * calls them before the kernel is mapped), so they are inline and touch no globals.
 */
#ifndef PVK_SBI_H
#define PVK_SBI_H
#include <stdint.h>

#include "paravirt_abi.h"

struct sbiret {
  long error;
  long value;
};

static inline struct sbiret sbi_call(uint32_t ext, uint32_t fid, uint32_t arg0, uint32_t arg1,
                                     uint32_t arg2) {
  register uint32_t a0 __asm__("a0") = arg0;
  register uint32_t a1 __asm__("a1") = arg1;
  register uint32_t a2 __asm__("a2") = arg2;
  register uint32_t a6 __asm__("a6") = fid;
  register uint32_t a7 __asm__("a7") = ext;
  __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a6), "r"(a7) : "memory");
  struct sbiret ret = {(long)a0, (long)a1};
  return ret;
}

/* SBI_EXT_BASE probe_extension: the extension's value (0 = absent). */
static inline long sbi_probe(uint32_t ext) {
  struct sbiret r = sbi_call(SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION, ext, 0, 0);
  return r.error != 0 ? 0 : r.value;
}

/* Legacy console putchar (extension 0x01). */
static inline void sbi_putchar(char c) {
  register uint32_t a0 __asm__("a0") = (uint8_t)c;
  register uint32_t a7 __asm__("a7") = SBI_LEGACY_PUTCHAR;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory", "a1");
}

/* TIME set_timer: the next supervisor timer interrupt at `ticks` of the time CSR. */
static inline void sbi_set_timer(uint64_t ticks) {
  sbi_call(SBI_EXT_TIME, 0, (uint32_t)ticks, (uint32_t)(ticks >> 32), 0);
}

#define SBI_SRST_SHUTDOWN 0
#define SBI_SRST_REASON_NONE 0
#define SBI_SRST_REASON_FAILURE 1

/* SRST system_reset: shut down (reason none = success, system failure = crash). */
static inline void sbi_system_reset(uint32_t type, uint32_t reason) {
  sbi_call(SBI_EXT_SRST, 0, type, reason, 0);
}

#endif
