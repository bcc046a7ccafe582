/*
 * console.h — a libc-free console on the board's 16550 UART.
 *
 * Rules of use: output only, polled (waits for LSR.THRE before each byte), no
 * initialisation needed. Bytes go out exactly as given: "\n" is not turned into "\r\n", so
 * captured output is identical on every machine. The UART must be reachable at its
 * physical address (M-mode, bare S/U mode, or an identity mapping under Sv32). Not
 * reentrant: do not print from a trap handler while the interrupted code may be printing.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stdint.h>

/* Writes one byte. */
void con_putc(char c);

/* Writes a NUL-terminated string. */
void con_puts(const char *s);

/* Writes an unsigned number in decimal. */
void con_put_dec(uint32_t value);

/* Writes a 64-bit unsigned number in decimal. */
void con_put_dec64(uint64_t value);

/* Writes "0x" and eight hex digits. */
void con_put_hex(uint32_t value);

/*
 * A minimal printf: %c %s %d %u %x %X %p %% with an optional '0' flag and a width. Plain
 * %d/%u/%x take any 32-bit integer (int or uint32_t: on this target uint32_t is `unsigned
 * long`, which is why there is no format attribute); `ll` takes int64_t/uint64_t. %p prints
 * "0x" and eight hex digits.
 */
void con_printf(const char *fmt, ...);

#endif
