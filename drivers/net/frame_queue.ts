/**
 * A single-producer, single-consumer queue of frames in a SharedArrayBuffer: how a netback worker
 * and the bridge worker hand each other Ethernet frames.
 *
 * Layout: a 64-byte header of 32-bit words — `head` (bytes ever produced, free-running),
 * `tail` (bytes ever consumed), `consumerWaiting`, `producerWaiting` — then a data area whose
 * size is a power of two. Each frame is a record: a 32-bit little-endian length, then the bytes,
 * padded to 4; records wrap around the end of the data area (a record header never does, since
 * positions stay 4-aligned).
 *
 * The other side is hostile: a netback worker serves a guest and may be subverted by it, and the
 * bridge must survive anything the worker writes. So each end keeps its own index privately and
 * only *reads* the other's; every value read from shared memory is checked (a `head` more than
 * the data area ahead, a misaligned index, a record longer than `maxFrame` or than what was
 * published) and a violation throws {@link FrameQueueError}, after which the owner drops the
 * queue. A frame is copied out before anyone looks at it.
 *
 * Publish points: the producer writes records, then stores `head` ({@link FrameQueueWriter.publish});
 * the consumer copies records out, then stores `tail` ({@link FrameQueueReader.release}).
 * Notifications are held off as a ring's are: a consumer about to sleep sets `consumerWaiting`
 * and looks again ({@link FrameQueueReader.prepareWait}); a producer that publishes and finds the
 * flag set clears it and must ring the consumer's bell — and symmetrically for a producer waiting
 * for space. With sequentially consistent atomics on both sides no wake-up is lost.
 *
 * @module
 */

import { NET_MAX_FRAME, NET_QUEUE_MIN_BYTES } from "./params.ts";

/** Bytes of a frame queue's header. */
export const FRAME_QUEUE_HEADER = 64;
const HEAD = 0;
const TAIL = 1;
const CONSUMER_WAITING = 2;
const PRODUCER_WAITING = 3;

/** The shared state of a queue broke its rules; the queue must be dropped. */
export class FrameQueueError extends Error {
  /** Creates the error with a message saying which rule broke. */
  constructor(message: string) {
    super(message);
    this.name = "FrameQueueError";
  }
}

/** Allocates the SharedArrayBuffer of a queue whose data area is `bytes` (a power of two). */
export function createFrameQueue(bytes: number): SharedArrayBuffer {
  if (!Number.isInteger(bytes) || bytes < NET_QUEUE_MIN_BYTES || (bytes & (bytes - 1)) !== 0) {
    throw new RangeError(
      `Frame queue size ${bytes} is not a power of two of at least ${NET_QUEUE_MIN_BYTES}`,
    );
  }
  return new SharedArrayBuffer(FRAME_QUEUE_HEADER + bytes);
}

function dataSize(buffer: SharedArrayBuffer): number {
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new TypeError("A frame queue lives in a SharedArrayBuffer");
  }
  const size = buffer.byteLength - FRAME_QUEUE_HEADER;
  if (size < NET_QUEUE_MIN_BYTES || (size & (size - 1)) !== 0) {
    throw new RangeError(`Frame queue buffer of ${buffer.byteLength} bytes has a bad data area`);
  }
  return size;
}

/** Bytes a record of a `length`-byte frame occupies. */
function recordBytes(length: number): number {
  return 4 + ((length + 3) & ~3);
}

/** The producer end of a frame queue. */
export class FrameQueueWriter {
  /** Bytes of the data area. */
  readonly capacity: number;
  /** Largest frame accepted. */
  readonly maxFrame: number;
  readonly #words: Int32Array;
  readonly #data: Uint8Array;
  readonly #lengthView: DataView;
  #head: number;

  /** The producer end of the queue in `buffer`; resumes at the published head. */
  constructor(buffer: SharedArrayBuffer, maxFrame: number = NET_MAX_FRAME) {
    this.capacity = dataSize(buffer);
    if (recordBytes(maxFrame) > this.capacity) {
      throw new RangeError(`A ${maxFrame}-byte frame does not fit a ${this.capacity}-byte queue`);
    }
    this.maxFrame = maxFrame;
    this.#words = new Int32Array(buffer, 0, FRAME_QUEUE_HEADER / 4);
    this.#data = new Uint8Array(buffer, FRAME_QUEUE_HEADER, this.capacity);
    this.#lengthView = new DataView(buffer, FRAME_QUEUE_HEADER, this.capacity);
    this.#head = Atomics.load(this.#words, HEAD) >>> 0;
  }

