/**
 * The raw-image backend (`backend=file`, the default): the disk is a host file, sector `n` at
 * byte `n * 512`. A read-only disk opens the file read-only (its worker has no write permission
 * either). A size that is not a whole number of sectors leaves the tail unused.
 *
 * I/O is synchronous positioned reads and writes (`pread`/`pwrite` through `node:fs`): the
 * backend owns its worker's thread, and on Deno these are an order of magnitude faster than the
 * asynchronous calls for the 4–64 KiB transfers a ring carries. Every write is in the host's page
 * cache when it resolves (so it outlives the worker); `flush` is `fsync`. Discard is not offered
 * (Deno cannot punch holes in a file).
 *
 * @module
 */

import * as fs from "node:fs";
import {
  type BlockBackend,
  type BlockInfo,
  BlockIoError,
  type BlockOpenOptions,
  checkRange,
  SECTOR,
} from "./backend.ts";

/** A raw image file. */
export class FileBackend implements BlockBackend {
  /** Size and capabilities. */
  readonly info: BlockInfo;
  #fd: number;

  /** Wraps an open descriptor of a file of `sectors` sectors. */
  constructor(fd: number, sectors: number, readOnly: boolean) {
    this.#fd = fd;
    this.info = { sectors, readOnly, discard: false };
  }

  /** Opens `path` (read-only or read-write); rejects if it is missing or holds no whole sector. */
  static open(path: string, readOnly: boolean): FileBackend {
    const fd = fs.openSync(path, readOnly ? "r" : "r+");
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw new TypeError(`Disk image ${path} is not a regular file`);
      const sectors = Math.floor(stat.size / SECTOR);
      if (sectors === 0) throw new RangeError(`Disk image ${path} holds no whole 512-byte sector`);
      return new FileBackend(fd, sectors, readOnly);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  #open(): number {
    if (this.#fd < 0) throw new BlockIoError("The disk is closed");
    return this.#fd;
  }

  /** Reads sectors into `into`. */
  read(sector: number, into: Uint8Array): Promise<void> {
    try {
      const fd = this.#open();
      checkRange(sector, into.length, this.info.sectors);
      let done = 0;
      while (done < into.length) {
        const n = fs.readSync(fd, into, done, into.length - done, sector * SECTOR + done);
        if (n <= 0) throw new BlockIoError(`Short read at sector ${sector} (the image shrank?)`);
        done += n;
      }
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(ioError(error));
    }
  }

  /** Writes `from` at `sector`. */
  write(sector: number, from: Uint8Array): Promise<void> {
    try {
      const fd = this.#open();
      if (this.info.readOnly) throw new BlockIoError("The disk is read-only");
      checkRange(sector, from.length, this.info.sectors);
      let done = 0;
      while (done < from.length) {
        done += fs.writeSync(fd, from, done, from.length - done, sector * SECTOR + done);
      }
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(ioError(error));
    }
  }

  /** `fsync`s the image. */
  flush(): Promise<void> {
    try {
      const fd = this.#open();
      if (!this.info.readOnly) fs.fsyncSync(fd);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(ioError(error));
    }
  }

  /** Not offered: rejects. */
  discard(_sector: number, _count: number): Promise<void> {
    return Promise.reject(new BlockIoError("Discard is not supported by file images"));
  }

  /** Closes the file. */
  close(): Promise<void> {
    if (this.#fd >= 0) fs.closeSync(this.#fd);
    this.#fd = -1;
    return Promise.resolve();
  }
}

/** Host errors of the medium become {@link BlockIoError}; range errors and bugs stay as they are. */
function ioError(error: unknown): unknown {
  if (error instanceof BlockIoError || error instanceof RangeError) return error;
  if (error instanceof Error && "code" in error) return new BlockIoError(error.message);
  return error;
}

/** The module entry point: opens `options.target` as a raw image. */
export function open(options: BlockOpenOptions): Promise<BlockBackend> {
  try {
    if (!options.target) throw new TypeError("The file backend needs a target=<image> path");
    return Promise.resolve(FileBackend.open(options.target, options.readOnly));
  } catch (error) {
    return Promise.reject(error);
  }
}
