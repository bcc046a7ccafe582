/*
 * cpubench.h — the platform interface of cpubench.c, so the same benchmark source builds
 * as a guest image (cpubench_rv.c: UART, minstret) and as a host program (cpubench_host.c:
 * stdio, no instruction counter).
 *
 * Rules of use: cpubench.c is the only caller; a platform file implements both functions
 * and nothing else. All benchmark arithmetic is uint32_t so every platform prints the same
 * checksums.
 */
#ifndef CPUBENCH_H
#define CPUBENCH_H

#include <stdint.h>

/* Writes a NUL-terminated string to the platform's output, unchanged. */
void plat_write(const char *s);

/* Stores the instructions retired so far in *count and returns 1, or returns 0 if the
 * platform cannot count them. */
int plat_instret(uint64_t *count);

#endif
