/**
 * The machine's physical address space: RAM regions, MMIO windows, store watches, and the registry
 * of translation caches that must forget a mapping when the space changes.
 *
 * Rules of use: RAM regions never overlap each other or an MMIO window. Anything that changes what
 * a frame means to a CPU (removing a region, starting a dirty-log round, watching a frame) calls
 * {@link PhysicalMemory.flushTranslations} so no TLB keeps a stale fast path.
 *
 * @module
 */

import type { MmioDevice, MmioWindow } from "./mmio.ts";
import { FRAME_DIRTY, FRAME_WATCHED, MemoryRegion } from "./region.ts";
import { MAX_FRAMES, PAGE_SHIFT, PAGE_SIZE } from "./params.ts";

/** Something that caches translations to RAM (a hart's TLB) and can be told to forget them. */
export interface TranslationCache {
  /** Drops every cached translation. */
  flushAll(): void;
  /** Drops cached store translations only (used when dirty logging restarts). */
  flushStores(): void;
}

/** Called after a store hits a watched frame, with the physical address and size written. */
export type StoreWatcher = (address: number, size: number) => void;

/** The physical address space shared by all harts and devices of a machine. */
export class PhysicalMemory {
  /** RAM regions, sorted by first frame. Region ids are indices into this array. */
  readonly regions: MemoryRegion[] = [];
  /** MMIO windows, in insertion order. */
  readonly mmio: MmioWindow[] = [];
  #caches = new Set<TranslationCache>();
  #watchers = new Map<number, StoreWatcher>();
  #dirtyLogging = false;

  /** Creates and maps a zeroed RAM region of `size` bytes at physical address `base`. */
  addRam(base: number, size: number): MemoryRegion {
    if (base % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || size <= 0) {
      throw new RangeError(`RAM at ${hex(base)} of ${size} bytes is not whole 4 KiB frames`);
    }
    const region = new MemoryRegion(base / PAGE_SIZE, size / PAGE_SIZE);
    this.addRegion(region);
    return region;
  }

  /** Maps an existing region (for example one created for a domain or received from a thread). */
  addRegion(region: MemoryRegion): void {
    for (const other of this.regions) {
      if (
        region.firstFrame < other.firstFrame + other.frameCount &&
        other.firstFrame < region.firstFrame + region.frameCount
      ) {
        throw new RangeError(`RAM at ${hex(region.base)} overlaps RAM at ${hex(other.base)}`);
      }
    }
    for (const window of this.mmio) {
      if (region.base < window.base + window.size && window.base < region.base + region.size) {
        throw new RangeError(`RAM at ${hex(region.base)} overlaps MMIO at ${hex(window.base)}`);
      }
    }
    this.regions.push(region);
    this.regions.sort((a, b) => a.firstFrame - b.firstFrame);
    this.flushTranslations();
  }

  /** Unmaps a region; every TLB forgets it. */
  removeRegion(region: MemoryRegion): void {
    const index = this.regions.indexOf(region);
    if (index < 0) throw new RangeError(`Region at ${hex(region.base)} is not mapped`);
    this.regions.splice(index, 1);
    this.flushTranslations();
  }

  /**
   * Finds `count` free frames at or above `lowestFrame` that no region or window uses: the allocator
   * for per-domain regions. Returns the first frame, or -1 when the 34-bit space is full.
   */
  findFreeFrames(count: number, lowestFrame: number): number {
    let candidate = lowestFrame;
    const taken = [
      ...this.regions.map((r) => [r.firstFrame, r.firstFrame + r.frameCount]),
      ...this.mmio.map((w) => [
        Math.floor(w.base / PAGE_SIZE),
        Math.ceil((w.base + w.size) / PAGE_SIZE),
      ]),
    ].sort((a, b) => a[0] - b[0]);
    for (const [start, end] of taken) {
      if (end <= candidate) continue;
      if (start >= candidate + count) break;
      candidate = end;
    }
    return candidate + count <= MAX_FRAMES ? candidate : -1;
  }

  /** Maps a device window at `base`. `device` null means accesses exit the CPU to the host. */
  addMmio(base: number, size: number, device: MmioDevice | null): void {
    for (const window of this.mmio) {
      if (base < window.base + window.size && window.base < base + size) {
        throw new RangeError(`MMIO at ${hex(base)} overlaps MMIO at ${hex(window.base)}`);
      }
    }
    for (const region of this.regions) {
      if (base < region.base + region.size && region.base < base + size) {
        throw new RangeError(`MMIO at ${hex(base)} overlaps RAM at ${hex(region.base)}`);
      }
    }
    this.mmio.push({ base, size, device });
  }

