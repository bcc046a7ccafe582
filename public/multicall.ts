/**
 * Multicalls (`xen/xen.h`): `multicall(entries, nr_calls)` runs a batch of hypercalls in order,
 * writing each one's result into its entry; like Xen it runs them all, and each result says whether
 * that call succeeded. A multicall may not contain another multicall (-EINVAL).
 *
 * @module
 */

import { type Struct, struct } from "./struct.ts";

/** `struct multicall_entry` (ARM layout: 64-bit fields). */
export const MULTICALL_ENTRY: Struct<"op" | "result" | "args"> = struct(
  "multicall_entry",
  "one call in a batch",
  [
    ["op", "u64", 1, "__HYPERVISOR_* number"],
    ["result", "i64", 1, "OUT: the call's return value"],
    ["args", "u64", 6, "arguments (a0..a5 of a direct call)"],
  ],
);

/** Most entries one multicall runs. */
export const MULTICALL_MAX = 512;
