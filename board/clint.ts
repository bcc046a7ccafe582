/**
 * The core-local interruptor (SiFive CLINT layout): `msip` (machine software interrupt),
 * `mtimecmp` and `mtime` for hart 0, driving the hart's MSIP and MTIP lines; plus the supervisor
 * timer the SBI firmware arms for an S-mode kernel (`sbi_set_timer`), which drives STIP the way
 * OpenSBI does with mtimecmp behind the scenes.
 *
 * Rules of use: MTIP is level-triggered on `mtime >= mtimecmp`, STIP on `mtime >=` the supervisor
 * deadline; the board calls {@link Clint.update} between slices so a deadline that passes while the
 * hart runs is noticed, and every register write (or new supervisor deadline) updates the lines at
 * once.
 *
 * @module
 */

import type { AccessSize, MmioDevice } from "@paravirt/mmu";
import { type Hart, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_TIMER } from "@paravirt/cpu";
import type { Clock } from "./clock.ts";

const TWO_32 = 4294967296;

/** The CLINT device for one hart. */
export class Clint implements MmioDevice {
  /** The clock behind `mtime`. */
  readonly clock: Clock;
  readonly #hart: Hart;
  #offset = 0;
  #mtimecmp = Number.MAX_SAFE_INTEGER;
  #stimecmp = Number.MAX_SAFE_INTEGER;
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

  /** The supervisor timer deadline (MAX_SAFE_INTEGER when never armed). */
  get stimecmp(): number {
    return this.#stimecmp;
  }

  /**
   * Arms the supervisor timer (the SBI firmware's `set_timer`): STIP rises once `mtime >=
   * deadline`; a deadline in the future clears a pending STIP at once.
   */
  setSupervisorTimer(deadline: number): void {
    this.#stimecmp = Math.min(Math.max(0, deadline), Number.MAX_SAFE_INTEGER);
    this.update();
  }

  /** Ticks until the earlier of the two timers fires (0 if one is pending now). */
  ticksToDeadline(): number {
    return Math.max(0, Math.min(this.#mtimecmp, this.#stimecmp) - this.mtime);
  }

  /**
   * Ticks until a timer whose interrupt is enabled in `mie` fires (0 if pending now), or Infinity
   * when no enabled timer is armed: how long a hart in WFI may sleep.
   */
  ticksToEnabledDeadline(mie: number): number {
    let deadline = Infinity;
    if ((mie & (1 << IRQ_M_TIMER)) !== 0 && this.#mtimecmp < Number.MAX_SAFE_INTEGER) {
      deadline = this.#mtimecmp;
    }
    if ((mie & (1 << IRQ_S_TIMER)) !== 0 && this.#stimecmp < Number.MAX_SAFE_INTEGER) {
      deadline = Math.min(deadline, this.#stimecmp);
    }
    return deadline === Infinity ? Infinity : Math.max(0, deadline - this.mtime);
  }

  /** Recomputes MTIP, STIP and MSIP on the hart. */
  update(): void {
    const hart = this.#hart;
    let lines = hart.mipLines & ~((1 << IRQ_M_TIMER) | (1 << IRQ_M_SOFT) | (1 << IRQ_S_TIMER));
    const now = this.mtime;
    if (now >= this.#mtimecmp) lines |= 1 << IRQ_M_TIMER;
    if (now >= this.#stimecmp) lines |= 1 << IRQ_S_TIMER;
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