  /** Index into {@link regions} of the region holding machine frame `frame`, or -1. */
  regionIndexOf(frame: number): number {
    const regions = this.regions;
    let lo = 0;
    let hi = regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = regions[mid];
      if (frame < r.firstFrame) hi = mid - 1;
      else if (frame >= r.firstFrame + r.frameCount) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** The region holding machine frame `frame`, or undefined. */
  regionOf(frame: number): MemoryRegion | undefined {
    const index = this.regionIndexOf(frame);
    return index < 0 ? undefined : this.regions[index];
  }

  /** The MMIO window containing physical address `address`, or undefined. */
  mmioAt(address: number): MmioWindow | undefined {
    for (const window of this.mmio) {
      if (address >= window.base && address < window.base + window.size) return window;
    }
    return undefined;
  }

  /** Registers a TLB to be flushed when the address space changes. */
  attachCache(cache: TranslationCache): void {
    this.#caches.add(cache);
  }

  /** Unregisters a TLB. */
  detachCache(cache: TranslationCache): void {
    this.#caches.delete(cache);
  }

  /** Makes every registered TLB forget every translation. */
  flushTranslations(): void {
    for (const cache of this.#caches) cache.flushAll();
  }

  /**
   * Watches stores to the frame holding `address`: each store there takes the slow path and calls
   * `watcher` after the bytes are written (HTIF's `tohost`, code pages of a translator).
   */
  watchStores(address: number, watcher: StoreWatcher): void {
    const frame = Math.floor(address / PAGE_SIZE);
    const region = this.regionOf(frame);
    if (!region) throw new RangeError(`Cannot watch ${hex(address)}: it is not RAM`);
    region.frameFlags[frame - region.firstFrame] |= FRAME_WATCHED;
    this.#watchers.set(frame, watcher);
    for (const cache of this.#caches) cache.flushStores();
  }

  /** Reports a store to a watched frame; called by the CPU's slow store path. */
  notifyStore(address: number, size: number): void {
    this.#watchers.get(Math.floor(address / PAGE_SIZE))?.(address, size);
  }

  /** Whether stores are being logged (the CPU slow path marks frames dirty while this is on). */
  get dirtyLogging(): boolean {
    return this.#dirtyLogging;
  }

  /**
   * Switches dirty logging on or off. Turning it on clears every dirty flag and flushes cached store
   * translations, so the first store to each frame takes the slow path and is logged.
   */
  setDirtyLogging(on: boolean): void {
    this.#dirtyLogging = on;
    if (on) this.collectDirty();
  }

  /**
   * Returns the machine frames written since the last collection (ascending) and starts a new round.
   */
  collectDirty(): number[] {
    const dirty: number[] = [];
    for (const region of this.regions) {
      const flags = region.frameFlags;
      for (let i = 0; i < flags.length; i++) {
        if (flags[i] & FRAME_DIRTY) {
          dirty.push(region.firstFrame + i);
          flags[i] &= ~FRAME_DIRTY;
        }
      }
    }
    for (const cache of this.#caches) cache.flushStores();
    return dirty;
  }

  /** Reads a little-endian word at a RAM physical address (host-side helper, any alignment). */
  read32(address: number): number {
    return this.read8(address) | (this.read8(address + 1) << 8) | (this.read8(address + 2) << 16) |
      (this.read8(address + 3) << 24);
  }

  /** Reads a byte at a RAM physical address. */
  read8(address: number): number {
    const region = this.#ramAt(address);
    return region.bytes[address - region.base];
  }

  /** Writes a little-endian word at a RAM physical address (host-side helper, any alignment). */
  write32(address: number, value: number): void {
    for (let i = 0; i < 4; i++) this.write8(address + i, value >>> (8 * i));
  }

  /** Writes a byte at a RAM physical address (logged when dirty logging is on). */
  write8(address: number, value: number): void {
    const region = this.#ramAt(address);
    region.bytes[address - region.base] = value;
    if (this.#dirtyLogging) {
      region.frameFlags[Math.floor((address - region.base) / PAGE_SIZE)] |= FRAME_DIRTY;
    }
  }

  /** Copies `data` into RAM at a physical address; the range may span regions. */
  writeBytes(address: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const region = this.#ramAt(address + done);
      const offset = address + done - region.base;
      const chunk = Math.min(data.length - done, region.size - offset);
      region.bytes.set(data.subarray(done, done + chunk), offset);
      if (this.#dirtyLogging) {
        for (let f = offset >>> PAGE_SHIFT; f <= (offset + chunk - 1) >>> PAGE_SHIFT; f++) {
          region.frameFlags[f] |= FRAME_DIRTY;
        }
      }
      done += chunk;
    }
  }

  /** Copies `length` bytes of RAM at a physical address out into a new array. */
  readBytes(address: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const region = this.#ramAt(address + done);
      const offset = address + done - region.base;
      const chunk = Math.min(length - done, region.size - offset);
      out.set(region.bytes.subarray(offset, offset + chunk), done);
      done += chunk;
    }
    return out;
  }

  #ramAt(address: number): MemoryRegion {
    const region = this.regionOf(Math.floor(address / PAGE_SIZE));
    if (!region) throw new RangeError(`Physical address ${hex(address)} is not RAM`);
    return region;
  }
}

function hex(value: number): string {
  return "0x" + value.toString(16);
}
