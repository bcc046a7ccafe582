/*
 * hello.c — the smallest native guest: a greeting, misa and mhartid.
 *
 * Rules of use: runs in M-mode from crt0 on any board of ours or QEMU `virt`; exits through
 * the test device. Failure codes: 1 misa.MXL is not RV32, 2 misa lacks one of I M A S U,
 * 3 mhartid is not 0.
 */
#include <stdint.h>

#include "common/console.h"
#include "common/csr.h"
#include "common/test.h"

int main(void) {
  con_puts("Hello from paravirt!\n");

  uint32_t misa = csr_read(misa);
  uint32_t hartid = csr_read(mhartid);
  con_printf("misa    = 0x%08x (RV%u", misa, (misa >> 30) == 1 ? 32u : 0u);
  for (char letter = 'A'; letter <= 'Z'; letter++) {
    if (misa & MISA_EXT(letter)) {
      con_putc(letter);
    }
  }
  con_puts(")\n");
  con_printf("mhartid = %u\n", hartid);

  uint32_t needed = MISA_EXT('I') | MISA_EXT('M') | MISA_EXT('A') | MISA_EXT('S') | MISA_EXT('U');
  check(1, "misa.MXL is 1 (RV32)", (misa >> 30) == 1);
  check(2, "misa has I, M, A, S and U", (misa & needed) == needed);
  check_eq(3, "mhartid is 0", hartid, 0);
  return 0;
}
