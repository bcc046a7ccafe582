/**
 * A copy-on-write overlay over a read-only base image (`backend=overlay, target=./base.img`): the
 * guest sees a writable disk, the base file is only ever opened read-only, and every written
 * sector lives in the overlay — a per-sector bitmap plus 1 MiB chunks of sector data allocated on
 * first write, all in SharedArrayBuffers the supervisor retains. So the overlay outlives a worker
 * restart and is thrown away with the device (as QEMU's `-snapshot`). Discard drops sectors from
 * the overlay (they read as the base again). `access=ro` makes the overlay read-only too.
 *
 * Retained buffers: `[0]` the directory (header, bitmap, chunk table), then the chunks in the
 * order they were allocated; the chunk table names each chunk's position in that list.
 *
 * @module
 */

import {
  type BlockBackend,
  type BlockInfo,
  BlockIoError,
  type BlockOpenOptions,
  checkRange,
  SECTOR,
} from "./backend.ts";
import { FileBackend } from "./file_backend.ts";

/** Sectors per overlay chunk (1 MiB). */
const CHUNK_SECTORS = 2048;
const CHUNK_BYTES = CHUNK_SECTORS * SECTOR;
const MAGIC = 0x4f56_4c59; // "OVLY"
const HEADER_WORDS = 4; // magic, sectors, chunks, reserved

/** A copy-on-write disk over a read-only base. */
export class OverlayBackend implements BlockBackend {
  /** Size and capabilities. */
  readonly info: BlockInfo;
  /** Overlay chunks allocated (a metric). */
  get chunks(): number {
    return this.#chunks.length;
  }
  readonly #base: BlockBackend;
  readonly #bitmap: Uint8Array;
  readonly #table: Int32Array;
  readonly #chunks: Uint8Array[];
  readonly #retain: (buffer: SharedArrayBuffer) => void;
  #closed = false;

  /**
   * An overlay over `base`, resuming from `retained` when it holds a directory for a disk of the
   * same size (else starting empty and retaining a new one).
   */
  constructor(
    base: BlockBackend,
    readOnly: boolean,
    retained: readonly SharedArrayBuffer[],
    retain: (buffer: SharedArrayBuffer) => void,
  ) {
    const sectors = base.info.sectors;
    const chunkCount = Math.ceil(sectors / CHUNK_SECTORS);
    const bitmapBytes = Math.ceil(sectors / 8 / 4) * 4;
    const size = HEADER_WORDS * 4 + bitmapBytes + chunkCount * 4;
    this.#base = base;
    this.#retain = retain;
    this.info = { sectors, readOnly, discard: true };
    let directory = retained[0];
    const header = directory && new Int32Array(directory, 0, HEADER_WORDS);
    const reuse = directory !== undefined && directory.byteLength === size && !!header &&
      header[0] === MAGIC && header[1] === sectors && header[2] === chunkCount;
    if (!reuse) {
      directory = new SharedArrayBuffer(size);
      new Int32Array(directory, 0, HEADER_WORDS).set([MAGIC, sectors, chunkCount, 0]);
      retain(directory);
    }
    this.#bitmap = new Uint8Array(directory!, HEADER_WORDS * 4, bitmapBytes);
    this.#table = new Int32Array(directory!, HEADER_WORDS * 4 + bitmapBytes, chunkCount);
    this.#chunks = [];
    if (reuse) {
      for (let i = 1; i < retained.length; i++) {
        if (retained[i].byteLength !== CHUNK_BYTES) {
          throw new RangeError(`Retained overlay chunk ${i} is not ${CHUNK_BYTES} bytes`);
        }
        this.#chunks.push(new Uint8Array(retained[i]));
      }
      for (const entry of this.#table) {
        if (entry < 0 || entry > this.#chunks.length) {
          throw new RangeError(
            `Overlay chunk table names chunk ${entry} of ${this.#chunks.length}`,
          );
        }
      }
    }
  }

  #check(): void {
    if (this.#closed) throw new BlockIoError("The disk is closed");
  }

  #has(sector: number): boolean {
    return (this.#bitmap[sector >>> 3] & (1 << (sector & 7))) !== 0;
  }

  /** The bytes of `sector` in the overlay (its chunk must exist). */
  #slot(sector: number): Uint8Array {
    const chunk = this.#chunks[this.#table[Math.floor(sector / CHUNK_SECTORS)] - 1];
    const at = (sector % CHUNK_SECTORS) * SECTOR;
    return chunk.subarray(at, at + SECTOR);
  }

  /** Reads runs of overlay sectors from memory and runs of the rest from the base. */
  async read(sector: number, into: Uint8Array): Promise<void> {
    this.#check();
    checkRange(sector, into.length, this.info.sectors);
    const count = into.length / SECTOR;
    let i = 0;
    while (i < count) {
      const mine = this.#has(sector + i);
      let run = 1;
      while (i + run < count && this.#has(sector + i + run) === mine) run++;
      const view = into.subarray(i * SECTOR, (i + run) * SECTOR);
      if (mine) {
        for (let k = 0; k < run; k++) view.set(this.#slot(sector + i + k), k * SECTOR);
      } else {
        await this.#base.read(sector + i, view);
      }
      i += run;
    }
  }

  /** Writes into the overlay, allocating chunks on first use. */
  write(sector: number, from: Uint8Array): Promise<void> {
    try {
      this.#check();
      if (this.info.readOnly) throw new BlockIoError("The disk is read-only");
      checkRange(sector, from.length, this.info.sectors);
      const count = from.length / SECTOR;
      for (let k = 0; k < count; k++) {
        const s = sector + k;
        const chunk = Math.floor(s / CHUNK_SECTORS);
        if (this.#table[chunk] === 0) {
          const buffer = new SharedArrayBuffer(CHUNK_BYTES);
          this.#retain(buffer); // before the table names it: a restart must find it
          this.#chunks.push(new Uint8Array(buffer));
          this.#table[chunk] = this.#chunks.length;
        }
        this.#slot(s).set(from.subarray(k * SECTOR, (k + 1) * SECTOR));
        this.#bitmap[s >>> 3] |= 1 << (s & 7); // after the data: the sector is now the overlay's
      }
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Nothing to make durable: the overlay is memory the supervisor keeps. */
  flush(): Promise<void> {
    try {
      this.#check();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Drops the sectors from the overlay. */
  discard(sector: number, count: number): Promise<void> {
    try {
      this.#check();
      if (this.info.readOnly) throw new BlockIoError("The disk is read-only");
      checkRange(sector, count * SECTOR, this.info.sectors);
      for (let s = sector; s < sector + count; s++) this.#bitmap[s >>> 3] &= ~(1 << (s & 7));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Closes the base. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#base.close();
  }
}

/** The module entry point: the base is `options.target`, always opened read-only. */
export function open(options: BlockOpenOptions): Promise<BlockBackend> {
  try {
    if (!options.target) throw new TypeError("The overlay backend needs a target=<base image>");
    const base = FileBackend.open(options.target, true);
    try {
      return Promise.resolve(
        new OverlayBackend(base, options.readOnly, options.retained, options.retain),
      );
    } catch (error) {
      base.close();
      throw error;
    }
  } catch (error) {
    return Promise.reject(error);
  }
}
