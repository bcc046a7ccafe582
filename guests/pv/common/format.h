/*
 * format.h — a small vsnprintf shared by the kernel and the applications.
 *
 * Rules of use: conversions %c %s %d %u %x %X %p %% with an optional `0` flag, a width and the
 * `l` / `ll` length modifiers (`ll` is 64-bit; `l` is 32-bit on RV32). The output is always
 * NUL-terminated and truncated to the buffer; the return value is the untruncated length.
 * The compiler does not check the format strings (uint32_t is `long` in this toolchain, which
 * its checker would flag everywhere): pass 32-bit values to %u/%x/%d and 64-bit ones to %ll*.
 */
#ifndef PV_FORMAT_H
#define PV_FORMAT_H
#include <stdarg.h>
#include <stddef.h>

int vformat(char *buf, size_t size, const char *fmt, va_list ap);
int format(char *buf, size_t size, const char *fmt, ...);

#endif
