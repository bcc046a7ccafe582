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
#include <stdint.h>

#include "format.h"

void console_write(const char *buf, size_t len);
/* Typed input: copies up to len bytes that have arrived, returns how many (0 if none). From the
 * console ring with console=ring, else console_io(CONSOLEIO_read), natively the SBI legacy
 * getchar. */
uint32_t console_read(char *buf, uint32_t len);
/* Waits until input may have arrived or the deadline (0: none) passes. PV: woken by the console
 * ring's event or VIRQ_CONSOLE; natively it polls every 10 ms. */
void console_wait_input(uint64_t deadline_ns);
void printk(const char *fmt, ...);
__attribute__((noreturn)) void panic(const char *fmt, ...);

#endif
