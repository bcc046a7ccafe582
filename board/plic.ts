/**
 * The platform-level interrupt controller (SiFive PLIC layout, as on QEMU virt): per-source
 * priority and level-triggered gateways, per-context enables, threshold and claim/complete.
 *
 * Rules of use: devices report their line with {@link Plic.setLevel}. A source becomes pending when
 * its line is high and it is not already claimed; completing it re-arms the gateway. Each context's
 * output is recomputed on every change and reported through `onOutput(context, level)` (the board
 * maps context 0 to the hart's MEIP and context 1 to SEIP).
 *
 * @module
 */

import type { AccessSize, MmioDevice } from "@paravirt/mmu";
import { PLIC_CONTEXTS, PLIC_SOURCES } from "./params.ts";

/** The PLIC device. */
export class Plic implements MmioDevice {
  /** Called when a context's interrupt output may have changed. */
  onOutput: (context: number, level: boolean) => void = () => {};
  /** Interrupts claimed (a metric). */
  claims = 0;

  readonly #priority = new Uint32Array(PLIC_SOURCES);
  readonly #level = new Uint8Array(PLIC_SOURCES);
  readonly #pending = new Uint8Array(PLIC_SOURCES);
  readonly #claimed = new Uint8Array(PLIC_SOURCES);
  readonly #enable = new Uint32Array(PLIC_CONTEXTS); // PLIC_SOURCES <= 32: one word per context
  readonly #threshold = new Uint32Array(PLIC_CONTEXTS);

  /** Sets the line level of interrupt source `source`. */
  setLevel(source: number, level: boolean): void {
    if (source <= 0 || source >= PLIC_SOURCES) return;
    this.#level[source] = level ? 1 : 0;
    if (level && !this.#claimed[source]) this.#pending[source] = 1;
    this.#update();
  }

  /** MMIO read. */
  read(offset: number, _size: AccessSize): number {
    if (offset < 0x1000) {
      const source = offset >>> 2;
      return source < PLIC_SOURCES ? this.#priority[source] : 0;
    }
    if (offset === 0x1000) {
      let bits = 0;
      for (let s = 1; s < PLIC_SOURCES; s++) if (this.#pending[s]) bits |= 1 << s;
      return bits;
    }
    if (offset >= 0x2000 && offset < 0x200000) {
      const context = (offset - 0x2000) >>> 7;
      const word = ((offset - 0x2000) & 0x7f) >>> 2;
      return context < PLIC_CONTEXTS && word === 0 ? this.#enable[context] : 0;
    }
    if (offset >= 0x200000) {
      const context = (offset - 0x200000) >>> 12;
      if (context >= PLIC_CONTEXTS) return 0;
      const register = offset & 0xfff;
      if (register === 0) return this.#threshold[context];
      if (register === 4) return this.#claim(context);
    }
    return 0;
  }

  /** MMIO write. */
  write(offset: number, _size: AccessSize, value: number): void {
    if (offset < 0x1000) {
      const source = offset >>> 2;
      if (source > 0 && source < PLIC_SOURCES) this.#priority[source] = value & 7;
    } else if (offset >= 0x2000 && offset < 0x200000) {
      const context = (offset - 0x2000) >>> 7;
      const word = ((offset - 0x2000) & 0x7f) >>> 2;
      if (context < PLIC_CONTEXTS && word === 0) this.#enable[context] = value & ~1;
    } else if (offset >= 0x200000) {
      const context = (offset - 0x200000) >>> 12;
      if (context >= PLIC_CONTEXTS) return;
      const register = offset & 0xfff;
      if (register === 0) this.#threshold[context] = value & 7;
      else if (register === 4) this.#complete(context, value);
    }
    this.#update();
  }

  #best(context: number): number {
    let best = 0;
    let bestPriority = this.#threshold[context];
    const enabled = this.#enable[context];
    for (let s = 1; s < PLIC_SOURCES; s++) {
      if (this.#pending[s] && (enabled & (1 << s)) !== 0 && this.#priority[s] > bestPriority) {
        best = s;
        bestPriority = this.#priority[s];
      }
    }
    return best;
  }

  #claim(context: number): number {
    const source = this.#best(context);
    if (source !== 0) {
      this.#pending[source] = 0;
      this.#claimed[source] = 1;
      this.claims++;
    }
    this.#update();
    return source;
  }

  #complete(context: number, source: number): void {
    if (source <= 0 || source >= PLIC_SOURCES) return;
    if ((this.#enable[context] & (1 << source)) === 0) return;
    this.#claimed[source] = 0;
    if (this.#level[source]) this.#pending[source] = 1;
  }

  #update(): void {
    for (let c = 0; c < PLIC_CONTEXTS; c++) this.onOutput(c, this.#best(c) !== 0);
  }
}
