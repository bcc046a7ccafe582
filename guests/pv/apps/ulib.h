/*
 * ulib.h — the applications' runtime: system calls (pvk_syscall.h), printf on the console,
 * command-line arguments (args.h), and the closing line of the console protocol.
 *
 * Rules of use: every application ends with app_done(name, checksum) on success (prints
 * "app <name>: done checksum=0x%08x" and returns 0 for main to return) or app_fail(name, why)
 * (prints "app <name>: FAIL <why>" and returns 1). Errors are Xen errno values
 * (paravirt_abi.h), negated.
 */
#ifndef ULIB_H
#define ULIB_H
#include <stdbool.h>
#include <stdint.h>

#include "args.h"
#include "format.h"
#include "paravirt_abi.h"
#include "pvk_syscall.h"
#include "string.h"

long sys_call(uint32_t nr, uint32_t a0, uint32_t a1);
long sys_call4(uint32_t nr, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3);
long sys_write(const char *buf, uint32_t len);
__attribute__((noreturn)) void sys_exit(int status);
void sys_yield(void);
void sys_sleep_ns(uint64_t ns);
uint64_t sys_time_ns(void);
long sys_getpid(void);
long sys_mem_map(uint32_t va, uint32_t pages);
long sys_mem_unmap(uint32_t va, uint32_t pages);
long sys_mem_held(void);
long sys_evtchn_send(uint32_t port);
long sys_evtchn_wait(uint32_t port);
long sys_pv_mode(void);
long sys_blk_info(uint32_t dev, struct pvk_blk_info *info);
long sys_blk_submit(uint32_t dev, const struct pvk_blk_req *req);
long sys_blk_reap(uint32_t dev, struct pvk_blk_done *done, uint32_t max, uint32_t min);
long sys_net_info(uint32_t dev, struct pvk_net_info *info);
long sys_net_send(uint32_t dev, const void *frame, uint32_t len);
long sys_net_recv(uint32_t dev, void *buf, uint32_t size, uint32_t timeout_ms);
long sys_console_read(char *buf, uint32_t size, uint32_t timeout_ms);
/* Maps `pages` fresh pages at va, in calls of at most USER_MAP_MAX; returns 0 or -errno. */
long map_pages(uint32_t va, uint32_t pages);
/* "a.bc" for value/100 (MB/s and the like): writes into buf, returns buf. */
const char *fixed2(char *buf, uint32_t size, uint64_t hundredths);

int printf(const char *fmt, ...);
uint64_t rdtime(void);
uint64_t rdinstret(void);

int app_done(const char *name, uint32_t checksum);
int app_fail(const char *name, const char *fmt, ...);

#endif
