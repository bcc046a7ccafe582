/**
 * The frame table: for every machine frame, its owner, its type with a type count, and a general
 * reference count — the bookkeeping that makes paravirtual (direct) paging safe, as in Xen's
 * `struct page_info`.
 *
 * Rules of use: a frame's type can change only while its type count is zero; a page-table type is
 * taken only after the hypervisor validated the frame's entries, and a frame typed as a page table
 * can never also be typed writable. Owners are domain ids; {@link DOMID_FREE} marks unallocated
 * frames and {@link DOMID_XEN} frames the hypervisor keeps for itself.
 *
 * @module
 */

import type { MemoryRegion } from "./region.ts";
import type { PhysicalMemory } from "./physical_memory.ts";

/** Owner of a frame nobody owns. */
export const DOMID_FREE: number = -1;
/** Owner of frames reserved to the hypervisor (Xen's `DOMID_XEN`). */
export const DOMID_XEN = 0x7ff2;

/** No type: the frame may become anything. */
export const FRAME_TYPE_NONE = 0;
/** Mapped writable somewhere. */
export const FRAME_TYPE_WRITABLE = 1;
/** A validated Sv32 leaf-level table (level 0). */
export const FRAME_TYPE_PT_LEAF = 2;
/** A validated Sv32 root table (level 1). */
export const FRAME_TYPE_PT_ROOT = 3;

/** Type flag: the frame is pinned as its type (holds one type reference until unpinned). */
export const FRAME_PINNED = 1;

interface RegionInfo {
  owner: Int32Array;
  type: Uint8Array;
  typeCount: Uint32Array;
  refCount: Uint32Array;
  flags: Uint8Array;
}

/** Owner, type and reference counts of every machine frame in a {@link PhysicalMemory}. */
export class FrameTable {
  readonly #memory: PhysicalMemory;
  readonly #info = new Map<MemoryRegion, RegionInfo>();

  /** Creates the table for the RAM of `memory`; regions added later are tracked on first use. */
  constructor(memory: PhysicalMemory) {
    this.#memory = memory;
  }

  #slot(frame: number): [RegionInfo, number] {
    const region = this.#memory.regionOf(frame);
    if (!region) throw new RangeError(`Frame 0x${frame.toString(16)} is not RAM`);
    let info = this.#info.get(region);
    if (!info) {
      const n = region.frameCount;
      info = {
        owner: new Int32Array(n).fill(DOMID_FREE),
        type: new Uint8Array(n),
        typeCount: new Uint32Array(n),
        refCount: new Uint32Array(n),
        flags: new Uint8Array(n),
      };
      this.#info.set(region, info);
    }
    return [info, frame - region.firstFrame];
  }

  /** Drops the bookkeeping of a region that is being unmapped (its frames must be unreferenced). */
  forget(region: MemoryRegion): void {
    this.#info.delete(region);
  }

  /** Whether `frame` is RAM this table covers. */
  isRam(frame: number): boolean {
    return this.#memory.regionIndexOf(frame) >= 0;
  }

  /** Owner domain of `frame` ({@link DOMID_FREE} if unallocated). */
  owner(frame: number): number {
    const [info, i] = this.#slot(frame);
    return info.owner[i];
  }

  /** Assigns `frame` to `domid` (allocation) or frees it with {@link DOMID_FREE}; resets its type. */
  setOwner(frame: number, domid: number): void {
    const [info, i] = this.#slot(frame);
    if (info.refCount[i] !== 0 || info.typeCount[i] !== 0) {
      throw new RangeError(`Frame 0x${frame.toString(16)} is still referenced`);
    }
    info.owner[i] = domid;
    info.type[i] = FRAME_TYPE_NONE;
    info.flags[i] = 0;
  }

  /** Current type of `frame`. */
  type(frame: number): number {
    const [info, i] = this.#slot(frame);
    return info.type[i];
  }

  /** Number of type references to `frame`. */
  typeCount(frame: number): number {
    const [info, i] = this.#slot(frame);
    return info.typeCount[i];
  }

  /** Number of general references to `frame`. */
  refCount(frame: number): number {
    const [info, i] = this.#slot(frame);
    return info.refCount[i];
  }

  /** Takes a general reference if `frame` is RAM owned by `domid`; false otherwise. */
  getPage(frame: number, domid: number): boolean {
    if (!this.isRam(frame)) return false;
    const [info, i] = this.#slot(frame);
    if (info.owner[i] !== domid) return false;
    info.refCount[i]++;
    return true;
  }

  /** Drops a general reference. */
  putPage(frame: number): void {
    const [info, i] = this.#slot(frame);
    if (info.refCount[i] === 0) throw new RangeError(`Frame 0x${frame.toString(16)} has no refs`);
    info.refCount[i]--;
  }

  /**
   * Takes a type reference of `type`: succeeds when the frame already has that type, or has no type
   * references so its type may change. Validation of page-table contents is the caller's job and
   * must happen before the first reference of a page-table type is taken.
   */
  getType(frame: number, type: number): boolean {
    const [info, i] = this.#slot(frame);
    if (info.typeCount[i] === 0) info.type[i] = type;
    else if (info.type[i] !== type) return false;
    info.typeCount[i]++;
    return true;
  }

  /** Drops a type reference; the type is kept (so a revalidation is not needed) until reused. */
  putType(frame: number): void {
    const [info, i] = this.#slot(frame);
    if (info.typeCount[i] === 0) throw new RangeError(`Frame 0x${frame.toString(16)} is untyped`);
    info.typeCount[i]--;
  }

  /** Flag bits of `frame` ({@link FRAME_PINNED}). */
  flags(frame: number): number {
    const [info, i] = this.#slot(frame);
    return info.flags[i];
  }

  /** Replaces the flag bits of `frame`. */
  setFlags(frame: number, flags: number): void {
    const [info, i] = this.#slot(frame);
    info.flags[i] = flags;
  }
}
