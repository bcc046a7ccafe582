/*
 * format.c — the vsnprintf of format.h.
 *
 * Rules of use: see format.h. 32-bit numbers use the M extension's divu/remu; only `ll`
 * conversions of values above 32 bits reach libgcc's 64-bit division.
 */
#include <stdint.h>

#include "format.h"

struct out {
  char *buf;
  size_t size;
  size_t len;
};

static void put(struct out *o, char c) {
  if (o->len + 1 < o->size) o->buf[o->len] = c;
  o->len++;
}

static void put_number(struct out *o, uint64_t value, unsigned base, int upper, int width,
                       char pad, int negative) {
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  int n = 0;
  if (value <= 0xFFFFFFFFu) {
    uint32_t v = (uint32_t)value;
    do {
      tmp[n++] = digits[v % base];
      v /= base;
    } while (v != 0);
  } else {
    do {
      tmp[n++] = digits[value % base];
      value /= base;
    } while (value != 0);
  }
  if (negative && pad == '0') {
    put(o, '-');
    width--;
  }
  int total = n + (negative && pad != '0' ? 1 : 0);
  for (; total < width; total++) put(o, pad);
  if (negative && pad != '0') put(o, '-');
  while (n > 0) put(o, tmp[--n]);
}

int vformat(char *buf, size_t size, const char *fmt, va_list ap) {
  struct out o = {buf, size, 0};
  for (; *fmt != '\0'; fmt++) {
    if (*fmt != '%') {
      put(&o, *fmt);
      continue;
    }
    fmt++;
    char pad = ' ';
    int width = 0;
    int longs = 0;
    if (*fmt == '0') {
      pad = '0';
      fmt++;
    }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l') {
      longs++;
      fmt++;
    }
    switch (*fmt) {
      case 'c':
        put(&o, (char)va_arg(ap, int));
        break;
      case 's': {
        const char *s = va_arg(ap, const char *);
        if (s == NULL) s = "(null)";
        int n = 0;
        while (s[n] != '\0') n++;
        for (; n < width; n++) put(&o, ' ');
        while (*s != '\0') put(&o, *s++);
        break;
      }
      case 'd': {
        int64_t v = longs >= 2 ? va_arg(ap, int64_t) : (int64_t)va_arg(ap, int32_t);
        uint64_t magnitude = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        put_number(&o, magnitude, 10, 0, width, pad, v < 0);
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        uint64_t v = longs >= 2 ? va_arg(ap, uint64_t) : (uint64_t)va_arg(ap, uint32_t);
        put_number(&o, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, pad, 0);
        break;
      }
      case 'p':
        put(&o, '0');
        put(&o, 'x');
        put_number(&o, (uintptr_t)va_arg(ap, void *), 16, 0, 8, '0', 0);
        break;
      case '%':
        put(&o, '%');
        break;
      case '\0':
        fmt--;
        break;
      default:
        put(&o, '%');
        put(&o, *fmt);
        break;
    }
  }
  if (size > 0) buf[o.len < size ? o.len : size - 1] = '\0';
  return (int)o.len;
}

int format(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vformat(buf, size, fmt, ap);
  va_end(ap);
  return n;
}
