/*
 * frame.c — the bitmap frame allocator of frame.h.
 *
 * Rules of use: see frame.h. Allocation is next-fit from a rotating hint, so freed frames are
 * not reused at once (a use-after-free shows up as a stale mapping rather than silently
 * aliasing new data).
 */
#include "frame.h"

#include "console.h"
#include "string.h"

static uint32_t used[MAX_PAGES / 32];
static uint32_t total;
static uint32_t free_count;
static pfn_t hint;

static bool in_use(pfn_t pfn) { return (used[pfn / 32] >> (pfn % 32)) & 1u; }
static void mark(pfn_t pfn) { used[pfn / 32] |= 1u << (pfn % 32); }
static void unmark(pfn_t pfn) { used[pfn / 32] &= ~(1u << (pfn % 32)); }

void frame_init(uint32_t nr_pages, pfn_t first_free) {
  total = nr_pages;
  free_count = 0;
  for (pfn_t pfn = 0; pfn < nr_pages; pfn++) {
    if (pfn < first_free) {
      mark(pfn);
    } else {
      unmark(pfn);
      free_count++;
    }
  }
  hint = first_free;
}

pfn_t frame_alloc_run(uint32_t n) {
  if (n == 0 || n > free_count) return PFN_NONE;
  for (uint32_t tries = 0; tries < 2; tries++) {
    pfn_t start = tries == 0 ? hint : 0;
    uint32_t run = 0;
    for (pfn_t pfn = start; pfn < total; pfn++) {
      run = in_use(pfn) ? 0 : run + 1;
      if (run == n) {
        pfn_t first = pfn + 1 - n;
        for (uint32_t i = 0; i < n; i++) mark(first + i);
        free_count -= n;
        hint = pfn + 1 < total ? pfn + 1 : 0;
        return first;
      }
    }
  }
  return PFN_NONE;
}

pfn_t frame_alloc(void) { return frame_alloc_run(1); }

pfn_t frame_alloc_zeroed(void) {
  pfn_t pfn = frame_alloc();
  if (pfn != PFN_NONE) memset(pfn_to_va(pfn), 0, PAGE_SIZE);
  return pfn;
}

void frame_free_run(pfn_t pfn, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    if (pfn + i >= total || !in_use(pfn + i)) panic("freeing frame %u, which is not in use", pfn + i);
    unmark(pfn + i);
  }
  free_count += n;
}

void frame_free(pfn_t pfn) { frame_free_run(pfn, 1); }

uint32_t frame_free_count(void) { return free_count; }

uint32_t frame_total(void) { return total; }
