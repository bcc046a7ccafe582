/*
 * primes.c — the CPU-bound job of the PV-overhead benchmark: counts the primes below n by trial
 * division (command line n=..., default 20000) and hashes them.
 *
 * Rules of use: the work is pure U-mode computation with no system call until the end, so the
 * same binary measures the cost of running under the hypervisor against running on the board.
 * The instruction count grows about as n^1.5 / ln n (n=20000: ~2 M; n=1000000: ~120 M).
 * Output: "primes: n=N count=C ticks=T" (time CSR ticks) and the protocol's closing line with
 * the FNV-1a hash of all primes found.
 */
#include "ulib.h"

static int is_prime(uint32_t k) {
  if (k < 2) return 0;
  if (k < 4) return 1;
  if ((k & 1) == 0) return 0;
  for (uint32_t d = 3; d * d <= k; d += 2) {
    if (k % d == 0) return 0;
  }
  return 1;
}

int main(const char *cmdline) {
  int ok;
  uint32_t n = arg_u32(cmdline, "n", 20000, &ok);
  if (!ok || n > 100000000u) return app_fail("primes", "bad n= (0 .. 100000000)");
  uint64_t start = rdtime();
  uint32_t count = 0;
  uint32_t hash = 2166136261u;
  for (uint32_t k = 2; k < n; k++) {
    if (is_prime(k)) {
      count++;
      hash = (hash ^ k) * 16777619u;
    }
  }
  uint64_t ticks = rdtime() - start;
  printf("primes: n=%u count=%u ticks=%llu\n", n, count, ticks);
  return app_done("primes", hash ^ count);
}
