/*
 * paging.c — page tables through the pv-ops layer (paging.h).
 *
 * Rules of use: see paging.h. Table entries are read through the linear map (table frames
 * stay readable) and written only by pt_queue/pt_commit.
 */
#include "paging.h"

#include "boot.h"
#include "console.h"
#include "csr.h"
#include "frame.h"
#include "pvops.h"
#include "string.h"

#define BATCH 64

static struct mmu_update batch[BATCH];
static uint32_t batched;
static mfn_t kernel_root;
static mfn_t current_root;

mfn_t kernel_root_mfn(void) { return kernel_root; }

void pt_queue(mfn_t table, uint32_t index, pte_t val) {
  if (batched == BATCH) pt_commit();
  batch[batched].ptr = ((uint64_t)table << PAGE_SHIFT) + index * sizeof(pte_t) + MMU_NORMAL_PT_UPDATE;
  batch[batched].val = val;
  batched++;
}

void pt_commit(void) {
  if (batched == 0) return;
  uint32_t done = 0;
  int rc = pv->mmu_update(batch, batched, &done);
  if (rc != 0 || done != batched) {
    panic("mmu_update of %u entries failed: rc=%d, done=%u, first refused: ptr=0x%llx val=0x%llx",
          batched, rc, done, done < batched ? batch[done].ptr : 0ull,
          done < batched ? batch[done].val : 0ull);
  }
  batched = 0;
}

static const pte_t *table_va(pfn_t pfn) { return pfn_to_va(pfn); }

/* Under the hypervisor a table frame may not be writable through any mapping. */
static void set_linear_writable(pfn_t pfn, bool writable) {
  if (!pv->paravirtualized) return;
  pte_t pte = (pv->pfn_to_mfn(pfn) << PTE_PPN_SHIFT) |
              (writable ? PTE_KERNEL : (PTE_R | PTE_A | PTE_G | PTE_V));
  int rc = pv->update_va_mapping((uint32_t)(uintptr_t)pfn_to_va(pfn), pte, UVMF_INVLPG);
  if (rc != 0) panic("update_va_mapping of table frame %u failed: rc=%d", pfn, rc);
}

pfn_t pt_table_new(uint32_t level) {
  pfn_t pfn = frame_alloc_zeroed();
  if (pfn == PFN_NONE) return PFN_NONE;
  if (level == 2) {
    pte_t *root = pfn_to_va(pfn);
    const pte_t *kernel = table_va(boot.root_pfn);
    for (uint32_t i = KERNEL_ROOT_FIRST; i < PT_ENTRIES; i++) root[i] = kernel[i];
  }
  set_linear_writable(pfn, false);
  int rc = pv->pin_table(pv->pfn_to_mfn(pfn), level);
  if (rc != 0) panic("pinning a level-%u table (pfn %u) failed: rc=%d", level, pfn, rc);
  return pfn;
}

void pt_table_release(pfn_t pfn) {
  int rc = pv->unpin_table(pv->pfn_to_mfn(pfn));
  if (rc != 0) panic("unpinning table frame %u failed: rc=%d", pfn, rc);
  set_linear_writable(pfn, true);
  frame_free(pfn);
}

void paging_init(void) {
  kernel_root = pv->pfn_to_mfn(boot.root_pfn);
  current_root = kernel_root;
  /* Under the hypervisor the builder has pinned the boot root (public/README.md), so it stays
   * a validated page table while a process's root is current; nothing to do here. */
  if (!pv->paravirtualized) {
    /* Drop the identity superpage native_early made for the switch to paging. */
    pt_queue(kernel_root, boot.base_mfn >> (ROOT_SHIFT - PAGE_SHIFT), 0);
    pt_commit();
    pv->flush_tlb();
  }
  const pte_t *root = table_va(boot.root_pfn);
  if (root[FIXMAP_BASE >> ROOT_SHIFT] != 0) panic("the fixmap slot of the boot root is in use");
  pfn_t fixmap = pt_table_new(1);
  if (fixmap == PFN_NONE) panic("no memory for the fixmap table");
  pt_queue(kernel_root, FIXMAP_BASE >> ROOT_SHIFT, (pv->pfn_to_mfn(fixmap) << PTE_PPN_SHIFT) | PTE_V);
  pt_commit();
}

