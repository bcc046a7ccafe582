/**
 * A hart's memory-management unit: its translation context, Sv32 walker and software TLB.
 *
 * Rules of use: the CPU's instruction loop reads the {@link TlbSet} arrays directly on its fast
 * path and calls {@link Mmu.translate} on a miss. The TLB is direct-mapped, one set per privilege
 * level and access kind, so a trap between U and S switches sets instead of flushing them. Every
 * change that can alter a translation result (satp, SUM, MXR, a region unmapped, SFENCE.VMA) must
 * go through this class so the sets are flushed. Only RAM is cached; MMIO always takes the slow path.
 *
 * @module
 */

import { FRAME_DIRTY, FRAME_WATCHED } from "./region.ts";
import type { PhysicalMemory, TranslationCache } from "./physical_memory.ts";
import { PAGE_SIZE, TLB_ENTRIES } from "./params.ts";
import { PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, SATP_PPN_MASK } from "./sv32.ts";

/** Access kind: instruction fetch. */
export const ACCESS_FETCH = 0;
/** Access kind: load (and LR). */
export const ACCESS_LOAD = 1;
/** Access kind: store (and SC, AMOs). */
export const ACCESS_STORE = 2;

/** Translation succeeded to RAM; {@link Mmu.region} and {@link Mmu.offset} say where. */
export const XLATE_RAM = 0;
/** Translation succeeded to RAM in a watched frame: store, then call `notifyStore`. */
export const XLATE_RAM_WATCHED = 1;
/** Translation succeeded to a device window; {@link Mmu.address} holds the physical address. */
export const XLATE_MMIO = 2;
/** Page fault (cause 12, 13 or 15 by access kind). */
export const XLATE_PAGE_FAULT = 3;
/** Access fault: nothing at that physical address, or a PTE outside RAM (cause 1, 5 or 7). */
export const XLATE_ACCESS_FAULT = 4;

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_HALVES = new Uint16Array(0);
const EMPTY_WORDS = new Int32Array(0);

/**
 * One direct-mapped TLB set. Entry `i` caches virtual page `tag[i]` (or -1): its bytes are the
 * views `bytes[i]`/`halves[i]`/`words[i]` starting at byte `offset[i]`.
 */
export class TlbSet {
  /** Virtual page number cached in each entry, -1 when empty. */
  readonly tag: Int32Array = new Int32Array(TLB_ENTRIES).fill(-1);
  /** Byte offset of the cached page within its region's views. */
  readonly offset: Int32Array = new Int32Array(TLB_ENTRIES);
  /** Byte view of the region holding each cached page. */
  readonly bytes: Uint8Array[] = new Array(TLB_ENTRIES).fill(EMPTY_BYTES);
  /** Half-word view of the region holding each cached page. */
  readonly halves: Uint16Array[] = new Array(TLB_ENTRIES).fill(EMPTY_HALVES);
  /** Word view of the region holding each cached page. */
  readonly words: Int32Array[] = new Array(TLB_ENTRIES).fill(EMPTY_WORDS);

  /** Empties the set. */
  flush(): void {
    this.tag.fill(-1);
  }
}

/** The per-hart MMU. */
export class Mmu implements TranslationCache {
  /** The physical address space translations land in. */
  readonly memory: PhysicalMemory;
  /** Output of the last successful {@link translate}: index of the RAM region. */
  region = 0;
  /** Output of the last successful {@link translate}: byte offset within the region. */
  offset = 0;
  /** Output of the last successful {@link translate}: physical address (up to 34 bits). */
  address = 0;
  /** Number of page-table walks done (a metric). */
  walks = 0;

  #satp = 0;
  #sum = false;
  #mxr = false;
  /**
   * 4 MiB regions (va >>> 22) with TLB entries made from a megapage leaf since the last full
   * flush: a single-page flush inside one must drop every 4 KiB piece of that megapage.
   */
  readonly #megapages = new Set<number>();
  /** Whether the last walk ended at a megapage leaf. */
  #megapage = false;
  /** Sets indexed by `privilege * 3 + kind`; privilege 2 (reserved) is never used. */
  readonly #sets: TlbSet[] = [];

  /** Creates the MMU of one hart over `memory` and registers its TLB for flushes. */
  constructor(memory: PhysicalMemory) {
    this.memory = memory;
    for (let i = 0; i < 12; i++) this.#sets.push(new TlbSet());
    memory.attachCache(this);
  }

  /** The TLB set used for accesses of `kind` at `privilege` (0 U, 1 S, 3 M). */
  set(kind: number, privilege: number): TlbSet {
    return this.#sets[privilege * 3 + kind];
  }

  /** Current `satp`. */
  get satp(): number {
    return this.#satp;
  }

