/**
 * Memory reservation (`xen/memory.h`): `memory_op(cmd, arg)`.
 *
 * @module
 */

import { type Struct, struct } from "./struct.ts";

/** Give the domain more frames; their MFNs are written to extent_start. */
export const XENMEM_increase_reservation = 0;
/** Give frames (listed by MFN at extent_start) back to the hypervisor. */
export const XENMEM_decrease_reservation = 1;
/** Returns the highest machine frame number. */
export const XENMEM_maximum_ram_page = 2;
/** Returns the domain's current number of pages; arg points at a domid_t. */
export const XENMEM_current_reservation = 3;
/** Returns the domain's maximum number of pages; arg points at a domid_t. */
export const XENMEM_maximum_reservation = 4;

/** `struct xen_memory_reservation` (ARM layout). */
export const XEN_MEMORY_RESERVATION: Struct<
  "extent_start" | "nr_extents" | "extent_order" | "mem_flags" | "domid"
> = struct("xen_memory_reservation", "a reservation change", [
  ["extent_start", "u64", 1, "guest handle: virtual address of an array of u64 frame numbers"],
  ["nr_extents", "u64", 1, "number of extents"],
  ["extent_order", "u32", 1, "log2 of frames per extent (0 only here)"],
  ["mem_flags", "u32"],
  ["domid", "u16", 1, "DOMID_SELF (or a domain, for the control domain)"],
]);

/** Most extents one call handles before returning how many it did (a preemption point). */
export const MEMORY_OP_MAX_EXTENTS = 1024;
