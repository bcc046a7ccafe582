/*
 * cpubench_host.c — cpubench's host platform: output on stdout, no instruction counter.
 *
 * Rules of use: compiled only by the host's gcc, with cpubench.c, for `deno task bench`
 * (see cpubench.h); never part of a guest image.
 */
#include <stdint.h>
#include <stdio.h>

#include "cpubench.h"

void plat_write(const char *s) {
  fputs(s, stdout);
}

int plat_instret(uint64_t *count) {
  *count = 0;
  return 0;
}
