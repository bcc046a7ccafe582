/**
 * The shared-info page and the per-vCPU info inside it (`xen/xen.h`, ARM layout: one legacy vCPU
 * slot, 64-bit `xen_ulong_t`). The hypervisor writes time and event state into it; the guest maps
 * it (update_va_mapping of the machine address in start-info) and reads it without hypercalls.
 *
 * Rules of use: time fields follow Xen's version protocol — the writer makes `version` odd, writes,
 * then makes it even; a reader retries while it is odd or changed. Event bitmaps are 64-bit words:
 * bit `p % 64` of word `p / 64` is port `p`.
 *
 * @module
 */

import { type Struct, struct } from "./struct.ts";

/** Per-vCPU time (`struct vcpu_time_info`): system time = system_time + scaled(tsc - tsc_timestamp). */
export const VCPU_TIME_INFO: Struct<
  | "version"
  | "pad0"
  | "tsc_timestamp"
  | "system_time"
  | "tsc_to_system_mul"
  | "tsc_shift"
  | "flags"
  | "pad1"
> = struct("vcpu_time_info", "per-vCPU time record", [
  ["version", "u32", 1, "odd while being updated"],
  ["pad0", "u32"],
  ["tsc_timestamp", "u64", 1, "value of the time CSR when system_time was taken"],
  ["system_time", "u64", 1, "nanoseconds since the hypervisor started"],
  ["tsc_to_system_mul", "u32", 1, "ns = ((ticks << tsc_shift) * mul) >> 32"],
  ["tsc_shift", "i8"],
  ["flags", "u8"],
  ["pad1", "u8", 2],
]);

/** Per-vCPU event and time info (`struct vcpu_info`), 48 bytes. */
export const VCPU_INFO: Struct<
  | "evtchn_upcall_pending"
  | "evtchn_upcall_mask"
  | "evtchn_pending_sel"
  | "time_version"
  | "time_pad0"
  | "time_tsc_timestamp"
  | "time_system_time"
  | "time_tsc_to_system_mul"
  | "time_tsc_shift"
  | "time_flags"
  | "time_pad1"
> = struct("vcpu_info", "per-vCPU event upcall state and time", [
  ["evtchn_upcall_pending", "u8", 1, "set by the hypervisor when an upcall is due"],
  ["evtchn_upcall_mask", "u8", 1, "set by the guest to hold off upcalls"],
  ["evtchn_pending_sel", "u64", 1, "bit w: word w of evtchn_pending has pending ports"],
  ["time_version", "u32", 1, "vcpu_time_info.version"],
  ["time_pad0", "u32"],
  ["time_tsc_timestamp", "u64"],
  ["time_system_time", "u64"],
  ["time_tsc_to_system_mul", "u32"],
  ["time_tsc_shift", "i8"],
  ["time_flags", "u8"],
  ["time_pad1", "u8", 2],
]);

/** Legacy vCPU slots in the shared-info page (ARM's value). */
export const LEGACY_MAX_VCPUS = 1;
/** Event channel ports addressable by the 2-level ABI with 64-bit words. */
export const EVTCHN_2L_NR_CHANNELS = 64 * 64;

/** The shared-info page (`struct shared_info`), 1088 bytes. */
export const SHARED_INFO: Struct<
  | "vcpu0_evtchn_upcall_pending"
  | "vcpu0_evtchn_upcall_mask"
  | "vcpu0_evtchn_pending_sel"
  | "vcpu0_time"
  | "evtchn_pending"
  | "evtchn_mask"
  | "wc_version"
  | "wc_sec"
  | "wc_nsec"
  | "wc_sec_hi"
> = struct(
  "shared_info",
  "the page shared between a domain and the hypervisor",
  [
    ["vcpu0_evtchn_upcall_pending", "u8"],
    ["vcpu0_evtchn_upcall_mask", "u8"],
    ["vcpu0_evtchn_pending_sel", "u64"],
    ["vcpu0_time", "u32", 8, "struct vcpu_time_info of vCPU 0 (32 bytes)"],
    ["evtchn_pending", "u64", 64, "pending bitmap: 4096 ports"],
    ["evtchn_mask", "u64", 64, "mask bitmap: 4096 ports"],
    ["wc_version", "u32", 1, "wall clock version (odd while updating)"],
    ["wc_sec", "u32", 1, "wall clock at system time 0: seconds (low 32 bits)"],
    ["wc_nsec", "u32", 1, "wall clock at system time 0: nanoseconds"],
    ["wc_sec_hi", "u32", 1, "wall clock seconds, high 32 bits (arch_shared_info on ARM)"],
  ],
);

/** Scale of our `time` CSR into nanoseconds: 10 MHz ticks, so ns = ticks * 100. */
export const TSC_SHIFT = 7;
/** Multiplier pairing with {@link TSC_SHIFT}: (ticks << 7) * mul >> 32 = ticks * 100. */
export const TSC_TO_SYSTEM_MUL = 3355443200;
