/**
 * A memory region: one SharedArrayBuffer holding a run of consecutive machine frames.
 *
 * Rules of use: a region never moves or grows; its views are created once and shared by every
 * reader (the CPU's TLB, devices, backend workers that are handed the buffer). Per-frame metadata
 * (flags for store watching and dirty logging) lives beside the bytes so lookups stay local.
 *
 * @module
 */

import { PAGE_SHIFT, PAGE_SIZE } from "./params.ts";

/** Per-frame flag: stores to this frame are reported to a watcher (never cached in a TLB). */
export const FRAME_WATCHED = 1;
/** Per-frame flag: the frame was written since the dirty log was last collected. */
export const FRAME_DIRTY = 2;

/** A run of machine frames backed by one SharedArrayBuffer. */
export class MemoryRegion {
  /** The shared backing store; hand it to a worker to share these frames. */
  readonly buffer: SharedArrayBuffer;
  /** Machine frame number of the first frame. */
  readonly firstFrame: number;
  /** Number of 4 KiB frames. */
  readonly frameCount: number;
  /** Byte view. */
  readonly bytes: Uint8Array;
  /** Half-word view (little-endian host assumed, as everywhere in this project). */
  readonly halves: Uint16Array;
  /** Word view. */
  readonly words: Int32Array;
  /** Per-frame flags ({@link FRAME_WATCHED}, {@link FRAME_DIRTY}). */
  readonly frameFlags: Uint8Array;

  /**
   * Creates a region of `frameCount` zeroed frames starting at machine frame `firstFrame`, or wraps
   * an existing buffer (from another thread) when `options.buffer` is given.
   */
  constructor(
    firstFrame: number,
    frameCount: number,
    options: { buffer?: SharedArrayBuffer } = {},
  ) {
    if (!Number.isInteger(firstFrame) || firstFrame < 0 || firstFrame >= 1 << 22) {
      throw new RangeError(`First frame ${firstFrame} is outside the 34-bit physical space`);
    }
    if (!Number.isInteger(frameCount) || frameCount <= 0 || firstFrame + frameCount > 1 << 22) {
      throw new RangeError(`Frame count ${frameCount} does not fit the 34-bit physical space`);
    }
    const size = frameCount * PAGE_SIZE;
    const buffer = options.buffer ?? new SharedArrayBuffer(size);
    if (buffer.byteLength !== size) {
      throw new RangeError(
        `Buffer of ${buffer.byteLength} bytes does not hold ${frameCount} frames`,
      );
    }
    this.buffer = buffer;
    this.firstFrame = firstFrame;
    this.frameCount = frameCount;
    this.bytes = new Uint8Array(buffer);
    this.halves = new Uint16Array(buffer);
    this.words = new Int32Array(buffer);
    this.frameFlags = new Uint8Array(frameCount);
  }

  /** Physical byte address of the first byte (may exceed 2^32 under Sv32's 34-bit space). */
  get base(): number {
    return this.firstFrame * PAGE_SIZE;
  }

  /** Size in bytes. */
  get size(): number {
    return this.frameCount * PAGE_SIZE;
  }

  /** Whether machine frame `frame` lies in this region. */
  holds(frame: number): boolean {
    return frame >= this.firstFrame && frame < this.firstFrame + this.frameCount;
  }

  /** Byte offset within this region of machine frame `frame`. */
  offsetOf(frame: number): number {
    return (frame - this.firstFrame) << PAGE_SHIFT;
  }
}
