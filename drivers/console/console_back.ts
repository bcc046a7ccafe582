/**
 * The console backend engine (xenconsoled's job for one domain): drains the guest's output ring
 * (`out`) to a listener and feeds typed input into the input ring (`in`) of the console page
 * (`io/console.h`), notifying the guest through its console event channel.
 *
 * Shared memory is hostile: the backend keeps its own copies of the indices it produces
 * (`out_cons`, `in_prod`) and only writes them; an `out_prod` more than the ring ahead of what was
 * consumed is a corrupt ring — the backend drops what it cannot trust (counted), resynchronises and
 * goes on, since a console only ever hurts its own guest. An `in_cons` that claims more than was
 * produced stops input until it makes sense again. Publish points: bytes are written before
 * `in_prod` moves; `out_cons` moves after the bytes are copied out.
 *
 * Rules of use: call {@link ConsoleBack.onEvent} when the guest notifies, {@link ConsoleBack.input}
 * with typed bytes; neither throws on anything the guest does.
 *
 * @module
 */

import { XENCONS_IN_SIZE, XENCONS_INTERFACE, XENCONS_OUT_SIZE } from "@paravirt/public";

const IN_CONS = XENCONS_INTERFACE.offset.in_cons / 4;
const IN_PROD = XENCONS_INTERFACE.offset.in_prod / 4;
const OUT_CONS = XENCONS_INTERFACE.offset.out_cons / 4;
const OUT_PROD = XENCONS_INTERFACE.offset.out_prod / 4;
const OUT = XENCONS_INTERFACE.offset.out;

/** How a console engine reaches the outside. */
export interface ConsoleBackOptions {
  /** Sends an event to the guest. */
  notify(): void;
  /** Receives the guest's output (a fresh copy each time). */
  onOutput(bytes: Uint8Array): void;
  /** Most input bytes queued while the guest does not read (default 64 KiB); more are dropped. */
  maxQueuedInput?: number;
}

/** Counters of a console. */
export interface ConsoleMetrics {
  /** Output bytes taken from the guest. */
  outputBytes: number;
  /** Input bytes given to the guest. */
  inputBytes: number;
  /** Input bytes dropped (the queue was full). */
  droppedInput: number;
  /** Times the output ring was found corrupt. */
  corruptOutput: number;
  /** Times the input ring's consumer index made no sense. */
  corruptInput: number;
  /** Events received. */
  notificationsIn: number;
  /** Events sent. */
  notificationsOut: number;
}

/** The backend end of one console page. */
export class ConsoleBack {
  /** Counters. */
  readonly metrics: ConsoleMetrics = {
    outputBytes: 0,
    inputBytes: 0,
    droppedInput: 0,
    corruptOutput: 0,
    corruptInput: 0,
    notificationsIn: 0,
    notificationsOut: 0,
  };
  readonly #words: Int32Array;
  readonly #page: Uint8Array;
  readonly #options: ConsoleBackOptions;
  readonly #queue: Uint8Array;
  #queued = 0;
  #outCons: number;
  #inProd: number;

  /** Serves the console page at byte `offset` of `buffer`, resuming from its indices. */
  constructor(buffer: SharedArrayBuffer, offset: number, options: ConsoleBackOptions) {
    if (offset % 4096 !== 0 || offset < 0 || offset + 4096 > buffer.byteLength) {
      throw new RangeError(`Console page at byte ${offset} is not a page of the buffer`);
    }
    this.#words = new Int32Array(buffer, offset, 1024);
    this.#page = new Uint8Array(buffer, offset, 4096);
    this.#options = options;
    this.#queue = new Uint8Array(options.maxQueuedInput ?? 65536);
    this.#outCons = Atomics.load(this.#words, OUT_CONS) >>> 0;
    this.#inProd = Atomics.load(this.#words, IN_PROD) >>> 0;
  }

  /** The guest notified: drain its output, and give it queued input if it made room. */
  onEvent(): void {
    this.metrics.notificationsIn++;
    let notify = this.#drainOutput();
    if (this.#feedInput()) notify = true;
    if (notify) this.#notify();
  }

  /** Queues typed input and gives the guest what fits now. */
  input(bytes: Uint8Array): void {
    const room = this.#queue.length - this.#queued;
    const take = Math.min(room, bytes.length);
    this.#queue.set(bytes.subarray(0, take), this.#queued);
    this.#queued += take;
    this.metrics.droppedInput += bytes.length - take;
    if (this.#feedInput()) this.#notify();
  }

  /** Input bytes waiting for the guest to make room. */
  get queuedInput(): number {
    return this.#queued;
  }

  #notify(): void {
    this.metrics.notificationsOut++;
    this.#options.notify();
  }

  #drainOutput(): boolean {
    const prod = Atomics.load(this.#words, OUT_PROD) >>> 0;
    let cons = this.#outCons;
    const size = (prod - cons) >>> 0;
    if (size === 0) return false;
    if (size > XENCONS_OUT_SIZE) {
      this.metrics.corruptOutput++;
      this.#outCons = prod; // nothing in the ring can be trusted: skip to the producer
      Atomics.store(this.#words, OUT_CONS, prod | 0);
      return true;
    }
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      out[i] = this.#page[OUT + (cons & (XENCONS_OUT_SIZE - 1))];
      cons = (cons + 1) >>> 0;
    }
    this.#outCons = cons;
    Atomics.store(this.#words, OUT_CONS, cons | 0); // publish point: bytes copied out first
    this.metrics.outputBytes += size;
    this.#options.onOutput(out);
    return true;
  }

  #feedInput(): boolean {
    if (this.#queued === 0) return false;
    const cons = Atomics.load(this.#words, IN_CONS) >>> 0;
    let prod = this.#inProd;
    const used = (prod - cons) >>> 0;
    if (used > XENCONS_IN_SIZE) {
      this.metrics.corruptInput++;
      return false;
    }
    const n = Math.min(XENCONS_IN_SIZE - used, this.#queued);
    if (n === 0) return false;
    for (let i = 0; i < n; i++) {
      this.#page[prod & (XENCONS_IN_SIZE - 1)] = this.#queue[i];
      prod = (prod + 1) >>> 0;
    }
    this.#queue.copyWithin(0, n, this.#queued);
    this.#queued -= n;
    this.#inProd = prod;
    Atomics.store(this.#words, IN_PROD, prod | 0); // publish point: bytes written first
    this.metrics.inputBytes += n;
    return true;
  }
}
