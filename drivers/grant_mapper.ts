/**
 * Grant access for a backend: the checks Xen's grant-table code makes when domain 0 maps, unmaps
 * or copies a frontend's granted frame, over the frontend's memory as a {@link GrantSource}.
 *
 * For a v1 entry `{flags, domid, frame}` (Xen's rules, Xen's status codes):
 * - the reference must lie in the grant table (`GNTST_bad_gntref`);
 * - the entry must be `GTF_permit_access` for our domain, and not `GTF_readonly` when we want to
 *   write (`GNTST_general_error`);
 * - the frame must be one of the frontend's ordinary pages (`GNTST_bad_page`), and for writing
 *   must not be a page table (`ForeignMaps`; `GNTST_general_error`);
 * - while mapped, the entry carries `GTF_reading`/`GTF_writing`, set and cleared atomically with
 *   the flags and domid checked in the same compare-exchange, so a frontend revoking a grant
 *   concurrently either wins (we refuse) or sees the grant in use.
 *
 * Rules of use: every access a backend makes to frontend memory goes through a mapping made here;
 * a backend holds no other view of the domain. Guest input never throws: results are status codes.
 *
 * @module
 */

import {
  GNTST_bad_gntref,
  GNTST_bad_page,
  GNTST_general_error,
  GNTST_okay,
  GRANT_ENTRIES_PER_FRAME,
  GRANT_ENTRY_V1,
  GTF_permit_access,
  GTF_reading,
  GTF_readonly,
  GTF_writing,
} from "@paravirt/public";
import { ForeignMaps } from "@paravirt/mmu";

const GTF_type_mask = 3;

/** The frontend memory a backend is given (the hypervisor's `ForeignDomainView`). */
export interface GrantSource {
  /** The frontend's domain id. */
  readonly domid: number;
  /** Its region. */
  readonly buffer: SharedArrayBuffer;
  /** Machine frame of the region's first frame. */
  readonly firstFrame: number;
  /** Ordinary pages (region indices below this). */
  readonly maxPages: number;
  /** Region index of the first grant-table frame. */
  readonly grantFrameIndex: number;
  /** Grant-table frames. */
  readonly grantFrames: number;
  /** The shared foreign-mapping words. */
  readonly foreignMaps: SharedArrayBuffer;
}

/** A granted frame mapped by the backend. */
export interface GrantMapping {
  /** The grant reference. */
  readonly gref: number;
  /** Whether it was mapped for writing. */
  readonly writable: boolean;
  /** The frame's 4096 bytes (a view into the frontend's memory). */
  readonly bytes: Uint8Array;
  /** Byte offset of the frame in the region (for word views and file I/O). */
  readonly offset: number;
}

interface Pin {
  readers: number;
  writers: number;
  index: number;
}

/** Maps, unmaps and copies a frontend's grants for one backend domain. */
export class GrantMapper {
  /** The frontend's domain id. */
  readonly frontend: number;
  /** Maps made (a metric). */
  maps = 0;
  readonly #source: GrantSource;
  readonly #flags: Int32Array;
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #foreign: ForeignMaps;
  readonly #backendDomid: number;
  readonly #pins = new Map<number, Pin>();
  readonly #entries: number;

  /** Grant access to `source` for backend domain `backendDomid` (0: dom0). */
  constructor(source: GrantSource, backendDomid = 0) {
    this.#source = source;
    this.frontend = source.domid;
    this.#backendDomid = backendDomid;
    this.#words = new Int32Array(source.buffer);
    this.#flags = this.#words;
    this.#bytes = new Uint8Array(source.buffer);
    this.#foreign = new ForeignMaps(source.buffer.byteLength / 4096, source.foreignMaps);
    this.#entries = source.grantFrames * GRANT_ENTRIES_PER_FRAME;
  }

  /** Word index of grant entry `gref`'s first word (flags | domid << 16). */
  #entryWord(gref: number): number {
    return (this.#source.grantFrameIndex * 4096 + gref * GRANT_ENTRY_V1.size) / 4;
  }

