/*
 * types.h — the kernel's basic types, address-space constants and helpers.
 *
 * Rules of use: three kinds of frame numbers exist and are never mixed up —
 *   pfn  pseudo-physical frame: the kernel's own numbering, 0 .. nr_pages-1;
 *   mfn  machine frame: what page-table entries and hypercalls hold;
 *   va   virtual address: pfn p is mapped at KERNEL_BASE + p * PAGE_SIZE (the linear map).
 * pfn <-> mfn goes through the pv-ops layer (pvops.h): the P2M list under the hypervisor, a
 * constant offset on the board.
 */
#ifndef PVK_TYPES_H
#define PVK_TYPES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paravirt_abi.h"

typedef uint32_t pfn_t;
typedef uint32_t mfn_t;
typedef uint32_t pte_t;

#define PAGE_SHIFT 12
#define PAGE_SIZE 4096u
#define KERNEL_BASE PV_VIRT_BASE
/* Sv32: 1024 entries per table; a root entry covers 4 MiB. */
#define PT_ENTRIES 1024u
#define ROOT_SHIFT 22
/* First root entry of the kernel half (0xC000_0000 / 4 MiB); every root shares 768..1023. */
#define KERNEL_ROOT_FIRST (KERNEL_BASE >> ROOT_SHIFT)
/* Largest linear map: up to the fixmap's 4 MiB slot at the top. */
#define MAX_PAGES ((PT_ENTRIES - 1u - KERNEL_ROOT_FIRST) * PT_ENTRIES)
/* The fixmap: the last 4 MiB of the address space, one leaf table made at boot. */
#define FIXMAP_BASE 0xFFC00000u
#define FIXMAP_SHARED_INFO FIXMAP_BASE
#define FIXMAP_SCRATCH (FIXMAP_BASE + PAGE_SIZE)
/* The grant-table frames (GRANT_TABLE_MAX_FRAMES pages, gnttab.c). */
#define FIXMAP_GNTTAB (FIXMAP_BASE + 16 * PAGE_SIZE)

#define PFN_NONE 0xFFFFFFFFu

/* Errors are returned as negated Xen errno values (paravirt_abi.h defines them unsigned). */
#define ERR(e) (-(int)(e))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((a) - 1))

static inline void *pfn_to_va(pfn_t pfn) {
  return (void *)(uintptr_t)(KERNEL_BASE + (pfn << PAGE_SHIFT));
}

static inline pfn_t va_to_pfn(const void *va) {
  return ((uint32_t)(uintptr_t)va - KERNEL_BASE) >> PAGE_SHIFT;
}

#endif
