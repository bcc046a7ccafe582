/*
 * console.c — the polled 16550 UART console declared in console.h.
 *
 * Rules of use: see console.h. Formatting uses 64-bit division only when a `ll` conversion
 * asks for it (libgcc's __udivdi3); 32-bit numbers use the M extension's divu/remu.
 */
#include <stdarg.h>
#include <stdint.h>

#include "board.h"
#include "console.h"

void con_putc(char c) {
  while ((mmio_read8(UART_LSR) & UART_LSR_THRE) == 0) {
  }
  mmio_write8(UART_THR, (uint8_t)c);
}

void con_puts(const char *s) {
  while (*s != '\0') {
    con_putc(*s++);
  }
}

/* Writes `value` in `base` (10 or 16), at least `width` characters, left-padded with `pad`. */
static void put_number(uint64_t value, uint32_t base, int upper, int width, char pad) {
  static const char lower_digits[] = "0123456789abcdef";
  static const char upper_digits[] = "0123456789ABCDEF";
  const char *digits = upper ? upper_digits : lower_digits;
  char buf[24];
  int n = 0;
  if (value <= 0xFFFFFFFFu) {
    uint32_t v = (uint32_t)value;
    do {
      buf[n++] = digits[v % base];
      v /= base;
    } while (v != 0);
  } else {
    do {
      buf[n++] = digits[value % base];
      value /= base;
    } while (value != 0);
  }
  while (n < width) {
    buf[n++] = pad;
  }
  while (n > 0) {
    con_putc(buf[--n]);
  }
}

void con_put_dec(uint32_t value) {
  put_number(value, 10, 0, 0, ' ');
}

void con_put_dec64(uint64_t value) {
  put_number(value, 10, 0, 0, ' ');
}

void con_put_hex(uint32_t value) {
  con_puts("0x");
  put_number(value, 16, 0, 8, '0');
}

void con_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  for (const char *p = fmt; *p != '\0'; p++) {
    if (*p != '%') {
      con_putc(*p);
      continue;
    }
    p++;
    char pad = ' ';
    int width = 0;
    int longs = 0;
    if (*p == '0') {
      pad = '0';
      p++;
    }
    while (*p >= '0' && *p <= '9') {
      width = width * 10 + (*p - '0');
      p++;
    }
    while (*p == 'l') {
      longs++;
      p++;
    }
    switch (*p) {
      case 'c':
        con_putc((char)va_arg(ap, int));
        break;
      case 's': {
        const char *s = va_arg(ap, const char *);
        int len = 0;
        while (s[len] != '\0') {
          len++;
        }
        for (; len < width; len++) {
          con_putc(' ');
        }
        con_puts(s);
        break;
      }
      case 'd': {
        int64_t v = longs >= 2 ? va_arg(ap, int64_t) : (int64_t)va_arg(ap, int32_t);
        if (v < 0) {
          con_putc('-');
          v = -v;
          if (width > 0) {
            width--;
          }
        }
        put_number((uint64_t)v, 10, 0, width, pad);
        break;
      }
      case 'u':
        put_number(longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t), 10, 0, width, pad);
        break;
      case 'x':
      case 'X':
        put_number(longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t), 16, *p == 'X',
                   width, pad);
        break;
      case 'p':
        con_put_hex((uint32_t)va_arg(ap, void *));
        break;
      case '%':
        con_putc('%');
        break;
      case '\0':
        p--; /* a lone '%' at the end: stop at the terminator */
        break;
      default:
        con_putc('%');
        con_putc(*p);
        break;
    }
  }
  va_end(ap);
}
