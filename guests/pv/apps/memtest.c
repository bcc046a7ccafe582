/*
 * memtest.c — the memory exerciser: asks the kernel for fresh pages (under the hypervisor they
 * come from increase_reservation and go back with decrease_reservation; natively from the
 * kernel's frame allocator), fills them with a pattern, verifies it, and gives them back.
 *
 * Rules of use: command line pages=P (1..256, default 64), rounds=R (default 3), fault=1 to
 * touch a page after giving it back (the kernel must kill us with a clear page-fault report,
 * so the run fails on purpose). Each round checks that the kernel's frame count (SYS_mem_held)
 * grows by exactly P and returns to where it was, so no other process may map heap pages at the
 * same time, and that bad requests are refused. Under the hypervisor the domain's maximum
 * reservation must leave room for P + 1 more pages. Output:
 * "memtest: round r ok" per round and the protocol line; the checksum depends only on P and R.
 */
#include "ulib.h"

#define BASE USER_HEAP_BASE

static uint32_t pattern(uint32_t addr, uint32_t round) {
  uint32_t x = addr ^ (round * 0x9E3779B9u);
  x ^= x >> 15;
  x *= 0x2C1B3C6Du;
  x ^= x >> 12;
  return x;
}

int main(const char *cmdline) {
  int ok_pages, ok_rounds, ok_fault;
  uint32_t pages = arg_u32(cmdline, "pages", 64, &ok_pages);
  uint32_t rounds = arg_u32(cmdline, "rounds", 3, &ok_rounds);
  uint32_t fault = arg_u32(cmdline, "fault", 0, &ok_fault);
  if (!ok_pages || pages == 0 || pages > USER_MAP_MAX) return app_fail("memtest", "bad pages=");
  if (!ok_rounds || rounds == 0) return app_fail("memtest", "bad rounds=");
  if (!ok_fault) return app_fail("memtest", "bad fault=");

  /* Warm-up: the first mapping in the window makes the kernel's leaf table for it. */
  long rc = sys_mem_map(BASE, 1);
  if (rc != 1) return app_fail("memtest", "warm-up mem_map returned %ld", rc);
  rc = sys_mem_unmap(BASE, 1);
  if (rc != 1) return app_fail("memtest", "warm-up mem_unmap returned %ld", rc);
  long held0 = sys_mem_held();
  if (held0 < 0) return app_fail("memtest", "mem_held returned %ld", held0);

  uint32_t hash = 2166136261u;
  for (uint32_t r = 0; r < rounds; r++) {
    rc = sys_mem_map(BASE, pages);
    if (rc != (long)pages) return app_fail("memtest", "mem_map(%u pages) returned %ld", pages, rc);
    long held1 = sys_mem_held();
    if (held1 != held0 + (long)pages) {
      return app_fail("memtest", "holding %ld frames after mapping %u, expected %ld", held1,
                      pages, held0 + (long)pages);
    }
    rc = sys_mem_map(BASE, 1);
    if (rc != -(long)EEXIST) return app_fail("memtest", "mapping a mapped page returned %ld", rc);
    rc = sys_mem_map(BASE + 123, 1);
    if (rc != -(long)EINVAL) return app_fail("memtest", "a misaligned mem_map returned %ld", rc);
    rc = sys_mem_map(0x1000, 1);
    if (rc != -(long)EINVAL) return app_fail("memtest", "mem_map outside the heap returned %ld", rc);

    volatile uint32_t *words = (volatile uint32_t *)(uintptr_t)BASE;
    uint32_t n = pages * 1024;
    for (uint32_t i = 0; i < n; i++) words[i] = pattern(BASE + 4 * i, r);
    for (uint32_t i = 0; i < n; i++) {
      uint32_t want = pattern(BASE + 4 * i, r);
      if (words[i] != want) {
        return app_fail("memtest", "round %u: word at 0x%08x is 0x%08x, wrote 0x%08x", r,
                        BASE + 4 * i, words[i], want);
      }
      hash = (hash ^ want) * 16777619u;
    }
    rc = sys_mem_unmap(BASE, pages);
    if (rc != (long)pages) return app_fail("memtest", "mem_unmap returned %ld", rc);
    long held2 = sys_mem_held();
    if (held2 != held0) {
      return app_fail("memtest", "holding %ld frames after giving back, expected %ld", held2, held0);
    }
    rc = sys_mem_unmap(BASE, 1);
    if (rc != -(long)EINVAL) return app_fail("memtest", "unmapping twice returned %ld", rc);
    printf("memtest: round %u ok (%u pages)\n", r, pages);
  }
  if (fault) {
    printf("memtest: touching a page after giving it back\n");
    volatile uint32_t *gone = (volatile uint32_t *)(uintptr_t)BASE;
    hash ^= gone[0];
    return app_fail("memtest", "reading a page after giving it back did not fault");
  }
  return app_done("memtest", hash);
}
