/*
 * string.h — the few string and memory functions the kernel and the applications share.
 *
 * Rules of use: the usual C semantics. GCC may call memset/memcpy/memmove/memcmp on its own
 * (for struct copies and zeroing loops), so every binary links string.c.
 */
#ifndef PV_STRING_H
#define PV_STRING_H
#include <stddef.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Copies at most size-1 bytes and always NUL-terminates (size > 0); returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);

#endif
