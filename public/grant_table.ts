/**
 * Grant tables (`xen/grant_table.h`), version 1: a domain shares a frame with another by filling a
 * grant entry in its grant table; `grant_table_op(cmd, uop, count)`. This issue serves setup and
 * query; map, unmap and copy come with the split drivers.
 *
 * @module
 */

import { type Struct, struct } from "./struct.ts";

/** Map a granted frame. */
export const GNTTABOP_map_grant_ref = 0;
/** Unmap it. */
export const GNTTABOP_unmap_grant_ref = 1;
/** Get the frames of the caller's grant table. */
export const GNTTABOP_setup_table = 2;
/** Copy between granted frames. */
export const GNTTABOP_copy = 5;
/** Query the grant table size. */
export const GNTTABOP_query_size = 6;

/** Grant status: okay. */
export const GNTST_okay = 0;
/** Grant status: undefined error. */
export const GNTST_general_error: number = -1;
/** Grant status: unknown or unsuitable domain. */
export const GNTST_bad_domain: number = -2;
/** Grant status: bad grant reference. */
export const GNTST_bad_gntref: number = -3;
/** Grant status: bad handle. */
export const GNTST_bad_handle: number = -4;
/** Grant status: bad virtual address. */
export const GNTST_bad_virt_addr: number = -5;
/** Grant status: bad device address. */
export const GNTST_bad_dev_addr: number = -6;
/** Grant status: no mapping space. */
export const GNTST_no_device_space: number = -7;
/** Grant status: permission denied. */
export const GNTST_permission_denied: number = -8;
/** Grant status: bad page. */
export const GNTST_bad_page: number = -9;
/** Grant status: copy crosses a page boundary. */
export const GNTST_bad_copy_arg: number = -10;
/** Grant status: address not valid. */
export const GNTST_address_too_big: number = -11;
/** Grant status: operation not done, try again. */
export const GNTST_eagain: number = -12;

/** v1 entry flag: a grant to map or copy the frame (GTF_permit_access). */
export const GTF_permit_access = 1;
/** v1 entry flag: read-only. */
export const GTF_readonly = 1 << 2;
/** v1 entry flag: currently mapped for reading (set by the hypervisor). */
export const GTF_reading = 1 << 3;
/** v1 entry flag: currently mapped for writing (set by the hypervisor). */
export const GTF_writing = 1 << 4;

/** `struct grant_entry_v1`: 8 bytes. */
export const GRANT_ENTRY_V1: Struct<"flags" | "domid" | "frame"> = struct(
  "grant_entry_v1",
  "one grant",
  [
    ["flags", "u16", 1, "GTF_*"],
    ["domid", "u16", 1, "domain being granted access"],
    ["frame", "u32", 1, "machine frame granted"],
  ],
);

/** `struct gnttab_setup_table`. */
export const GNTTAB_SETUP_TABLE: Struct<"dom" | "nr_frames" | "status" | "frame_list"> = struct(
  "gnttab_setup_table",
  "get grant table frames",
  [
    ["dom", "u16"],
    ["nr_frames", "u32"],
    ["status", "i16", 1, "OUT: GNTST_*"],
    ["frame_list", "u64", 1, "guest handle: virtual address of an array of u64 frames (OUT)"],
  ],
);

/** `struct gnttab_query_size`. */
export const GNTTAB_QUERY_SIZE: Struct<"dom" | "nr_frames" | "max_nr_frames" | "status"> = struct(
  "gnttab_query_size",
  "grant table size",
  [
    ["dom", "u16"],
    ["nr_frames", "u32", 1, "OUT: current frames"],
    ["max_nr_frames", "u32", 1, "OUT: maximum frames"],
    ["status", "i16", 1, "OUT: GNTST_*"],
  ],
);

/** Grant entries per 4 KiB frame. */
export const GRANT_ENTRIES_PER_FRAME = 4096 / 8;
/** Grant table frames a domain may have. */
export const GRANT_TABLE_MAX_FRAMES = 4;
