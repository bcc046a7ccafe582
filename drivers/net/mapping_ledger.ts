/**
 * A ledger of the long-lived writable grant mappings a backend worker holds — a netback's two
 * ring pages — kept in shared memory that outlives the worker. If the supervisor has to kill the
 * worker (it threw, or hung), the worker cannot unmap; the supervisor then releases what the
 * ledger lists: the frame's writable-map count in the frontend's `ForeignMaps` (so the frame can
 * become a page table again) and the grant entry's in-use flags.
 *
 * Rules of use: the worker records a mapping right after making it and clears it right after
 * undoing it; the supervisor calls {@link MappingLedger.release} only once the worker is gone.
 * Short-lived mappings (a copy's map and unmap) are not recorded: a kill in between leaks one
 * count at most.
 *
 * @module
 */

import { GTF_reading, GTF_writing } from "@paravirt/public";
import { ForeignMaps } from "@paravirt/mmu";
import type { GrantSource } from "../grant_mapper.ts";

/** Mappings a ledger holds. */
export const LEDGER_ENTRIES = 4;

/** Allocates a ledger's shared memory. */
export function createMappingLedger(): SharedArrayBuffer {
  return new SharedArrayBuffer(LEDGER_ENTRIES * 8);
}

/** A worker's ledger of writable mappings (see the module doc). */
export class MappingLedger {
  readonly #words: Int32Array;

  /** Wraps a ledger made by {@link createMappingLedger}. */
  constructor(buffer: SharedArrayBuffer) {
    if (buffer.byteLength < LEDGER_ENTRIES * 8) {
      throw new RangeError(`A mapping ledger needs ${LEDGER_ENTRIES * 8} bytes`);
    }
    this.#words = new Int32Array(buffer, 0, LEDGER_ENTRIES * 2);
  }

  /** Worker: records that grant `gref` maps region page `index` writable, in `entry`. */
  record(entry: number, gref: number, index: number): void {
    Atomics.store(this.#words, entry * 2 + 1, index);
    Atomics.store(this.#words, entry * 2, gref + 1); // publish point: index first
  }

  /** Worker: the mapping in `entry` was undone. */
  clear(entry: number): void {
    Atomics.store(this.#words, entry * 2, 0);
  }

  /** Mappings recorded now. */
  get recorded(): number {
    let n = 0;
    for (let e = 0; e < LEDGER_ENTRIES; e++) if (Atomics.load(this.#words, e * 2) !== 0) n++;
    return n;
  }

  /**
   * Supervisor, once the worker is gone: undoes every recorded mapping in `source` (the
   * frontend domain the worker served). Returns how many.
   */
  release(source: GrantSource): number {
    const frames = source.buffer.byteLength / 4096;
    const foreign = new ForeignMaps(frames, source.foreignMaps);
    const grants = new Int32Array(source.buffer);
    const entries = source.grantFrames * 512;
    let released = 0;
    for (let e = 0; e < LEDGER_ENTRIES; e++) {
      const gref = Atomics.exchange(this.#words, e * 2, 0) - 1;
      if (gref < 0) continue;
      const index = Atomics.load(this.#words, e * 2 + 1);
      if (index >= 0 && index < source.maxPages && foreign.writableMaps(index) > 0) {
        foreign.unmapWritable(index);
      }
      if (gref < entries) {
        const word = (source.grantFrameIndex * 4096 + gref * 8) / 4;
        Atomics.and(grants, word, ~(GTF_reading | GTF_writing));
      }
      released++;
    }
    return released;
  }
}
