/**
 * Scheduler operations (`xen/sched.h`): `sched_op(cmd, arg)`.
 *
 * @module
 */

import { type Struct, struct } from "./struct.ts";

/** Give up the CPU voluntarily. */
export const SCHEDOP_yield = 0;
/** Block until an event is pending (upcalls are re-enabled by the call). */
export const SCHEDOP_block = 1;
/** Shut the domain down; arg points at `sched_shutdown`. */
export const SCHEDOP_shutdown = 2;
/** Block until one of some ports is pending or a timeout passes; arg points at `sched_poll`. */
export const SCHEDOP_poll = 3;

/** Shutdown reason: power off. */
export const SHUTDOWN_poweroff = 0;
/** Shutdown reason: reboot. */
export const SHUTDOWN_reboot = 1;
/** Shutdown reason: suspend (save). */
export const SHUTDOWN_suspend = 2;
/** Shutdown reason: crash. */
export const SHUTDOWN_crash = 3;
/** Shutdown reason: watchdog. */
export const SHUTDOWN_watchdog = 4;

/** `struct sched_shutdown`. */
export const SCHED_SHUTDOWN: Struct<"reason"> = struct("sched_shutdown", "shutdown request", [
  ["reason", "u32", 1, "SHUTDOWN_*"],
]);

/** `struct sched_poll`. */
export const SCHED_POLL: Struct<"ports" | "nr_ports" | "timeout"> = struct(
  "sched_poll",
  "poll a set of ports",
  [
    ["ports", "u64", 1, "guest handle: virtual address of an array of u32 ports"],
    ["nr_ports", "u32"],
    ["timeout", "u64", 1, "absolute system time in ns; 0 for none"],
  ],
);

/** Most ports one poll may name (Xen limits this too). */
export const SCHED_POLL_MAX_PORTS = 128;