  /** Maps grant `gref` for reading or writing. Returns the mapping or a `GNTST_*` code. */
  map(gref: number, writable: boolean): GrantMapping | number {
    if (!Number.isInteger(gref) || gref < 0 || gref >= this.#entries) return GNTST_bad_gntref;
    const word = this.#entryWord(gref);
    const pin = this.#pins.get(gref);
    // Check flags and domid and mark the entry in use in one compare-exchange.
    for (;;) {
      const old = Atomics.load(this.#flags, word);
      const flags = old & 0xffff;
      const domid = old >>> 16;
      if ((flags & GTF_type_mask) !== GTF_permit_access || domid !== this.#backendDomid) {
        return GNTST_general_error;
      }
      if (writable && (flags & GTF_readonly) !== 0) return GNTST_general_error;
      const marked = old | GTF_reading | (writable ? GTF_writing : 0);
      if (Atomics.compareExchange(this.#flags, word, old, marked) === old) break;
    }
    const frame = this.#words[word + GRANT_ENTRY_V1.offset.frame / 4] >>> 0;
    const index = frame - this.#source.firstFrame;
    const fail = (code: number) => {
      if (!pin) this.#clearInUse(word, 0, 0);
      else this.#clearInUse(word, pin.readers, pin.writers);
      return code;
    };
    if (index < 0 || index >= this.#source.maxPages) return fail(GNTST_bad_page);
    if (pin && pin.index !== index) return fail(GNTST_general_error); // changed while mapped
    if (writable && !this.#foreign.tryMapWritable(index)) return fail(GNTST_general_error);
    const entry = pin ?? { readers: 0, writers: 0, index };
    if (writable) entry.writers++;
    else entry.readers++;
    this.#pins.set(gref, entry);
    this.maps++;
    const offset = index * 4096;
    return { gref, writable, bytes: this.#bytes.subarray(offset, offset + 4096), offset };
  }

  #clearInUse(word: number, readers: number, writers: number): void {
    let clear = 0;
    if (writers === 0) clear |= GTF_writing;
    if (readers === 0 && writers === 0) clear |= GTF_reading;
    if (clear !== 0) Atomics.and(this.#flags, word, ~clear);
  }

  /** Unmaps a mapping made by {@link map}. Returns `GNTST_okay` or `GNTST_bad_handle`-like -4. */
  unmap(mapping: GrantMapping): number {
    const pin = this.#pins.get(mapping.gref);
    if (!pin || (mapping.writable ? pin.writers : pin.readers) === 0) return -4;
    if (mapping.writable) {
      pin.writers--;
      this.#foreign.unmapWritable(pin.index);
    } else {
      pin.readers--;
    }
    this.#clearInUse(this.#entryWord(mapping.gref), pin.readers, pin.writers);
    if (pin.readers === 0 && pin.writers === 0) this.#pins.delete(mapping.gref);
    return GNTST_okay;
  }

  /** Grants currently mapped. */
  get mapped(): number {
    return this.#pins.size;
  }

  /** Unmaps everything (a backend shutting down or restarting its connection). */
  unmapAll(): void {
    for (const [gref, pin] of this.#pins) {
      for (let i = 0; i < pin.writers; i++) this.#foreign.unmapWritable(pin.index);
      this.#clearInUse(this.#entryWord(gref), 0, 0);
    }
    this.#pins.clear();
  }

  /**
   * Copies `length` bytes at `offset` of granted frame `gref` into `target` (GNTTABOP_copy from
   * a grant). Returns a `GNTST_*` code.
   */
  copyFrom(gref: number, offset: number, length: number, target: Uint8Array): number {
    if (!validSpan(offset, length) || target.length < length) return GNTST_general_error;
    const mapping = this.map(gref, false);
    if (typeof mapping === "number") return mapping;
    target.set(mapping.bytes.subarray(offset, offset + length));
    this.unmap(mapping);
    return GNTST_okay;
  }

  /** Copies `source` into granted frame `gref` at `offset` (GNTTABOP_copy to a grant). */
  copyTo(gref: number, offset: number, source: Uint8Array): number {
    if (!validSpan(offset, source.length)) return GNTST_general_error;
    const mapping = this.map(gref, true);
    if (typeof mapping === "number") return mapping;
    mapping.bytes.set(source, offset);
    this.unmap(mapping);
    return GNTST_okay;
  }
}

function validSpan(offset: number, length: number): boolean {
  return Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 &&
    offset + length <= 4096;
}
