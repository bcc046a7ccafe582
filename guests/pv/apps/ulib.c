/*
 * ulib.c — the application runtime of ulib.h.
 *
 * Rules of use: see ulib.h. System calls follow pvk_syscall.h: ecall with a7 = number.
 */
#include "ulib.h"

#include <stdarg.h>

long sys_call(uint32_t nr, uint32_t arg0, uint32_t arg1) {
  register uint32_t a0 __asm__("a0") = arg0;
  register uint32_t a1 __asm__("a1") = arg1;
  register uint32_t a7 __asm__("a7") = nr;
  __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a7) : "memory");
  return (long)a0;
}

long sys_call4(uint32_t nr, uint32_t arg0, uint32_t arg1, uint32_t arg2, uint32_t arg3) {
  register uint32_t a0 __asm__("a0") = arg0;
  register uint32_t a1 __asm__("a1") = arg1;
  register uint32_t a2 __asm__("a2") = arg2;
  register uint32_t a3 __asm__("a3") = arg3;
  register uint32_t a7 __asm__("a7") = nr;
  __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a3), "r"(a7) : "memory");
  return (long)a0;
}

long sys_write(const char *buf, uint32_t len) {
  return sys_call(SYS_write, (uint32_t)(uintptr_t)buf, len);
}

void sys_exit(int status) {
  sys_call(SYS_exit, (uint32_t)status, 0);
  for (;;) {
  }
}

void sys_yield(void) { sys_call(SYS_yield, 0, 0); }

void sys_sleep_ns(uint64_t ns) { sys_call(SYS_sleep, (uint32_t)ns, (uint32_t)(ns >> 32)); }

uint64_t sys_time_ns(void) {
  register uint32_t a0 __asm__("a0") = 0;
  register uint32_t a1 __asm__("a1") = 0;
  register uint32_t a7 __asm__("a7") = SYS_time;
  __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a7) : "memory");
  return ((uint64_t)a1 << 32) | a0;
}

long sys_getpid(void) { return sys_call(SYS_getpid, 0, 0); }
long sys_mem_map(uint32_t va, uint32_t pages) { return sys_call(SYS_mem_map, va, pages); }
long sys_mem_unmap(uint32_t va, uint32_t pages) { return sys_call(SYS_mem_unmap, va, pages); }
long sys_mem_held(void) { return sys_call(SYS_mem_held, 0, 0); }
long sys_evtchn_send(uint32_t port) { return sys_call(SYS_evtchn_send, port, 0); }
long sys_evtchn_wait(uint32_t port) { return sys_call(SYS_evtchn_wait, port, 0); }
long sys_pv_mode(void) { return sys_call(SYS_pv_mode, 0, 0); }

long sys_blk_info(uint32_t dev, struct pvk_blk_info *info) {
  return sys_call(SYS_blk_info, dev, (uint32_t)(uintptr_t)info);
}

long sys_blk_submit(uint32_t dev, const struct pvk_blk_req *req) {
  return sys_call(SYS_blk_submit, dev, (uint32_t)(uintptr_t)req);
}

long sys_blk_reap(uint32_t dev, struct pvk_blk_done *done, uint32_t max, uint32_t min) {
  return sys_call4(SYS_blk_reap, dev, (uint32_t)(uintptr_t)done, max, min);
}

long sys_net_info(uint32_t dev, struct pvk_net_info *info) {
  return sys_call(SYS_net_info, dev, (uint32_t)(uintptr_t)info);
}

long sys_net_send(uint32_t dev, const void *frame, uint32_t len) {
  return sys_call4(SYS_net_send, dev, (uint32_t)(uintptr_t)frame, len, 0);
}

long sys_net_recv(uint32_t dev, void *buf, uint32_t size, uint32_t timeout_ms) {
  return sys_call4(SYS_net_recv, dev, (uint32_t)(uintptr_t)buf, size, timeout_ms);
}

long sys_console_read(char *buf, uint32_t size, uint32_t timeout_ms) {
  return sys_call4(SYS_console_read, (uint32_t)(uintptr_t)buf, size, timeout_ms, 0);
}

long map_pages(uint32_t va, uint32_t pages) {
  while (pages > 0) {
    uint32_t n = pages > USER_MAP_MAX ? USER_MAP_MAX : pages;
    long rc = sys_mem_map(va, n);
    if (rc != (long)n) return rc < 0 ? rc : -(long)ENOMEM;
    va += n * 4096;
    pages -= n;
  }
  return 0;
}

const char *fixed2(char *buf, uint32_t size, uint64_t hundredths) {
  format(buf, size, "%llu.%02u", hundredths / 100, (uint32_t)(hundredths % 100));
  return buf;
}

int printf(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vformat(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  sys_write(buf, n < (int)sizeof(buf) ? (uint32_t)n : sizeof(buf) - 1);
  return n;
}

uint64_t rdtime(void) {
  uint32_t hi, lo, again;
  do {
    __asm__ volatile("rdtimeh %0" : "=r"(hi));
    __asm__ volatile("rdtime %0" : "=r"(lo));
    __asm__ volatile("rdtimeh %0" : "=r"(again));
  } while (hi != again);
  return ((uint64_t)hi << 32) | lo;
}

uint64_t rdinstret(void) {
  uint32_t hi, lo, again;
  do {
    __asm__ volatile("rdinstreth %0" : "=r"(hi));
    __asm__ volatile("rdinstret %0" : "=r"(lo));
    __asm__ volatile("rdinstreth %0" : "=r"(again));
  } while (hi != again);
  return ((uint64_t)hi << 32) | lo;
}

int app_done(const char *name, uint32_t checksum) {
  printf("app %s: done checksum=0x%08x\n", name, checksum);
  return 0;
}

int app_fail(const char *name, const char *fmt, ...) {
  char buf[200];
  va_list ap;
  va_start(ap, fmt);
  vformat(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  printf("app %s: FAIL %s\n", name, buf);
  return 1;
}
