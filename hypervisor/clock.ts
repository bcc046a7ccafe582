/**
 * System time, Xen's way: nanoseconds since the hypervisor started, and the `time` CSR that guests
 * read, ticking at {@link TIMEBASE_HZ} from the same origin. Wall-clock time at system time 0 is
 * recorded once so guests can compute the date.
 *
 * @module
 */

import { TIMEBASE_HZ } from "./params.ts";

/** A source of system time. */
export interface Clock {
  /** Nanoseconds since the hypervisor started (monotonic). */
  now(): number;
  /** Wall-clock time at system time 0, in ns since the Unix epoch. */
  readonly wallAtZero: number;
}

/** System time from the host's monotonic clock. */
export class SystemClock implements Clock {
  readonly #origin = performance.now();
  /** Wall-clock time at system time 0, in ns since the Unix epoch. */
  readonly wallAtZero: number = Date.now() * 1e6;

  /** Nanoseconds since this clock was created. */
  now(): number {
    return Math.floor((performance.now() - this.#origin) * 1e6);
  }
}

/** Nanoseconds per tick of the `time` CSR. */
export const NS_PER_TICK: number = 1e9 / TIMEBASE_HZ;

/** The `time` CSR value at system time `ns`. */
export function ticksAt(ns: number): number {
  return Math.floor(ns / NS_PER_TICK);
}
