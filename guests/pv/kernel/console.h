/*
 * console.h — the kernel's console driver: printk and panic on top of the pv-ops console
 * (SBI legacy console on the board, console_io under the hypervisor).
 *
 * Rules of use: printk formats into a 256-byte buffer (format.h conversions) and writes it in
 * one pv-ops call, so a line is never interleaved with another's. Kernel messages start with
 * "pvkernel: ". panic prints "pvkernel: panic: ..." and shuts down with SHUTDOWN_crash.
 */
#ifndef PVK_CONSOLE_H
#define PVK_CONSOLE_H
#include <stddef.h>

#include "format.h"

void console_write(const char *buf, size_t len);
void printk(const char *fmt, ...);
__attribute__((noreturn)) void panic(const char *fmt, ...);

#endif
