/*
 * htif.c — a program that reports its result through HTIF `tohost` instead of the test
 * device, as riscv-tests binaries do.
 *
 * Rules of use: `tohost` and `fromhost` are global 64-bit, 8-byte aligned symbols in the
 * .tohost section; a loader finds them in the ELF symbol table. The program ends by
 * storing 1 (pass) or (code << 1) | 1 (failure `code`) to tohost, high word first, so the
 * 64-bit value is complete once the low word — the store a host reacts to — lands; then it
 * spins and never returns to crt0. QEMU `virt` has no HTIF: there it prints and spins.
 * Failure codes: 1 tohost is not 8-byte aligned, 2 fromhost is not 8-byte aligned.
 */
#include <stdint.h>

#include "common/console.h"

volatile uint64_t tohost __attribute__((section(".tohost"), aligned(8))) = 0;
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(8))) = 0;

static void htif_exit(uint32_t code) __attribute__((noreturn));

static void htif_exit(uint32_t code) {
  uint32_t value = code == 0 ? 1u : (code << 1) | 1u;
  volatile uint32_t *words = (volatile uint32_t *)&tohost;
  words[1] = 0;
  words[0] = value;
  for (;;) {
  }
}

int main(void) {
  con_puts("htif: reporting through tohost\n");
  con_printf("  tohost at 0x%08x, fromhost at 0x%08x\n", (uint32_t)&tohost,
             (uint32_t)&fromhost);
  if (((uint32_t)&tohost & 7u) != 0) {
    con_puts("  FAIL tohost is not 8-byte aligned\n");
    htif_exit(1);
  }
  if (((uint32_t)&fromhost & 7u) != 0) {
    con_puts("  FAIL fromhost is not 8-byte aligned\n");
    htif_exit(2);
  }
  con_puts("  ok   tohost and fromhost are 8-byte aligned\n");
  con_puts("htif: writing 1 to tohost\n");
  htif_exit(0);
}
