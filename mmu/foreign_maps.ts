/**
 * Per-frame words shared between the hypervisor and the backends serving a domain, so that a
 * frame a backend maps writable through a grant can never become a page table, and a page table
 * can never be mapped writable by a backend — Xen's writable-type rule, kept across threads.
 *
 * Each word is `TABLE | count`: bit 31 says the frame is validated as a page table; the low bits
 * count the backends' writable mappings. Both sides change a word only with compare-exchange
 * from a state that allows the change, so the two can race without either rule breaking.
 *
 * @module
 */

const TABLE = 1 << 31;
const COUNT = 0x7fff_ffff;

/** The shared foreign-mapping state of one region's frames. */
export class ForeignMaps {
  /** The shared words (one per frame of the region); hand it to the domain's backends. */
  readonly buffer: SharedArrayBuffer;
  readonly #words: Int32Array;

  /** Creates the state for `frames` frames, or wraps a buffer received from another thread. */
  constructor(frames: number, buffer?: SharedArrayBuffer) {
    if (!Number.isInteger(frames) || frames <= 0) {
      throw new RangeError(`Frame count ${frames} is not a positive integer`);
    }
    this.buffer = buffer ?? new SharedArrayBuffer(frames * 4);
    if (this.buffer.byteLength < frames * 4) {
      throw new RangeError(
        `Buffer of ${this.buffer.byteLength} bytes is short of ${frames} frames`,
      );
    }
    this.#words = new Int32Array(this.buffer, 0, frames);
  }

  /** Number of frames covered. */
  get frames(): number {
    return this.#words.length;
  }

  #valid(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.#words.length;
  }

  /** Hypervisor: marks frame `index` a page table unless a backend maps it writable. */
  tryMarkTable(index: number): boolean {
    if (!this.#valid(index)) return false;
    const words = this.#words;
    for (;;) {
      const old = Atomics.load(words, index);
      if ((old & COUNT) !== 0) return false;
      if (Atomics.compareExchange(words, index, old, old | TABLE) === old) return true;
    }
  }

  /** Hypervisor: frame `index` is no longer a page table. */
  unmarkTable(index: number): void {
    if (this.#valid(index)) Atomics.and(this.#words, index, ~TABLE);
  }

  /** Backend: takes a writable mapping of frame `index` unless it is a page table. */
  tryMapWritable(index: number): boolean {
    if (!this.#valid(index)) return false;
    const words = this.#words;
    for (;;) {
      const old = Atomics.load(words, index);
      if ((old & TABLE) !== 0 || (old & COUNT) === COUNT) return false;
      if (Atomics.compareExchange(words, index, old, old + 1) === old) return true;
    }
  }

  /** Backend: drops a writable mapping of frame `index`. */
  unmapWritable(index: number): void {
    if (!this.#valid(index)) return;
    const words = this.#words;
    for (;;) {
      const old = Atomics.load(words, index);
      if ((old & COUNT) === 0) return;
      if (Atomics.compareExchange(words, index, old, old - 1) === old) return;
    }
  }

  /** Writable backend mappings of frame `index`. */
  writableMaps(index: number): number {
    return this.#valid(index) ? Atomics.load(this.#words, index) & COUNT : 0;
  }

  /** Whether frame `index` is marked a page table. */
  isTable(index: number): boolean {
    return this.#valid(index) && (Atomics.load(this.#words, index) & TABLE) !== 0;
  }
}
