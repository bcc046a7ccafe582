/**
 * Access to a guest's memory by guest virtual address, as Xen's `copy_from_guest`/`copy_to_guest`:
 * the address is translated through the calling vCPU's own page tables with supervisor rights (so
 * a hypercall can only touch what the guest kernel itself could), one page at a time.
 *
 * Rules of use: a failed translation throws {@link GuestFault}, which the hypercall dispatcher
 * turns into -EFAULT; nothing else here throws on guest input. Stores that land in a watched frame
 * (the shared-info page) are reported to its watcher, as a store by the guest would be.
 *
 * @module
 */

import {
  ACCESS_LOAD,
  ACCESS_STORE,
  FRAME_WATCHED,
  TLB_ENTRIES,
  XLATE_RAM,
  XLATE_RAM_WATCHED,
} from "@paravirt/mmu";
import { type Hart, PRIV_S } from "@paravirt/cpu";

/** A guest virtual address that does not translate for the access (answered with -EFAULT). */
export class GuestFault extends Error {
  /** Creates the fault for address `va`. */
  constructor(readonly va: number) {
    super(`Guest address 0x${(va >>> 0).toString(16)} does not translate`);
    this.name = "GuestFault";
  }
}

/** Reads and writes guest virtual memory through one vCPU's translation context. */
export class GuestMemory {
  readonly #hart: Hart;

  /** Accesses memory as seen by `hart`'s current page tables. */
  constructor(hart: Hart) {
    this.#hart = hart;
  }

  /**
   * Translates `va`; returns the byte offset into the region `mmu.region` names. Hits in the
   * vCPU's own TLB (the set for S-mode accesses of this kind) skip the page walk.
   */
  #translate(va: number, kind: number): number {
    const mmu = this.#hart.mmu;
    const set = mmu.set(kind, PRIV_S);
    const vpn = va >>> 12;
    const slot = vpn & (TLB_ENTRIES - 1);
    if (set.tag[slot] === vpn) {
      const words = set.words[slot];
      const regions = this.#hart.memory.regions;
      for (let i = 0; i < regions.length; i++) {
        if (regions[i].words === words) {
          mmu.region = i;
          mmu.offset = set.offset[slot] + (va & 4095);
          mmu.address = regions[i].base + mmu.offset;
          return mmu.offset;
        }
      }
    }
    const status = mmu.translate(va | 0, kind, PRIV_S);
    if (status !== XLATE_RAM && status !== XLATE_RAM_WATCHED) throw new GuestFault(va);
    return this.#hart.mmu.offset;
  }

  #bytes(): Uint8Array {
    return this.#hart.memory.regions[this.#hart.mmu.region].bytes;
  }

  /** Reads a little-endian 32-bit word (any alignment). */
  u32(va: number): number {
    if ((va & 3) === 0) {
      const offset = this.#translate(va, ACCESS_LOAD);
      return this.#hart.memory.regions[this.#hart.mmu.region].words[offset >> 2];
    }
    return (this.u8(va) | (this.u8(va + 1) << 8) | (this.u8(va + 2) << 16) |
      (this.u8(va + 3) << 24)) | 0;
  }

  /** Reads a byte. */
  u8(va: number): number {
    const offset = this.#translate(va, ACCESS_LOAD);
    return this.#bytes()[offset];
  }

  /** Reads a little-endian 16-bit value. */
  u16(va: number): number {
    return this.u8(va) | (this.u8(va + 1) << 8);
  }

  /**
   * Reads a little-endian 64-bit value as a number; values above 2^53 come back as -1 (no guest
   * field we read may legitimately be that large).
   */
  u64(va: number): number {
    const lo = this.u32(va) >>> 0;
    const hi = this.u32(va + 4) >>> 0;
    return hi >= 0x20_0000 ? -1 : hi * 0x1_0000_0000 + lo;
  }

  /** Writes a little-endian 32-bit word. */
  setU32(va: number, value: number): void {
    if ((va & 3) === 0) {
      const offset = this.#translate(va, ACCESS_STORE);
      const region = this.#hart.memory.regions[this.#hart.mmu.region];
      region.words[offset >> 2] = value;
      this.#reportStore(4);
      return;
    }
    for (let i = 0; i < 4; i++) this.setU8(va + i, value >>> (8 * i));
  }

  /** Writes a little-endian 16-bit value. */
  setU16(va: number, value: number): void {
    this.setU8(va, value);
    this.setU8(va + 1, value >>> 8);
  }

  /** Writes a byte. */
  setU8(va: number, value: number): void {
    const offset = this.#translate(va, ACCESS_STORE);
    this.#bytes()[offset] = value;
    this.#reportStore(1);
  }

  /** Writes a 64-bit value given as a number (two's complement for negatives). */
  setU64(va: number, value: number): void {
    const lo = value >>> 0;
    const hi = value < 0 ? -1 : Math.floor(value / 0x1_0000_0000);
    this.setU32(va, lo);
    this.setU32(va + 4, hi);
  }

  /** Copies `length` bytes out of the guest into a new array. */
  read(va: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = (va + done) | 0;
      const offset = this.#translate(at, ACCESS_LOAD);
      const chunk = Math.min(length - done, 4096 - (at & 4095));
      out.set(this.#bytes().subarray(offset, offset + chunk), done);
      done += chunk;
    }
    return out;
  }

  /** Copies `data` into the guest at `va`. */
  write(va: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const at = (va + done) | 0;
      const offset = this.#translate(at, ACCESS_STORE);
      const chunk = Math.min(data.length - done, 4096 - (at & 4095));
      this.#bytes().set(data.subarray(done, done + chunk), offset);
      this.#reportStore(chunk);
      done += chunk;
    }
  }

  #reportStore(size: number): void {
    const mmu = this.#hart.mmu;
    const region = this.#hart.memory.regions[mmu.region];
    if (region.frameFlags[mmu.offset >>> 12] & FRAME_WATCHED) {
      this.#hart.memory.notifyStore(mmu.address, size);
    }
  }
}
