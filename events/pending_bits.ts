/**
 * Xen's 2-level event bitmaps as they live in a domain's shared-info page: `evtchn_pending` and
 * `evtchn_mask` (64 × 64-bit words), each vCPU's `evtchn_pending_sel` word and its
 * `evtchn_upcall_pending`/`evtchn_upcall_mask` bytes.
 *
 * Rules of use: the page is guest memory, shared with a guest that changes it concurrently (its
 * own vCPU on another slice, or later another thread), so every read-modify-write is atomic
 * (Atomics on the 32-bit halves of the 64-bit words; little-endian: port p is bit p % 32 of
 * 32-bit word p / 32). Nothing here trusts a value it reads back.
 *
 * @module
 */

import { SHARED_INFO, VCPU_INFO } from "@paravirt/public";

const PENDING_WORD = SHARED_INFO.offset.evtchn_pending / 4;
const MASK_WORD = SHARED_INFO.offset.evtchn_mask / 4;
const SEL_WORD = VCPU_INFO.offset.evtchn_pending_sel / 4;
const UPCALL_WORD = VCPU_INFO.offset.evtchn_upcall_pending / 4;

/** The event bitmaps of one shared-info page, seen through the words of its memory region. */
export class PendingBits {
  readonly #words: Int32Array;
  readonly #base: number;

  /**
   * Views the shared-info page starting at byte `offset` of `words`' buffer (4 KiB aligned).
   */
  constructor(words: Int32Array, offset: number) {
    if (offset % 4096 !== 0) throw new RangeError(`Shared-info offset ${offset} is not a page`);
    this.#words = words;
    this.#base = offset / 4;
  }

  #testAndSet(wordIndex: number, bit: number): boolean {
    const mask = 1 << bit;
    return (Atomics.or(this.#words, this.#base + wordIndex, mask) & mask) !== 0;
  }

  #testAndClear(wordIndex: number, bit: number): boolean {
    const mask = 1 << bit;
    return (Atomics.and(this.#words, this.#base + wordIndex, ~mask) & mask) !== 0;
  }

  #test(wordIndex: number, bit: number): boolean {
    return (Atomics.load(this.#words, this.#base + wordIndex) & (1 << bit)) !== 0;
  }

  /** Sets port's pending bit; returns whether it was already set. */
  testAndSetPending(port: number): boolean {
    return this.#testAndSet(PENDING_WORD + (port >>> 5), port & 31);
  }

  /** Clears port's pending bit; returns whether it was set. */
  testAndClearPending(port: number): boolean {
    return this.#testAndClear(PENDING_WORD + (port >>> 5), port & 31);
  }

  /** Whether port is pending. */
  isPending(port: number): boolean {
    return this.#test(PENDING_WORD + (port >>> 5), port & 31);
  }

  /** Whether port is masked. */
  isMasked(port: number): boolean {
    return this.#test(MASK_WORD + (port >>> 5), port & 31);
  }

  /** Sets port's mask bit. */
  mask(port: number): void {
    this.#testAndSet(MASK_WORD + (port >>> 5), port & 31);
  }

  /** Clears port's mask bit; returns whether it was set. */
  testAndClearMask(port: number): boolean {
    return this.#testAndClear(MASK_WORD + (port >>> 5), port & 31);
  }

  /** Sets the selector bit of port's 64-bit word in vCPU 0's `evtchn_pending_sel`. */
  testAndSetSelector(port: number): boolean {
    const word = port >>> 6; // 64 ports per selector bit
    return this.#testAndSet(SEL_WORD + (word >>> 5), word & 31);
  }

  /** Sets `evtchn_upcall_pending` of vCPU 0; returns whether it was already set. */
  testAndSetUpcallPending(): boolean {
    // The byte is the lowest of its word; the guest writes it with byte stores.
    return (Atomics.or(this.#words, this.#base + UPCALL_WORD, 1) & 1) !== 0;
  }

  /** Clears `evtchn_upcall_pending` of vCPU 0 (a host-side consumer acknowledging). */
  clearUpcallPending(): void {
    Atomics.and(this.#words, this.#base + UPCALL_WORD, ~0xff);
  }

  /** Clears vCPU 0's whole 64-bit selector word (a consumer that scans every bitmap word). */
  clearSelector(): void {
    Atomics.store(this.#words, this.#base + SEL_WORD, 0);
    Atomics.store(this.#words, this.#base + SEL_WORD + 1, 0);
  }

  /**
   * Takes the pending, unmasked ports of 32-bit bitmap word `word` (ports 32*word ..): clears
   * their pending bits and returns them as a bit set.
   */
  takePendingWord(word: number): number {
    const pending = Atomics.load(this.#words, this.#base + PENDING_WORD + word);
    const ready = pending & ~Atomics.load(this.#words, this.#base + MASK_WORD + word);
    if (ready !== 0) Atomics.and(this.#words, this.#base + PENDING_WORD + word, ~ready);
    return ready;
  }

  /** Whether vCPU 0 should see an upcall now: upcall pending and not masked. */
  upcallDue(): boolean {
    const word = Atomics.load(this.#words, this.#base + UPCALL_WORD);
    return (word & 0xff) !== 0 && ((word >>> 8) & 0xff) === 0;
  }
}
