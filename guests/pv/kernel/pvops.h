/*
 * pvops.h — the pv-ops table: every operation whose implementation differs between bare
 * hardware (the board under its SBI firmware) and the hypervisor. Filled once at boot from the
 * SBI probe of HYPERCALL_EXTENSION (0: native ops, 1: hypervisor ops) and never changed after.
 *
 * Rules of use: the rest of the kernel calls `pv->op(...)` and never issues a hypercall, an SBI
 * call or a satp write of its own (except the hostile tests, which exist to misbehave).
 * Page-table frames are written only through mmu_update / update_va_mapping, even natively, so
 * the kernel's paging code is the same in both modes. Machine addresses and frame numbers are
 * explicit in every argument.
 */
#ifndef PVK_PVOPS_H
#define PVK_PVOPS_H
#include "types.h"

struct pv_ops {
  /* "native" or "xen". */
  const char *name;
  /* Whether event channels, shared-info and the memory reservation hypercalls exist. */
  bool paravirtualized;

  /* Frame numbering. */
  mfn_t (*pfn_to_mfn)(pfn_t pfn);

  /* Console output (whole buffer; may block until written). */
  void (*console_write)(const char *buf, size_t len);

  /* Page tables. `req[i].ptr` is the machine address of a PTE | MMU_NORMAL_PT_UPDATE. A batch
   * stops at the first bad entry; *done (if not NULL) receives how many were applied. Returns 0
   * or a negated errno. */
  int (*mmu_update)(const struct mmu_update *req, uint32_t count, uint32_t *done);
  /* Replace the leaf PTE mapping `va` in the current tables; flags = UVMF_*. */
  int (*update_va_mapping)(uint32_t va, pte_t pte, uint32_t flags);
  /* Pin a table frame (level 1 = leaf, 2 = root), validating it; unpin it. */
  int (*pin_table)(mfn_t mfn, uint32_t level);
  int (*unpin_table)(mfn_t mfn);
  /* Switch to the (pinned) root `mfn`; flushes the TLB. */
  int (*new_baseptr)(mfn_t root);
  /* TLB maintenance for the kernel's own consistency. */
  void (*flush_tlb)(void);
  void (*invlpg)(uint32_t va);

  /* Time: ns since boot, and the one-shot timer (absolute ns; 0 cancels). */
  uint64_t (*system_time)(void);
  void (*set_timer)(uint64_t deadline_ns);
  /* Wait until an interrupt (native) or event (PV) is pending; returns at once if one is.
   * Called with sstatus.SIE clear. */
  void (*block)(void);
  /* Give the physical CPU to others (other domains) for a moment; natively nothing to do. */
  void (*yield_cpu)(void);
  /* End the machine or the domain: SHUTDOWN_poweroff (success) or SHUTDOWN_crash. */
  __attribute__((noreturn)) void (*shutdown)(uint32_t reason);

  /* Memory for applications beyond the kernel's own pages: fresh frames (PV: increase
   * reservation; native: the frame allocator) and giving them back. Return how many frames were
   * handled, or a negated errno. */
  int (*alloc_frames)(mfn_t *mfns, uint32_t count);
  int (*free_frames)(const mfn_t *mfns, uint32_t count);
  /* Frames held: PV = the domain's current reservation, native = frames lent by alloc_frames
   * and not given back. Either way it moves by exactly the frames allocated or freed. */
  long (*frames_held)(void);

  /* Event channels (PV only; natively -ENOSYS). */
  int (*evtchn_send)(uint32_t port);
};

extern const struct pv_ops *pv;
extern const struct pv_ops pv_ops_native;
extern const struct pv_ops pv_ops_xen;

/* Chooses the table from the SBI probe; returns the chosen table. */
const struct pv_ops *pvops_select(void);

#endif
