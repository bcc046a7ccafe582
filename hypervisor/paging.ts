/**
 * Validated direct paging, Xen's way, for Sv32: a PV guest's page tables hold machine frames, and
 * the frame table's types and counts guarantee three invariants —
 *
 * 1. a leaf entry maps only a frame the domain owns (read-only: a general reference; writable:
 *    also a `WRITABLE` type reference);
 * 2. a frame in use as a page table (`PT_LEAF` or `PT_ROOT` type) is never writable through any
 *    mapping — the two types exclude each other while either has references;
 * 3. a root entry points only at a validated leaf table, and `satp` only at a validated root.
 *
 * A frame's entries are validated when its page-table type count goes 0 → 1 (each entry takes its
 * reference) and released when it goes back to 0. Updates go through {@link Paging.update}: the new
 * entry's reference is taken before the old one's is dropped.
 *
 * Rules of use: every method answers guest input with 0 or a negative Xen errno and never throws
 * on it. Sv32 naming: level 1 is the root (Xen's "L2"), level 0 the leaf tables (Xen's "L1").
 * Superpages are refused; so are `W` without `R` and pointers at level 0. Frames not owned by the
 * domain answer -EPERM, malformed entries and type conflicts -EINVAL.
 *
 * @module
 */

import { EINVAL, EPERM } from "@paravirt/public";
import {
  FRAME_PINNED,
  FRAME_TYPE_PT_LEAF,
  FRAME_TYPE_PT_ROOT,
  FRAME_TYPE_WRITABLE,
  type FrameTable,
  type PhysicalMemory,
  PTE_A,
  PTE_D,
  PTE_R,
  PTE_V,
  PTE_W,
  PTE_X,
} from "@paravirt/mmu";

/** Entries in an Sv32 table. */
const ENTRIES = 1024;

/**
 * Another party that must agree before a frame becomes a page table (the domain's backends, which
 * may hold writable grant mappings of it): `claim` returns false to refuse.
 */
export interface TableClaims {
  /** Claims `mfn` as a page table; false if someone maps it writable. */
  claim(mfn: number): boolean;
  /** Releases the claim on `mfn`. */
  release(mfn: number): void;
}

/** Validated page tables of one domain. */
export class Paging {
  /** The domain whose frames these are. */
  readonly domid: number;
  /**
   * Called when a frame becomes a page table: any TLB of the domain may still cache a writable
   * mapping of it, so all must be flushed (Xen's TLB-flush filter does the same job).
   */
  onPromote: () => void = () => {};
  /** Who else must agree before a frame becomes a page table. */
  claims: TableClaims = { claim: () => true, release: () => {} };
  /** Updates validated (a metric). */
  updates = 0;
  /** Frames validated as page tables (a metric). */
  validations = 0;

  readonly #frames: FrameTable;
  readonly #memory: PhysicalMemory;
  /** Frames whose validation is in progress (a cycle through them must fail). */
  readonly #validating = new Set<number>();

  /** Paging for domain `domid`, whose frames live in the machine `memory` tracked by `frames`. */
  constructor(domid: number, frames: FrameTable, memory: PhysicalMemory) {
    this.domid = domid;
    this.#frames = frames;
    this.#memory = memory;
  }

  /** Whether `mfn` is RAM owned by this domain. */
  owns(mfn: number): boolean {
    return this.#frames.isRam(mfn) && this.#frames.owner(mfn) === this.domid;
  }