  /** Bytes free, as far as the consumer's published tail says (throws if it lies). */
  free(): number {
    const tail = Atomics.load(this.#words, TAIL) >>> 0;
    const used = (this.#head - tail) >>> 0;
    if (used > this.capacity || (tail & 3) !== 0) {
      throw new FrameQueueError(
        `Consumer tail ${tail} is not within the queue (head ${this.#head})`,
      );
    }
    return this.capacity - used;
  }

  /** Whether a frame of `length` bytes fits now. */
  fits(length: number): boolean {
    return recordBytes(length) <= this.free();
  }

  /**
   * Appends the first `length` bytes of `frame` (unpublished until {@link publish}). Returns
   * false, writing nothing, when the queue is full. Throws a RangeError for a frame longer than
   * `maxFrame`.
   */
  write(frame: Uint8Array, length: number = frame.length): boolean {
    if (length > this.maxFrame || length < 0 || length > frame.length) {
      throw new RangeError(`Frame of ${length} bytes is outside 0..${this.maxFrame}`);
    }
    if (recordBytes(length) > this.free()) return false;
    const mask = this.capacity - 1;
    const at = this.#head & mask;
    this.#lengthView.setUint32(at, length, true);
    const start = (at + 4) & mask;
    const first = Math.min(length, this.capacity - start);
    this.#data.set(frame.subarray(0, first), start);
    if (first < length) this.#data.set(frame.subarray(first, length), 0);
    this.#head = (this.#head + recordBytes(length)) >>> 0;
    return true;
  }

  /**
   * Publishes the frames written so far. Returns whether the consumer was asleep and must be
   * rung (the flag is cleared, so only one publisher rings).
   */
  publish(): boolean {
    Atomics.store(this.#words, HEAD, this.#head | 0); // publish point: records written before
    return Atomics.load(this.#words, CONSUMER_WAITING) !== 0 &&
      Atomics.exchange(this.#words, CONSUMER_WAITING, 0) !== 0;
  }

  /**
   * About to wait for space for a `length`-byte frame: asks the consumer to ring when it frees
   * some, then looks again. Returns true if the frame fits now (do not sleep).
   */
  prepareWait(length: number): boolean {
    Atomics.store(this.#words, PRODUCER_WAITING, 1);
    if (this.fits(length)) {
      Atomics.store(this.#words, PRODUCER_WAITING, 0);
      return true;
    }
    return false;
  }
}

/** The consumer end of a frame queue. */
export class FrameQueueReader {
  /** Bytes of the data area. */
  readonly capacity: number;
  /** Largest frame accepted; a longer record is a broken queue. */
  readonly maxFrame: number;
  readonly #words: Int32Array;
  readonly #data: Uint8Array;
  readonly #lengthView: DataView;
  #tail: number;
  #head: number;

  /** The consumer end of the queue in `buffer`; resumes at the published tail. */
  constructor(buffer: SharedArrayBuffer, maxFrame: number = NET_MAX_FRAME) {
    this.capacity = dataSize(buffer);
    this.maxFrame = maxFrame;
    this.#words = new Int32Array(buffer, 0, FRAME_QUEUE_HEADER / 4);
    this.#data = new Uint8Array(buffer, FRAME_QUEUE_HEADER, this.capacity);
    this.#lengthView = new DataView(buffer, FRAME_QUEUE_HEADER, this.capacity);
    this.#tail = Atomics.load(this.#words, TAIL) >>> 0;
    if ((this.#tail & 3) !== 0) throw new FrameQueueError(`Queue tail ${this.#tail} is misaligned`);
    this.#head = this.#tail;
  }

  /** Bytes published and not yet read (throws {@link FrameQueueError} if the head lies). */
  available(): number {
    const head = Atomics.load(this.#words, HEAD) >>> 0;
    const ready = (head - this.#tail) >>> 0;
    if (ready > this.capacity || (head & 3) !== 0) {
      throw new FrameQueueError(
        `Producer head ${head} is not within the queue (tail ${this.#tail})`,
      );
    }
    this.#head = head;
    return ready;
  }

  /**
   * Length of the next frame, or -1 if none is published. Throws {@link FrameQueueError} for a
   * record that breaks the rules.
   */
  peekLength(): number {
    if (this.#head === this.#tail && this.available() === 0) return -1;
    const ready = (this.#head - this.#tail) >>> 0;
    const length = this.#lengthView.getUint32(this.#tail & (this.capacity - 1), true);
    if (length > this.maxFrame || recordBytes(length) > ready) {
      throw new FrameQueueError(
        `Record of ${length} bytes at ${this.#tail} exceeds the frame cap or the published data`,
      );
    }
    return length;
  }

  /**
   * Copies the next frame into `out` and consumes it. Returns its length, or -1 if none is
   * published. Throws a RangeError if `out` is too small (the frame stays), and
   * {@link FrameQueueError} for a broken record.
   */
  read(out: Uint8Array): number {
    const length = this.peekLength();
    if (length < 0) return -1;
    if (out.length < length) {
      throw new RangeError(`Frame of ${length} bytes does not fit a ${out.length}-byte buffer`);
    }
    const mask = this.capacity - 1;
    const start = (this.#tail + 4) & mask;
    const first = Math.min(length, this.capacity - start);
    out.set(this.#data.subarray(start, start + first), 0);
    if (first < length) out.set(this.#data.subarray(0, length - first), first);
    this.#tail = (this.#tail + recordBytes(length)) >>> 0;
    return length;
  }

  /** Drops the next frame without copying it. Returns its length or -1. */
  skip(): number {
    const length = this.peekLength();
    if (length >= 0) this.#tail = (this.#tail + recordBytes(length)) >>> 0;
    return length;
  }

  /**
   * Publishes the space freed by reads. Returns whether the producer was waiting for space and
   * must be rung.
   */
  release(): boolean {
    Atomics.store(this.#words, TAIL, this.#tail | 0); // publish point: frames copied out before
    return Atomics.load(this.#words, PRODUCER_WAITING) !== 0 &&
      Atomics.exchange(this.#words, PRODUCER_WAITING, 0) !== 0;
  }

  /**
   * About to sleep: asks the producer to ring on its next publish, then looks again. Returns true
   * if frames are waiting (do not sleep). Throws {@link FrameQueueError} like {@link available}.
   */
  prepareWait(): boolean {
    Atomics.store(this.#words, CONSUMER_WAITING, 1);
    if (this.available() > 0) {
      Atomics.store(this.#words, CONSUMER_WAITING, 0);
      return true;
    }
    return false;
  }
}
