/**
 * The backend end of a Xen shared ring (`io/ring.h`) in a granted page: a 64-byte header
 * (`req_prod`, `req_event`, `rsp_prod`, `rsp_event`, padding) followed by a power-of-two number of
 * slots, each as large as the larger of the request and response.
 *
 * Shared memory is hostile (the frontend may change anything at any time):
 * - indices are free-running 32-bit counters; a producer index that claims more requests than the
 *   ring can hold is an overflow, reported and never followed;
 * - each request is copied out of the ring ({@link BackRing.copyRequest}) before anyone looks at
 *   it, so the frontend cannot change it between validation and use;
 * - publish points: responses are written before `rsp_prod` moves (a sequentially consistent
 *   store), and `rsp_event`/`req_event` are read after it, as `RING_PUSH_RESPONSES_AND_CHECK_NOTIFY`
 *   and `RING_FINAL_CHECK_FOR_REQUESTS` do — that is how notifications are held off and batched.
 *
 * @module
 */

/** Bytes of the shared ring header. */
export const RING_HEADER_SIZE = 64;
const REQ_PROD = 0;
const REQ_EVENT = 1;
const RSP_PROD = 2;
const RSP_EVENT = 3;

/** Slots a ring of `slotSize`-byte entries holds in `pageSize` bytes (`__CONST_RING_SIZE`). */
export function ringSlots(slotSize: number, pageSize = 4096): number {
  const fit = Math.floor((pageSize - RING_HEADER_SIZE) / slotSize);
  if (fit < 1) throw new RangeError(`A ${slotSize}-byte slot does not fit a ${pageSize}-byte ring`);
  return 2 ** Math.floor(Math.log2(fit));
}

/** The frontend published more requests than the ring can hold. */
export class RingOverflowError extends Error {
  /** Creates the error naming the producer and consumer indices. */
  constructor(readonly producer: number, readonly consumer: number) {
    super(`Ring overflow: producer ${producer} is more than a ring ahead of ${consumer}`);
    this.name = "RingOverflowError";
  }
}

/** The backend's view of one shared ring. */
export class BackRing {
  /** Slots in the ring. */
  readonly size: number;
  /** Bytes per slot. */
  readonly slotSize: number;
  /** Next request to consume. */
  reqCons = 0;
  /** Responses produced but maybe not yet published. */
  rspProdPvt = 0;
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;

  /**
   * Views the ring in the 4 KiB page at byte `offset` of `buffer` with slots of `slotSize` bytes.
   * The ring's indices are taken as they are (a reconnecting backend resumes where the last one
   * stopped: see {@link resume}).
   */
  constructor(buffer: SharedArrayBuffer, offset: number, slotSize: number) {
    if (offset % 4096 !== 0 || offset < 0 || offset + 4096 > buffer.byteLength) {
      throw new RangeError(`Ring page at byte ${offset} is not a page of the buffer`);
    }
    this.slotSize = slotSize;
    this.size = ringSlots(slotSize);
    this.#words = new Int32Array(buffer, offset, 16);
    this.#bytes = new Uint8Array(buffer, offset, 4096);
  }

  /** Picks up after an earlier backend: consume from the published response index on. */
  resume(): void {
    this.rspProdPvt = Atomics.load(this.#words, RSP_PROD) >>> 0;
    this.reqCons = this.rspProdPvt;
  }

  /** The frontend's producer index. */
  get requestProducer(): number {
    return Atomics.load(this.#words, REQ_PROD) >>> 0;
  }

  /**
   * Number of requests published and not yet consumed. Throws {@link RingOverflowError} when the
   * frontend claims more than the ring holds, or moves its producer index back behind requests
   * already consumed.
   */
  unconsumed(): number {
    const prod = this.requestProducer;
    const ahead = (prod - this.rspProdPvt) >>> 0;
    // More than a ring ahead, or behind requests already consumed (moved backwards): bogus.
    if (ahead > this.size || ahead < ((this.reqCons - this.rspProdPvt) >>> 0)) {
      throw new RingOverflowError(prod, this.rspProdPvt);
    }
    return (prod - this.reqCons) >>> 0;
  }

  /** Copies the request at the consumer index into `out` and advances the index. */
  takeRequest(out: Uint8Array): void {
    this.copyRequest(this.reqCons, out);
    this.reqCons = (this.reqCons + 1) >>> 0;
  }

  /** Copies the slot of ring index `index` into `out` (at most one slot). */
  copyRequest(index: number, out: Uint8Array): void {
    const start = RING_HEADER_SIZE + (index & (this.size - 1)) * this.slotSize;
    out.set(this.#bytes.subarray(start, start + Math.min(out.length, this.slotSize)));
  }

  /** Writes a response into the next slot (unpublished until {@link pushResponses}). */
  putResponse(response: Uint8Array): void {
    if (response.length > this.slotSize) {
      throw new RangeError(
        `Response of ${response.length} bytes exceeds the ${this.slotSize}-byte slot`,
      );
    }
    const start = RING_HEADER_SIZE + (this.rspProdPvt & (this.size - 1)) * this.slotSize;
    this.#bytes.set(response, start);
    this.rspProdPvt = (this.rspProdPvt + 1) >>> 0;
  }

  /**
   * Publishes the responses written so far and says whether the frontend asked to be notified
   * (`RING_PUSH_RESPONSES_AND_CHECK_NOTIFY`).
   */
  pushResponses(): boolean {
    const old = Atomics.load(this.#words, RSP_PROD) >>> 0;
    const next = this.rspProdPvt;
    Atomics.store(this.#words, RSP_PROD, next | 0); // publish point: slots written before this
    const event = Atomics.load(this.#words, RSP_EVENT) >>> 0;
    return ((next - event) >>> 0) < ((next - old) >>> 0);
  }

  /**
   * Whether at least `needed` requests are waiting; if not, asks to be notified when the
   * producer reaches that many and checks again (`RING_FINAL_CHECK_FOR_REQUESTS`, generalized
   * for a backend that needs several requests at once, as netback's receive side does for a
   * frame spanning slots). Throws {@link RingOverflowError} like {@link unconsumed}.
   */
  finalCheckForRequests(needed = 1): boolean {
    if (this.unconsumed() >= needed) return true;
    Atomics.store(this.#words, REQ_EVENT, (this.reqCons + needed) | 0);
    return this.unconsumed() >= needed;
  }
}