int fixmap_set(uint32_t va, mfn_t mfn, pte_t flags) {
  if (va < FIXMAP_BASE || (va & (PAGE_SIZE - 1)) != 0) return ERR(EINVAL);
  pte_t pte = flags == 0 ? 0 : (mfn << PTE_PPN_SHIFT) | flags;
  return pv->update_va_mapping(va, pte, UVMF_INVLPG);
}

int as_create(struct addr_space *as) {
  for (uint32_t i = 0; i < KERNEL_ROOT_FIRST; i++) as->leaf_pfn[i] = PFN_NONE;
  as->root_pfn = pt_table_new(2);
  if (as->root_pfn == PFN_NONE) return ERR(ENOMEM);
  as->root_mfn = pv->pfn_to_mfn(as->root_pfn);
  return 0;
}

int as_map(struct addr_space *as, uint32_t va, mfn_t mfn, pte_t flags) {
  uint32_t slot = va >> ROOT_SHIFT;
  if (slot >= KERNEL_ROOT_FIRST || (va & (PAGE_SIZE - 1)) != 0) return ERR(EINVAL);
  if (as->leaf_pfn[slot] == PFN_NONE) {
    pfn_t leaf = pt_table_new(1);
    if (leaf == PFN_NONE) return ERR(ENOMEM);
    as->leaf_pfn[slot] = leaf;
    pt_queue(as->root_mfn, slot, (pv->pfn_to_mfn(leaf) << PTE_PPN_SHIFT) | PTE_V);
  }
  pt_queue(pv->pfn_to_mfn(as->leaf_pfn[slot]), (va >> PAGE_SHIFT) & (PT_ENTRIES - 1),
           (mfn << PTE_PPN_SHIFT) | flags);
  return 0;
}

pte_t as_lookup(const struct addr_space *as, uint32_t va) {
  uint32_t slot = va >> ROOT_SHIFT;
  if (slot >= KERNEL_ROOT_FIRST || as->leaf_pfn[slot] == PFN_NONE) return 0;
  return table_va(as->leaf_pfn[slot])[(va >> PAGE_SHIFT) & (PT_ENTRIES - 1)];
}

pte_t as_unmap(struct addr_space *as, uint32_t va) {
  pte_t old = as_lookup(as, va);
  if (old != 0) {
    uint32_t slot = va >> ROOT_SHIFT;
    pt_queue(pv->pfn_to_mfn(as->leaf_pfn[slot]), (va >> PAGE_SHIFT) & (PT_ENTRIES - 1), 0);
  }
  return old;
}

void as_switch(const struct addr_space *as) {
  mfn_t root = as == NULL ? kernel_root : as->root_mfn;
  if (root == current_root) return;
  pt_commit();
  int rc = pv->new_baseptr(root);
  if (rc != 0) panic("switching to root table mfn 0x%x failed: rc=%d", root, rc);
  current_root = root;
}

void as_destroy(struct addr_space *as) {
  if (as->root_mfn == current_root) panic("destroying the current address space");
  pt_commit();
  /* Unpinning the root drops its references to the leaves; then the leaves go. */
  pt_table_release(as->root_pfn);
  for (uint32_t i = 0; i < KERNEL_ROOT_FIRST; i++) {
    if (as->leaf_pfn[i] != PFN_NONE) pt_table_release(as->leaf_pfn[i]);
    as->leaf_pfn[i] = PFN_NONE;
  }
  as->root_pfn = PFN_NONE;
  as->root_mfn = 0;
}
