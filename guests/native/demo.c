/*
 * demo.c — the native showcase: a banner, an ASCII Mandelbrot set in fixed-point integer
 * arithmetic, the primes below 200 and the number of instructions all that took.
 *
 * Rules of use: M-mode from crt0, no traps expected, about 0.45 M instructions; exits with a
 * pass unless its own sanity checks fail (1: wrong prime count, 2: the Mandelbrot checksum
 * changed). The count comes from minstret, which only some machines make exact: QEMU
 * without -icount returns host CPU ticks there.
 */
#include <stdint.h>

#include "common/console.h"
#include "common/csr.h"
#include "common/test.h"

#define FRAC 12 /* fixed point: value = n / 2^FRAC */
#define FIX(num, den) ((int32_t)((int64_t)(num) * (1 << FRAC) / (den)))

#define COLS 72
#define ROWS 28
#define MAX_ITER 48
#define PRIME_LIMIT 200

/* Outside the set, by escape time (clamped to the last); inside the set, INSIDE. */
static const char shades[] = " .,:;-=+*o%#";
#define INSIDE '@'

/* Iterations until z escapes |z| > 2, or MAX_ITER. All values stay below 2^31. */
static uint32_t escape_time(int32_t cr, int32_t ci) {
  int32_t zr = 0;
  int32_t zi = 0;
  for (uint32_t n = 0; n < MAX_ITER; n++) {
    int32_t zr2 = (zr * zr) >> FRAC;
    int32_t zi2 = (zi * zi) >> FRAC;
    if (zr2 + zi2 > FIX(4, 1)) {
      return n;
    }
    zi = ((zr * zi) >> (FRAC - 1)) + ci;
    zr = zr2 - zi2 + cr;
  }
  return MAX_ITER;
}

/* Draws the set over [-2.2, 0.8] x [-1.2, 1.2]; returns a checksum of the picture. */
static uint32_t mandelbrot(void) {
  uint32_t sum = 0;
  for (int32_t row = 0; row < ROWS; row++) {
    int32_t ci = FIX(-12, 10) + row * FIX(24, 10 * (ROWS - 1));
    for (int32_t col = 0; col < COLS; col++) {
      int32_t cr = FIX(-22, 10) + col * FIX(30, 10 * (COLS - 1));
      uint32_t n = escape_time(cr, ci);
      char c = n >= MAX_ITER ? INSIDE : shades[n < sizeof shades - 2 ? n : sizeof shades - 2];
      con_putc(c);
      sum = sum * 31u + (uint32_t)c;
    }
    con_putc('\n');
  }
  return sum;
}

static uint32_t primes(void) {
  static uint8_t composite[PRIME_LIMIT];
  uint32_t count = 0;
  for (uint32_t n = 2; n < PRIME_LIMIT; n++) {
    if (composite[n]) {
      continue;
    }
    con_printf("%4u", n);
    if (++count % 12 == 0) {
      con_putc('\n');
    }
    for (uint32_t m = n * n; m < PRIME_LIMIT; m += n) {
      composite[m] = 1;
    }
  }
  con_putc('\n');
  return count;
}

int main(void) {
  uint64_t start = read_minstret64();
  con_puts("+--------------------------------------------------------------+\n");
  con_puts("|  paravirt: a RISC-V RV32IMA machine, running native code     |\n");
  con_puts("+--------------------------------------------------------------+\n\n");

  uint32_t picture = mandelbrot();
  con_printf("\nMandelbrot checksum 0x%08x\n\n", picture);

  con_printf("Primes below %u:\n", PRIME_LIMIT);
  uint32_t count = primes();

  uint64_t spent = read_minstret64() - start;
  con_printf("\n%u primes; this took %llu instructions (minstret)\n", count, spent);
  check_eq(1, "46 primes below 200", count, 46);
  check_eq(2, "Mandelbrot picture as expected", picture, 0x12C4C9A3u);
  return 0;
}
