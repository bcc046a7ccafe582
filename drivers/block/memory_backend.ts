/**
 * The memory-backed disk (`backend=memory, size=64M`): sectors in a SharedArrayBuffer that the
 * device supervisor retains, so the disk's contents survive a restart of its worker (and end with
 * the device). It needs no host permission at all. Discard zeroes the sectors.
 *
 * @module
 */

import {
  type BlockBackend,
  type BlockInfo,
  BlockIoError,
  type BlockOpenOptions,
  checkRange,
  parseSize,
  SECTOR,
} from "./backend.ts";

/** A disk in memory. */
export class MemoryBackend implements BlockBackend {
  /** Size and capabilities. */
  readonly info: BlockInfo;
  #bytes: Uint8Array | undefined;

  /** A disk over `buffer` (a whole number of sectors). */
  constructor(buffer: SharedArrayBuffer | ArrayBuffer, readOnly = false) {
    if (buffer.byteLength === 0 || buffer.byteLength % SECTOR !== 0) {
      throw new RangeError(`A ${buffer.byteLength}-byte buffer is not a whole number of sectors`);
    }
    this.#bytes = new Uint8Array(buffer);
    this.info = { sectors: buffer.byteLength / SECTOR, readOnly, discard: true };
  }

  #store(): Uint8Array {
    if (!this.#bytes) throw new BlockIoError("The disk is closed");
    return this.#bytes;
  }

  /** Copies sectors into `into`. */
  read(sector: number, into: Uint8Array): Promise<void> {
    try {
      const bytes = this.#store();
      checkRange(sector, into.length, this.info.sectors);
      into.set(bytes.subarray(sector * SECTOR, sector * SECTOR + into.length));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Copies `from` into the sectors. */
  write(sector: number, from: Uint8Array): Promise<void> {
    try {
      const bytes = this.#store();
      if (this.info.readOnly) throw new BlockIoError("The disk is read-only");
      checkRange(sector, from.length, this.info.sectors);
      bytes.set(from, sector * SECTOR);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Nothing to do: memory is as durable as this disk gets. */
  flush(): Promise<void> {
    try {
      this.#store();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Zeroes the sectors. */
  discard(sector: number, count: number): Promise<void> {
    try {
      const bytes = this.#store();
      if (this.info.readOnly) throw new BlockIoError("The disk is read-only");
      checkRange(sector, count * SECTOR, this.info.sectors);
      bytes.fill(0, sector * SECTOR, (sector + count) * SECTOR);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Drops the view (the supervisor still holds the buffer until the device goes). */
  close(): Promise<void> {
    this.#bytes = undefined;
    return Promise.resolve();
  }
}

/** The module entry point: `size=` gives the size; the buffer is reused after a restart. */
export function open(options: BlockOpenOptions): Promise<BlockBackend> {
  try {
    const sizeText = options.params.size;
    if (sizeText === undefined) throw new TypeError("The memory backend needs size=<bytes|K|M|G>");
    const size = parseSize(sizeText);
    if (size % SECTOR !== 0) throw new RangeError(`Size ${size} is not a multiple of ${SECTOR}`);
    let buffer = options.retained[0];
    if (!buffer || buffer.byteLength !== size) {
      buffer = new SharedArrayBuffer(size);
      options.retain(buffer);
    }
    return Promise.resolve(new MemoryBackend(buffer, options.readOnly));
  } catch (error) {
    return Promise.reject(error);
  }
}