  #words(mfn: number): [Int32Array, number] {
    const region = this.#memory.regionOf(mfn)!;
    return [region.words, (mfn - region.firstFrame) << 10];
  }

  /** Reads entry `index` of table `mfn` (the frame must be RAM). */
  readEntry(mfn: number, index: number): number {
    const [words, base] = this.#words(mfn);
    return words[base + index];
  }

  /**
   * Takes a type reference of `type` on `mfn`, validating its entries first when it becomes a
   * page table. Returns 0 or -errno.
   */
  getType(mfn: number, type: number): number {
    if (!this.owns(mfn)) return -EPERM;
    const frames = this.#frames;
    if (frames.typeCount(mfn) > 0) {
      if (frames.type(mfn) !== type) return -EINVAL;
      frames.getType(mfn, type);
      return 0;
    }
    if (type === FRAME_TYPE_PT_LEAF || type === FRAME_TYPE_PT_ROOT) {
      if (this.#validating.has(mfn)) return -EINVAL;
      if (!this.claims.claim(mfn)) return -EINVAL; // a backend maps it writable
      this.#validating.add(mfn);
      const rc = this.#validate(mfn, type === FRAME_TYPE_PT_ROOT ? 1 : 0);
      this.#validating.delete(mfn);
      if (rc < 0) {
        this.claims.release(mfn);
        return rc;
      }
      this.validations++;
      frames.getType(mfn, type);
      this.onPromote();
      return 0;
    }
    frames.getType(mfn, type);
    return 0;
  }

  /** Drops a type reference; a page table whose last reference goes releases its entries. */
  putType(mfn: number): void {
    const frames = this.#frames;
    const type = frames.type(mfn);
    frames.putType(mfn);
    if (frames.typeCount(mfn) !== 0) return;
    if (type === FRAME_TYPE_PT_LEAF || type === FRAME_TYPE_PT_ROOT) {
      const level = type === FRAME_TYPE_PT_ROOT ? 1 : 0;
      const [words, base] = this.#words(mfn);
      for (let i = 0; i < ENTRIES; i++) this.#putEntry(words[base + i], level);
      this.claims.release(mfn);
    }
  }

  /** Validates every entry of table `mfn` at `level`, rolling back on the first bad one. */
  #validate(mfn: number, level: number): number {
    const [words, base] = this.#words(mfn);
    for (let i = 0; i < ENTRIES; i++) {
      const rc = this.#getEntry(words[base + i], level);
      if (rc < 0) {
        for (let j = 0; j < i; j++) this.#putEntry(words[base + j], level);
        return rc;
      }
    }
    return 0;
  }

  /** Takes the references entry `pte` at `level` needs. Returns 0 or -errno. */
  #getEntry(pte: number, level: number): number {
    if ((pte & PTE_V) === 0) return 0;
    const mfn = pte >>> 10;
    const leaf = (pte & (PTE_R | PTE_X)) !== 0;
    if ((pte & PTE_W) !== 0 && (pte & PTE_R) === 0) return -EINVAL;
    if (level === 1) {
      if (leaf) return -EINVAL; // superpages are not supported for PV guests
      return this.getType(mfn, FRAME_TYPE_PT_LEAF);
    }
    if (!leaf) return -EINVAL; // a pointer below the last level
    if (!this.owns(mfn)) return -EPERM;
    if ((pte & PTE_W) !== 0) {
      const rc = this.getType(mfn, FRAME_TYPE_WRITABLE);
      if (rc < 0) return rc;
    }
    this.#frames.getPage(mfn, this.domid);
    return 0;
  }

  /** Drops the references a previously validated entry held. */
  #putEntry(pte: number, level: number): void {
    if ((pte & PTE_V) === 0) return;
    const mfn = pte >>> 10;
    if (level === 1) {
      this.putType(mfn);
      return;
    }
    this.#frames.putPage(mfn);
    if ((pte & PTE_W) !== 0) this.putType(mfn);
  }

  /**
   * Writes `value` into the 32-bit word at machine address `address` on the guest's behalf
   * (MMU_NORMAL_PT_UPDATE): validated as a page-table entry when the frame is a page table, a
   * plain write when it is an ordinary frame of the domain. `preserveAD` keeps the accessed and
   * dirty bits the walker set (MMU_PT_UPDATE_PRESERVE_AD). Returns 0 or -errno.
   */
  update(address: number, value: number, preserveAD: boolean): number {
    if (!Number.isInteger(address) || address < 0 || (address & 3) !== 0) return -EINVAL;
    const mfn = Math.floor(address / 4096);
    if (!this.owns(mfn)) return -EPERM;
    const index = (address & 4095) >>> 2;
    const frames = this.#frames;
    const [words, base] = this.#words(mfn);
    const old = words[base + index];
    let level = -1;
    if (frames.typeCount(mfn) > 0) {
      const type = frames.type(mfn);
      if (type === FRAME_TYPE_PT_LEAF) level = 0;
      else if (type === FRAME_TYPE_PT_ROOT) level = 1;
    }
    if (preserveAD) value |= old & (PTE_A | PTE_D);
    value |= 0;
    if (level < 0) {
      words[base + index] = value;
      return 0;
    }
    const rc = this.#getEntry(value, level);
    if (rc < 0) return rc;
    words[base + index] = value;
    this.#putEntry(old, level);
    this.updates++;
    return 0;
  }

  /** Pins `mfn` as a table of `type` (MMUEXT_PIN_*): validates it and holds it. 0 or -errno. */
  pin(mfn: number, type: number): number {
    if (!this.owns(mfn)) return -EPERM;
    if ((this.#frames.flags(mfn) & FRAME_PINNED) !== 0) return -EINVAL;
    const rc = this.getType(mfn, type);
    if (rc < 0) return rc;
    this.#frames.setFlags(mfn, this.#frames.flags(mfn) | FRAME_PINNED);
    return 0;
  }

  /** Unpins `mfn` (MMUEXT_UNPIN_TABLE). 0 or -errno. */
  unpin(mfn: number): number {
    if (!this.owns(mfn)) return -EPERM;
    const flags = this.#frames.flags(mfn);
    if ((flags & FRAME_PINNED) === 0) return -EINVAL;
    this.#frames.setFlags(mfn, flags & ~FRAME_PINNED);
    this.putType(mfn);
    return 0;
  }

  /**
   * Finds the machine address of the leaf entry that maps `va` under root `rootMfn`, or -EINVAL
   * when the root entry is not a pointer to a leaf table (for update_va_mapping).
   */
  leafEntryAddress(rootMfn: number, va: number): number {
    const rootEntry = this.readEntry(rootMfn, va >>> 22);
    if ((rootEntry & PTE_V) === 0 || (rootEntry & (PTE_R | PTE_W | PTE_X)) !== 0) return -EINVAL;
    const leaf = rootEntry >>> 10;
    return leaf * 4096 + ((va >>> 12) & 0x3ff) * 4;
  }
}
