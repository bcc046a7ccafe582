/*
 * paging.h — the kernel's page tables, maintained only through the pv-ops layer.
 *
 * Rules of use:
 *   - Every entry update is queued with pt_queue and sent in batches by pt_commit (one
 *     mmu_update per 64 entries under the hypervisor). An update the hypervisor refuses is a
 *     kernel bug: pt_commit panics with the request and the error.
 *   - A table frame is prepared before use (zeroed while still writable, then, under the
 *     hypervisor, remapped read-only in the linear map and pinned) and released after (unpinned,
 *     writable again, freed). Roots are pinned at level 2, leaves at level 1.
 *   - Every address space shares the kernel half (root entries 768..1023, copied from the
 *     kernel root when the space is made). So the kernel half is fixed before the first process:
 *     paging_init makes the fixmap's leaf table then, and nothing adds kernel root entries later.
 *   - An address space may be destroyed only while it is not current (as_switch(NULL) first).
 */
#ifndef PVK_PAGING_H
#define PVK_PAGING_H
#include "csr.h"
#include "types.h"

/* User pages: readable, accessed; add PTE_W / PTE_X as needed. */
#define PTE_USER (PTE_U | PTE_R | PTE_A | PTE_D | PTE_V)
/* The linear map's kernel pages (as the domain builder makes them). */
#define PTE_KERNEL (PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G | PTE_V)

struct addr_space {
  pfn_t root_pfn;
  mfn_t root_mfn;
  /* Leaf table of each user root entry, PFN_NONE if absent. */
  pfn_t leaf_pfn[KERNEL_ROOT_FIRST];
};

void paging_init(void);
mfn_t kernel_root_mfn(void);

void pt_queue(mfn_t table, uint32_t index, pte_t val);
void pt_commit(void);

/* A new table frame (level 1 leaf, level 2 root with the kernel half copied). PFN_NONE when out
 * of memory. */
pfn_t pt_table_new(uint32_t level);
void pt_table_release(pfn_t pfn);

int as_create(struct addr_space *as);
/* Queues the mapping va -> mfn (flags = PTE_* bits); makes the leaf table if needed. */
int as_map(struct addr_space *as, uint32_t va, mfn_t mfn, pte_t flags);
/* Queues the removal of va's mapping; returns the entry that was there (0 if none). */
pte_t as_unmap(struct addr_space *as, uint32_t va);
/* The leaf entry for va (0 if none). */
pte_t as_lookup(const struct addr_space *as, uint32_t va);
/* Switches to `as`, or to the kernel root for NULL (no-op if already current). */
void as_switch(const struct addr_space *as);
void as_destroy(struct addr_space *as);

/* Maps machine frame `mfn` at fixmap address `va` (flags = PTE_* bits, 0 to unmap). */
int fixmap_set(uint32_t va, mfn_t mfn, pte_t flags);

#endif
