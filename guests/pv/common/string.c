/*
 * string.c — the functions of string.h, written plainly (byte loops, word loops when aligned).
 *
 * Rules of use: see string.h. Every PV binary is compiled with
 * -fno-tree-loop-distribute-patterns, so GCC does not turn these loops back into calls to
 * themselves.
 */
#include <stdint.h>

#include "string.h"

void *memset(void *dst, int c, size_t n) {
  uint8_t *d = dst;
  uint32_t word = (uint8_t)c * 0x01010101u;
  while (n > 0 && ((uintptr_t)d & 3) != 0) {
    *d++ = (uint8_t)c;
    n--;
  }
  for (; n >= 4; n -= 4, d += 4) *(uint32_t *)d = word;
  while (n-- > 0) *d++ = (uint8_t)c;
  return dst;
}

void *memcpy(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  if ((((uintptr_t)d | (uintptr_t)s) & 3) == 0) {
    for (; n >= 4; n -= 4, d += 4, s += 4) *(uint32_t *)d = *(const uint32_t *)s;
  }
  while (n-- > 0) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  if (d <= s || d >= s + n) return memcpy(dst, src, n);
  while (n-- > 0) d[n] = s[n];
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *x = a;
  const uint8_t *y = b;
  for (size_t i = 0; i < n; i++) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n] != '\0') n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a != '\0' && *a == *b) {
    a++;
    b++;
  }
  return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (; n > 0; n--, a++, b++) {
    if (*a != *b || *a == '\0') return (uint8_t)*a - (uint8_t)*b;
  }
  return 0;
}

size_t strlcpy(char *dst, const char *src, size_t size) {
  size_t len = strlen(src);
  if (size > 0) {
    size_t n = len < size - 1 ? len : size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
  }
  return len;
}
