/*
 * frame.h — the frame allocator: which pseudo-physical frames (pfns) are free.
 *
 * Rules of use: one bit per pfn (1 = in use). frame_init marks everything below the first free
 * frame as used (image, boot tables, start-info and rings). Frames are handed out zeroed by
 * frame_alloc_zeroed; frame_alloc_run gives `n` consecutive frames (kernel stacks). Freeing a
 * frame that is not in use is a kernel bug and panics.
 */
#ifndef PVK_FRAME_H
#define PVK_FRAME_H
#include "types.h"

void frame_init(uint32_t nr_pages, pfn_t first_free);
/* PFN_NONE when out of memory. */
pfn_t frame_alloc(void);
pfn_t frame_alloc_zeroed(void);
pfn_t frame_alloc_run(uint32_t n);
void frame_free(pfn_t pfn);
void frame_free_run(pfn_t pfn, uint32_t n);
uint32_t frame_free_count(void);
uint32_t frame_total(void);

#endif
