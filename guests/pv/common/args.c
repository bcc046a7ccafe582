/*
 * args.c — the command-line reader of args.h.
 *
 * Rules of use: see args.h.
 */
#include "args.h"

/* Returns a pointer to the value of `key` in cmdline (after the `=`), or NULL. */
static const char *find(const char *cmdline, const char *key) {
  const char *p = cmdline;
  while (*p != '\0') {
    while (*p == ' ') p++;
    const char *word = p;
    const char *k = key;
    while (*k != '\0' && *p == *k) {
      p++;
      k++;
    }
    if (*k == '\0' && *p == '=') return p + 1;
    p = word;
    while (*p != '\0' && *p != ' ') p++;
  }
  return NULL;
}

int arg_str(const char *cmdline, const char *key, char *buf, size_t size) {
  const char *v = find(cmdline, key);
  if (v == NULL) return 0;
  size_t n = 0;
  while (v[n] != '\0' && v[n] != ' ') {
    if (n + 1 < size) buf[n] = v[n];
    n++;
  }
  if (size > 0) buf[n < size ? n : size - 1] = '\0';
  return 1;
}

uint32_t arg_u32(const char *cmdline, const char *key, uint32_t fallback, int *ok) {
  if (ok != NULL) *ok = 1;
  const char *v = find(cmdline, key);
  if (v == NULL) return fallback;
  uint32_t base = 10;
  if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    base = 16;
    v += 2;
  }
  uint64_t value = 0;
  int digits = 0;
  for (; *v != '\0' && *v != ' '; v++, digits++) {
    uint32_t d;
    if (*v >= '0' && *v <= '9') {
      d = (uint32_t)(*v - '0');
    } else if (base == 16 && *v >= 'a' && *v <= 'f') {
      d = (uint32_t)(*v - 'a' + 10);
    } else if (base == 16 && *v >= 'A' && *v <= 'F') {
      d = (uint32_t)(*v - 'A' + 10);
    } else {
      digits = -1;
      break;
    }
    value = value * base + d;
    if (value > 0xFFFFFFFFu) {
      digits = -1;
      break;
    }
  }
  if (digits <= 0) {
    if (ok != NULL) *ok = 0;
    return fallback;
  }
  return (uint32_t)value;
}
