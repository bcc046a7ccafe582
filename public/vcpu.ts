/**
 * Per-vCPU operations (`xen/vcpu.h`): `vcpu_op(cmd, vcpuid, arg)`.
 *
 * @module
 */

import { type Struct, struct } from "./struct.ts";

/** Give a down vCPU its initial context (`vcpu_guest_context`); it starts when brought up. */
export const VCPUOP_initialise = 0;
/** Bring a vCPU up. */
export const VCPUOP_up = 1;
/** Take a vCPU down. */
export const VCPUOP_down = 2;
/** Is the vCPU up? Returns 1 or 0. */
export const VCPUOP_is_up = 3;
/** Read a vCPU's runstate into `vcpu_runstate_info`. */
export const VCPUOP_get_runstate_info = 4;
/** Arm the one-shot timer: arg points at `vcpu_set_singleshot_timer`. */
export const VCPUOP_set_singleshot_timer = 8;
/** Disarm the one-shot timer. */
export const VCPUOP_stop_singleshot_timer = 9;

/** Flag: fail with -ETIME if the timeout is already in the past. */
export const VCPU_SSHOTTMR_future = 1;

/** Runstate: running. */
export const RUNSTATE_running = 0;
/** Runstate: runnable, waiting for a CPU. */
export const RUNSTATE_runnable = 1;
/** Runstate: blocked. */
export const RUNSTATE_blocked = 2;
/** Runstate: offline (down or paused). */
export const RUNSTATE_offline = 3;

/** `struct vcpu_runstate_info`. */
export const VCPU_RUNSTATE_INFO: Struct<"state" | "state_entry_time" | "time"> = struct(
  "vcpu_runstate_info",
  "time spent in each state",
  [
    ["state", "i32", 1, "RUNSTATE_*"],
    ["state_entry_time", "u64", 1, "system time of entry into the current state"],
    ["time", "u64", 4, "ns spent in each state"],
  ],
);

/** `struct vcpu_set_singleshot_timer`. */
export const VCPU_SET_SINGLESHOT_TIMER: Struct<"timeout_abs_ns" | "flags"> = struct(
  "vcpu_set_singleshot_timer",
  "arm a timer",
  [
    ["timeout_abs_ns", "u64"],
    ["flags", "u32", 1, "VCPU_SSHOTTMR_*"],
  ],
);

/**
 * `struct vcpu_guest_context` for RISC-V (ours; Xen has none): the registers a secondary vCPU
 * starts with. It starts in S-mode at `pc` with paging on through `satp` (which must name a root
 * table that validates, as for MMUEXT_NEW_BASEPTR), `stvec` and `sscratch` set, `sstatus.SIE`
 * clear, and `x[i]` in the integer registers (x[0] ignored).
 */
export const VCPU_GUEST_CONTEXT: Struct<"x" | "pc" | "satp" | "stvec" | "sscratch"> = struct(
  "vcpu_guest_context",
  "initial registers of a secondary vCPU",
  [
    ["x", "u32", 32, "integer registers x0..x31"],
    ["pc", "u32", 1, "where it starts (S-mode)"],
    ["satp", "u32", 1, "Sv32 satp naming a root table that validates"],
    ["stvec", "u32", 1, "its trap vector"],
    ["sscratch", "u32", 1, "its sscratch"],
  ],
);
