/**
 * Sources of the board's `mtime`: host real time, or a deterministic clock driven by the hart's
 * cycle count (a virtual 1 GHz hart, like QEMU's `-icount shift=0`), for reproducible runs.
 *
 * @module
 */

import type { Hart } from "@paravirt/cpu";
import { INSTRUCTIONS_PER_TICK, TIMEBASE_HZ } from "./params.ts";

/** A source of timer ticks at {@link TIMEBASE_HZ}. */
export interface Clock {
  /** Current tick count (a non-negative integer). */
  ticks(): number;
  /** Whether ticks follow host time (so waiting means sleeping) or the instruction count. */
  readonly realtime: boolean;
}

/** Ticks of host time since the clock was created. */
export class RealtimeClock implements Clock {
  /** Always true. */
  readonly realtime = true;
  readonly #origin = performance.now();

  /** Current tick count. */
  ticks(): number {
    return Math.floor((performance.now() - this.#origin) * (TIMEBASE_HZ / 1000));
  }
}

/** Ticks derived from a hart's cycle count: one tick per {@link INSTRUCTIONS_PER_TICK} cycles. */
export class InstructionClock implements Clock {
  /** Always false. */
  readonly realtime = false;
  readonly #hart: Hart;
  #skipped = 0;

  /** Creates a clock that follows `hart`. */
  constructor(hart: Hart) {
    this.#hart = hart;
  }

  /** Current tick count. */
  ticks(): number {
    return Math.floor(this.#hart.cycle / INSTRUCTIONS_PER_TICK) + this.#skipped;
  }

  /** Moves time forward without executing (an idle hart waiting in WFI). */
  skip(ticks: number): void {
    if (ticks > 0) this.#skipped += Math.ceil(ticks);
  }
}
