/*
 * test.c — test_exit and the check helpers declared in test.h.
 *
 * Rules of use: see test.h. test_exit never returns: after the store to the test device it
 * spins (a plain loop, because wfi is illegal in U-mode).
 */
#include <stdint.h>

#include "board.h"
#include "console.h"
#include "test.h"

void test_exit(uint32_t code) {
  code &= 0xFFFFu;
  mmio_write32(TEST_BASE, code == 0 ? TEST_PASS : (code << 16) | TEST_FAIL);
  for (;;) {
  }
}

void check(uint32_t code, const char *what, int ok) {
  if (ok) {
    con_printf("  ok   %s\n", what);
    return;
  }
  con_printf("  FAIL %s (exit code %u)\n", what, code);
  test_exit(code);
}

void check_eq(uint32_t code, const char *what, uint32_t got, uint32_t want) {
  if (got == want) {
    con_printf("  ok   %s\n", what);
    return;
  }
  con_printf("  FAIL %s: got 0x%08x, want 0x%08x (exit code %u)\n", what, got, want, code);
  test_exit(code);
}
