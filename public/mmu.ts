/**
 * Paravirtual page-table management (`xen/xen.h`): `mmu_update`, `mmuext_op`,
 * `update_va_mapping`, adapted to Sv32's two levels: Xen's "L1" is Sv32's leaf level (level 0) and
 * "L2" its root (level 1). Page-table entries hold machine frame numbers (direct paging).
 *
 * - `mmu_update(reqs, count, done_out, foreigndom)`: each request's `ptr` is the machine address of
 *   a PTE (low 2 bits: the command) and `val` the new entry. The batch stops at the first bad
 *   request; `*done_out` (if not 0) receives how many were done.
 * - `mmuext_op(ops, count, done_out, foreigndom)`: pin/unpin tables, switch the root
 *   (`NEW_BASEPTR`, the only way to change satp), TLB flushes.
 * - `update_va_mapping(va, pte_lo, pte_hi, flags)`: replace the leaf PTE mapping `va` in the
 *   current tables; flags ask for a flush.
 *
 * @module
 */

import { type Struct, struct } from "./struct.ts";

/** mmu_update command: normal validated PTE update. */
export const MMU_NORMAL_PT_UPDATE = 0;
/** mmu_update command: machine-to-physical update (records the pfn of one of the domain's frames in its M2P). */
export const MMU_MACHPHYS_UPDATE = 1;
/** mmu_update command: update preserving the A/D bits the hardware set. */
export const MMU_PT_UPDATE_PRESERVE_AD = 2;

/** `struct mmu_update`. */
export const MMU_UPDATE: Struct<"ptr" | "val"> = struct("mmu_update", "one PTE update", [
  ["ptr", "u64", 1, "machine address of the PTE | command"],
  ["val", "u64", 1, "new PTE value"],
]);

/** Pin a leaf-level table (validates it). */
export const MMUEXT_PIN_L1_TABLE = 0;
/** Pin a root table (validates it and what it points to). */
export const MMUEXT_PIN_L2_TABLE = 1;
/** Unpin a table. */
export const MMUEXT_UNPIN_TABLE = 4;
/** Switch satp to a (validated) root table. */
export const MMUEXT_NEW_BASEPTR = 5;
/** Flush this vCPU's TLB. */
export const MMUEXT_TLB_FLUSH_LOCAL = 6;
/** Flush one virtual address from this vCPU's TLB. */
export const MMUEXT_INVLPG_LOCAL = 7;
/** Flush every vCPU's TLB of the domain. */
export const MMUEXT_TLB_FLUSH_ALL = 10;
/** Flush one address on every vCPU of the domain. */
export const MMUEXT_INVLPG_ALL = 11;

/** `struct mmuext_op` (unions written as their widest member). */
export const MMUEXT_OP: Struct<"cmd" | "arg1" | "arg2"> = struct(
  "mmuext_op",
  "one extended MMU operation",
  [
    ["cmd", "u32"],
    ["arg1", "u64", 1, "mfn (pin, unpin, new_baseptr) or linear_addr (invlpg)"],
    ["arg2", "u64", 1, "nr_ents / vcpumask / src_mfn (unused here)"],
  ],
);

/** update_va_mapping flags: no flush. */
export const UVMF_NONE = 0;
/** update_va_mapping flags: flush the whole TLB. */
export const UVMF_TLB_FLUSH = 1;
/** update_va_mapping flags: flush just this address. */
export const UVMF_INVLPG = 2;
/** update_va_mapping flags: on every vCPU of the domain (else only the caller's). */
export const UVMF_ALL = 4;

/** Most requests one mmu_update or mmuext_op call handles before returning (preemption point). */
export const MMU_BATCH_MAX = 4096;