  /**
   * Sets the translation context: `satp` and mstatus's SUM and MXR. Flushes the S and U sets when
   * anything changed (a write of the same satp still flushes: software expects that of SFENCE).
   */
  setContext(satp: number, sum: boolean, mxr: boolean): void {
    if (satp === this.#satp && sum === this.#sum && mxr === this.#mxr) return;
    this.#satp = satp | 0;
    this.#sum = sum;
    this.#mxr = mxr;
    this.flushTranslated();
  }

  /** Drops the S and U sets (SFENCE.VMA, satp writes). M-mode's identity sets survive. */
  flushTranslated(): void {
    for (let i = 0; i < 6; i++) this.#sets[i].flush();
    this.#megapages.clear();
  }

  /**
   * Drops the S and U translations of the page holding virtual address `va` (SFENCE.VMA with an
   * address). The TLB holds megapages as 4 KiB pieces, so when `va` lies in a megapage that has
   * pieces cached, every translated entry goes, as the spec requires of entries made from the
   * leaf that maps `va`.
   */
  flushPage(va: number): void {
    const vpn = va >>> 12;
    if (this.#megapages.has(vpn >>> 10)) {
      this.flushTranslated();
      return;
    }
    const slot = vpn & (TLB_ENTRIES - 1);
    for (let i = 0; i < 6; i++) {
      const tag = this.#sets[i].tag;
      if (tag[slot] === vpn) tag[slot] = -1;
    }
  }

  /** Drops every set (the physical address space changed). */
  flushAll(): void {
    for (const set of this.#sets) set.flush();
    this.#megapages.clear();
  }

  /** Drops the store sets (dirty logging restarted, a frame became watched). */
  flushStores(): void {
    for (let p = 0; p < 4; p++) this.#sets[p * 3 + ACCESS_STORE].flush();
  }

  /**
   * Translates virtual address `va` for an access of `kind` at `privilege`, walking the Sv32 tables
   * (setting A and D as hardware does) when satp selects Sv32 and privilege is below M. On success
   * to ordinary RAM the page is entered in the matching TLB set. Returns an `XLATE_*` status.
   */
  translate(va: number, kind: number, privilege: number): number {
    va = va >>> 0;
    let frame: number;
    let megapage = false;
    if (privilege === 3 || this.#satp >= 0) {
      frame = va >>> 12;
    } else {
      frame = this.#walk(va, kind, privilege);
      if (frame < 0) return frame === -2 ? XLATE_ACCESS_FAULT : XLATE_PAGE_FAULT;
      megapage = this.#megapage;
    }
    const memory = this.memory;
    const index = memory.regionIndexOf(frame);
    const pageOffset = va & (PAGE_SIZE - 1);
    if (index < 0) {
      this.address = frame * PAGE_SIZE + pageOffset;
      const window = memory.mmioAt(this.address);
      return window && kind !== ACCESS_FETCH ? XLATE_MMIO : XLATE_ACCESS_FAULT;
    }
    const region = memory.regions[index];
    const frameIndex = frame - region.firstFrame;
    const pageStart = frameIndex * PAGE_SIZE;
    this.region = index;
    this.offset = pageStart + pageOffset;
    this.address = frame * PAGE_SIZE + pageOffset;
    if (kind === ACCESS_STORE) {
      if (memory.dirtyLogging) region.frameFlags[frameIndex] |= FRAME_DIRTY;
      if (region.frameFlags[frameIndex] & FRAME_WATCHED) return XLATE_RAM_WATCHED;
    }
    const set = this.#sets[privilege * 3 + kind];
    const vpn = va >>> 12;
    if (megapage) this.#megapages.add(vpn >>> 10);
    const slot = vpn & (TLB_ENTRIES - 1);
    set.tag[slot] = vpn;
    set.offset[slot] = pageStart;
    set.bytes[slot] = region.bytes;
    set.halves[slot] = region.halves;
    set.words[slot] = region.words;
    return XLATE_RAM;
  }

  /** Walks the Sv32 tables. Returns the machine frame, -1 for a page fault, -2 for an access fault. */
  #walk(va: number, kind: number, privilege: number): number {
    this.walks++;
    const memory = this.memory;
    let table = this.#satp & SATP_PPN_MASK;
    let level = 1;
    let pte = 0;
    let words: Int32Array;
    let wordIndex: number;
    let flags: Uint8Array;
    let frameIndex: number;
    for (;;) {
      const vpnPart = level === 1 ? va >>> 22 : (va >>> 12) & 0x3ff;
      const index = memory.regionIndexOf(table);
      if (index < 0) return -2;
      const region = memory.regions[index];
      words = region.words;
      flags = region.frameFlags;
      frameIndex = table - region.firstFrame;
      wordIndex = (frameIndex << 10) + vpnPart;
      pte = words[wordIndex];
      if ((pte & PTE_V) === 0 || ((pte & PTE_R) === 0 && (pte & PTE_W) !== 0)) return -1;
      if ((pte & (PTE_R | PTE_X)) !== 0) break;
      if (level === 0) return -1;
      level = 0;
      table = pte >>> 10;
    }
    let ppn = pte >>> 10;
    this.#megapage = level === 1;
    if (level === 1) {
      if ((ppn & 0x3ff) !== 0) return -1; // misaligned superpage
      ppn = ppn | ((va >>> 12) & 0x3ff);
    }
    // Permission checks, in the spec's order.
    if ((pte & PTE_U) !== 0) {
      if (privilege === 1 && (kind === ACCESS_FETCH || !this.#sum)) return -1;
    } else if (privilege === 0) {
      return -1;
    }
    if (kind === ACCESS_FETCH) {
      if ((pte & PTE_X) === 0) return -1;
    } else if (kind === ACCESS_LOAD) {
      if ((pte & PTE_R) === 0 && !(this.#mxr && (pte & PTE_X) !== 0)) return -1;
    } else if ((pte & PTE_W) === 0) {
      return -1;
    }
    // Hardware A/D update, as QEMU does (Svadu behaviour).
    const wanted = kind === ACCESS_STORE ? PTE_A | PTE_D : PTE_A;
    if ((pte & wanted) !== wanted) {
      words[wordIndex] = pte | wanted;
      if (memory.dirtyLogging) flags[frameIndex] |= FRAME_DIRTY;
    }
    return ppn;
  }
}
