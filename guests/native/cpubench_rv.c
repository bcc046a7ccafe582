/*
 * cpubench_rv.c — cpubench's guest platform: output on the UART, instret from minstret.
 *
 * Rules of use: linked only into the cpubench guest image (see cpubench.h).
 */
#include <stdint.h>

#include "common/console.h"
#include "common/csr.h"
#include "cpubench.h"

void plat_write(const char *s) {
  con_puts(s);
}

int plat_instret(uint64_t *count) {
  *count = read_minstret64();
  return 1;
}
