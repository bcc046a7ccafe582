/**
 * The core-local interruptor (SiFive CLINT layout): `msip` (machine software interrupt),
 * `mtimecmp` and `mtime` for hart 0, driving the hart's MSIP and MTIP lines.
 *
 * Rules of use: MTIP is level-triggered on `mtime >= mtimecmp`; the board calls
 * {@link Clint.update} between slices so a deadline that passes while the hart runs is noticed, and
 * every register write updates the lines at once.
 *
 * @module
 */

import type { AccessSize, MmioDevice } from "@paravirt/mmu";
import { type Hart, IRQ_M_SOFT, IRQ_M_TIMER } from "@paravirt/cpu";
import type { Clock } from "./clock.ts";

const TWO_32 = 4294967296;

/** The CLINT device for one hart. */
export class Clint implements MmioDevice {
  /** The clock behind `mtime`. */
  readonly clock: Clock;
  readonly #hart: Hart;
  #offset = 0;
  #mtimecmp = Number.MAX_SAFE_INTEGER;
  #msip = 0;

  /** Creates the CLINT of `hart` with `mtime` from `clock`. */
  constructor(hart: Hart, clock: Clock) {
    this.#hart = hart;
    this.clock = clock;
  }

  /** Current `mtime`. */
  get mtime(): number {
    return this.clock.ticks() + this.#offset;
  }

  /** Current `mtimecmp` (MAX_SAFE_INTEGER when never written). */
  get mtimecmp(): number {
    return this.#mtimecmp;
  }

  /** Ticks until the timer fires (0 if pending now). */
  ticksToDeadline(): number {
    return Math.max(0, this.#mtimecmp - this.mtime);
  }

  /** Recomputes MTIP and MSIP on the hart. */
  update(): void {
    const hart = this.#hart;
    let lines = hart.mipLines & ~((1 << IRQ_M_TIMER) | (1 << IRQ_M_SOFT));
    if (this.mtime >= this.#mtimecmp) lines |= 1 << IRQ_M_TIMER;
    if (this.#msip & 1) lines |= 1 << IRQ_M_SOFT;
    hart.mipLines = lines;
  }

  /** MMIO read. */
  read(offset: number, _size: AccessSize): number {
    switch (offset) {
      case 0x0000:
        return this.#msip;
      case 0x4000:
        return this.#mtimecmp % TWO_32 | 0;
      case 0x4004:
        return Math.floor(this.#mtimecmp / TWO_32) | 0;
      case 0xbff8:
        return this.mtime % TWO_32 | 0;
      case 0xbffc:
        return Math.floor(this.mtime / TWO_32) | 0;
      default:
        return 0;
    }
  }

  /** MMIO write. */
  write(offset: number, _size: AccessSize, value: number): void {
    const v = value >>> 0;
    switch (offset) {
      case 0x0000:
        this.#msip = v & 1;
        break;
      case 0x4000:
        this.#mtimecmp = this.#mtimecmp - (this.#mtimecmp % TWO_32) + v;
        break;
      case 0x4004:
        this.#mtimecmp = Math.min(v * TWO_32 + (this.#mtimecmp % TWO_32), Number.MAX_SAFE_INTEGER);
        break;
      case 0xbff8: {
        const now = this.mtime;
        this.#offset += now - (now % TWO_32) + v - now;
        break;
      }
      case 0xbffc: {
        const now = this.mtime;
        this.#offset += v * TWO_32 + (now % TWO_32) - now;
        break;
      }
    }
    this.update();
  }
}
