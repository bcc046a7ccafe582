/*
 * mem.c — memset, memcpy, memmove and memcmp for freestanding code.
 *
 * Rules of use: GCC may emit calls to these four even with -ffreestanding (struct copies,
 * zeroing loops), so every image links them. Byte loops, built without the loop-to-libcall
 * transformation so they cannot end up calling themselves.
 */
#include <stddef.h>

#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LIBCALL void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  while (n-- > 0) {
    *d++ = (unsigned char)c;
  }
  return dst;
}

NO_LIBCALL void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n-- > 0) {
    *d++ = *s++;
  }
  return dst;
}

NO_LIBCALL void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (d < s) {
    while (n-- > 0) {
      *d++ = *s++;
    }
  } else {
    while (n-- > 0) {
      d[n] = s[n];
    }
  }
  return dst;
}

NO_LIBCALL int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a;
  const unsigned char *y = b;
  for (size_t i = 0; i < n; i++) {
    if (x[i] != y[i]) {
      return x[i] < y[i] ? -1 : 1;
    }
  }
  return 0;
}
