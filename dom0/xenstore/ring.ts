/**
 * xenstored's end of a guest's xenstore ring page (`struct xenstore_domain_interface`): takes
 * requests out of the request ring, hands each whole message to the daemon, and writes replies
 * and watch events into the response ring.
 *
 * The page is hostile memory — the guest can write any byte at any time — so: indices that
 * xenstored owns (`req_cons`, `rsp_prod`) are kept in private copies and only ever written to
 * the page, never read back; every byte of a message is copied out before any of it is looked
 * at; a producer index more than a ring ahead of its consumer, or a payload longer than
 * XENSTORE_PAYLOAD_MAX, marks the ring failed (the `error` field says why) and it is ignored
 * until the guest asks to reconnect (`connection` = XENSTORE_RECONNECT). Nothing here throws to
 * the caller of {@link RingServer.onEvent}.
 *
 * Publish points: request bytes are copied out before `req_cons` moves past them (the guest may
 * reuse the space once it sees `req_cons`); response bytes are written before `rsp_prod` moves
 * over them (the guest reads up to `rsp_prod`). Indices are read and written with `Atomics`, which
 * orders them against the data copies on a SharedArrayBuffer page.
 *
 * Rules of use: the hypervisor calls {@link RingServer.onEvent} whenever the guest notifies the
 * store event channel; the server calls `notify()` when it moved an index the guest waits on.
 *
 * @module
 */

import {
  XENSTORE_CONNECTED,
  XENSTORE_DOMAIN_INTERFACE,
  XENSTORE_ERROR_COMM,
  XENSTORE_ERROR_NONE,
  XENSTORE_ERROR_PROTO,
  XENSTORE_ERROR_RINGIDX,
  XENSTORE_PAYLOAD_MAX,
  XENSTORE_RECONNECT,
  XENSTORE_RING_SIZE,
  XENSTORE_SERVER_FEATURE_ERROR,
  XENSTORE_SERVER_FEATURE_RECONNECTION,
} from "@paravirt/public";
import { decodeHeader, decodeMessage, HEADER_SIZE, type Message } from "./wire.ts";

/** A guest's ring as the hypervisor hands it to xenstored. */
export interface RingEndpoint {
  /** The guest's xenstore page (at least the 2076 bytes of the interface, 4-byte aligned). */
  readonly page: Uint8Array;
  /** Sends an event to the guest on its store event channel. */
  notify(): void;
  /** Called when xenstored lets go of the ring (the domain was released): unmap, unbind. */
  close?(): void;
}

/**
 * How `XS_INTRODUCE` reaches guest memory: maps domain `domid`'s frame `mfn`, binds to its
 * unbound event channel `port`, and arranges for `onEvent` to be called whenever the guest
 * notifies it. Throws (any error) if the frame or port is not the domain's; the client gets
 * `EINVAL`.
 */
export interface RingBinder {
  /** Maps the page and binds the port; see {@link RingBinder}. */
  bind(domid: number, mfn: number, port: number, onEvent: () => void): RingEndpoint;
}

/** Options of a {@link RingServer}. */
export interface RingServerOptions {
  /** Sends an event to the guest. */
  notify(): void;
  /** Receives each whole request (a fresh copy). */
  onMessage(message: Message): void;
  /** The guest asked to reconnect: forget its watches and transactions. */
  onReset?(): void;
  /** The ring failed (bad index, oversized message, internal error); `reason` says why. */
  onFailure?(reason: string): void;
  /** Messages queued for the guest beyond which requests wait and watch events drop. */
  maxPending?: number;
  /** Ring copies per `onEvent` before yielding (the rest is rescheduled). */
  budget?: number;
  /** Runs a continuation later (default `setTimeout(fn, 0)`). */
  schedule?(fn: () => void): void;
}

const RING = XENSTORE_RING_SIZE;
const MASK = XENSTORE_RING_SIZE - 1;
const REQ = XENSTORE_DOMAIN_INTERFACE.offset.req;
const RSP = XENSTORE_DOMAIN_INTERFACE.offset.rsp;
const INDEX_BASE = XENSTORE_DOMAIN_INTERFACE.offset.req_cons;
// Word indices in the Uint32Array laid over the index area.
const REQ_CONS = 0;
const REQ_PROD = 1;
const RSP_CONS = 2;
const RSP_PROD = 3;
const FEATURES = 4;
const CONNECTION = 5;
const ERROR = 6;

/** Counters of one ring. */
export interface RingMetrics {
  /** Requests taken from the ring. */
  requests: number;
  /** Messages written to the ring. */
  responses: number;
  /** Watch events dropped because the guest was not reading. */
  droppedEvents: number;
  /** Notifications sent. */
  notifications: number;
  /** Reconnections the guest asked for. */
  resets: number;
  /** Times the ring was marked failed. */
  failures: number;
  /** Notifications whose `notify()` threw. */
  notifyErrors: number;
}

/** xenstored's side of one guest ring. */
export class RingServer {
  /** Counters. */
  readonly metrics: RingMetrics = {
    requests: 0,
    responses: 0,
    droppedEvents: 0,
    notifications: 0,
    resets: 0,
    failures: 0,
    notifyErrors: 0,
  };
  #page: Uint8Array;
  #index: Uint32Array;
  #options: RingServerOptions;
  #maxPending: number;
  #budget: number;
  #reqCons: number;
  #rspProd: number;
  #input = new Uint8Array(HEADER_SIZE + XENSTORE_PAYLOAD_MAX);
  #have = 0;
  #need = HEADER_SIZE;
  #output: Uint8Array[] = [];
  #outputOffset = 0;
  #state: "connected" | "failed" | "closed" = "connected";
  #failure: string | undefined;
  #busy = false;
  #again = false;
  #scheduled = false;

  /** Serves the ring in `page`. Throws TypeError/RangeError if the page is unusable. */
  constructor(page: Uint8Array, options: RingServerOptions) {
    if (!(page instanceof Uint8Array)) throw new TypeError(`Ring page ${page} is not a Uint8Array`);
    if (page.length < XENSTORE_DOMAIN_INTERFACE.size || page.byteOffset % 4 !== 0) {
      throw new RangeError(
        `Ring page of ${page.length} bytes at offset ${page.byteOffset} is too small or unaligned`,
      );
    }
    this.#page = page;
    this.#index = new Uint32Array(page.buffer, page.byteOffset + INDEX_BASE, 7);
    this.#options = options;
    this.#maxPending = options.maxPending ?? 64;
    this.#budget = options.budget ?? 1024;
    // Start from what the page holds (a guest may have queued requests before introduction).
    this.#reqCons = Atomics.load(this.#index, REQ_CONS);
    this.#rspProd = Atomics.load(this.#index, RSP_PROD);
    Atomics.store(
      this.#index,
      FEATURES,
      XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR,
    );
  }

  /** Why the ring failed, while it is failed. */
  get failure(): string | undefined {
    return this.#failure;
  }

  /** Whether the server still serves the ring (not closed; it may be failed). */
  get open(): boolean {
    return this.#state !== "closed";
  }

  /** Messages waiting for room in the response ring. */
  get pending(): number {
    return this.#output.length;
  }

  /** The guest notified the event channel: take requests, write responses. Never throws. */
  onEvent(): void {
    if (this.#state === "closed") return;
    if (this.#busy) {
      // Called back from inside our own notify() or a message handler: go round once more.
      this.#again = true;
      return;
    }
    this.#busy = true;
    try {
      do {
        this.#again = false;
        this.#pump();
      } while (this.#again && !this.#scheduled && this.#state === "connected");
    } catch (error) {
      this.#fail(XENSTORE_ERROR_COMM, `internal error: ${error}`);
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Queues a message for the guest and writes what fits. A watch event (`event`) is dropped,
   * returning false, when the guest already has `maxPending` messages waiting.
   */
  send(message: Uint8Array, event = false): boolean {
    // A failed ring takes nothing until the guest reconnects (which forgets its state anyway).
    if (this.#state !== "connected") return false;
    if (event && this.#output.length >= this.#maxPending) {
      this.metrics.droppedEvents++;
      return false;
    }
    this.#output.push(message);
    if (this.#busy) {
      this.#again = true; // the running pump flushes it
    } else {
      try {
        if (this.#flush()) this.#notify();
      } catch (error) {
        this.#fail(XENSTORE_ERROR_COMM, `internal error: ${error}`);
      }
    }
    return true;
  }

  /** Stops serving the ring; the page is not touched again. */
  close(): void {
    this.#state = "closed";
    this.#output = [];
  }

  #pump(): void {
    if (Atomics.load(this.#index, CONNECTION) === XENSTORE_RECONNECT) this.#reset();
    if (this.#state !== "connected") return;
    let moved = this.#flush();
    let budget = this.#budget;
    while (this.#state === "connected" && this.#output.length < this.#maxPending) {
      if (budget-- === 0) {
        this.#reschedule();
        break;
      }
      const available = (Atomics.load(this.#index, REQ_PROD) - this.#reqCons) >>> 0;
      if (available > RING) {
        this.#fail(XENSTORE_ERROR_RINGIDX, `request producer ${available} bytes ahead`);
        return;
      }
      if (available === 0) break;
      const at = this.#reqCons & MASK;
      const take = Math.min(available, this.#need - this.#have, RING - at);
      // Copy out first; only then let the guest reuse the space.
      this.#input.set(this.#page.subarray(REQ + at, REQ + at + take), this.#have);
      this.#have += take;
      this.#reqCons = (this.#reqCons + take) >>> 0;
      Atomics.store(this.#index, REQ_CONS, this.#reqCons);
      moved = true;
      if (this.#have === HEADER_SIZE && this.#need === HEADER_SIZE) {
        const { len } = decodeHeader(this.#input);
        if (len > XENSTORE_PAYLOAD_MAX) {
          this.#fail(XENSTORE_ERROR_PROTO, `payload of ${len} bytes`);
          return;
        }
        this.#need = HEADER_SIZE + len;
      }
      if (this.#have === this.#need) {
        const message = decodeMessage(this.#input.subarray(0, this.#have));
        this.#have = 0;
        this.#need = HEADER_SIZE;
        this.metrics.requests++;
        this.#options.onMessage(message);
        if (this.#state !== "connected") return;
        if (this.#flush()) moved = true;
      }
    }
    if (moved) this.#notify();
  }

  // Writes queued output while there is room; returns whether rsp_prod moved.
  #flush(): boolean {
    let moved = false;
    while (this.#output.length > 0) {
      const used = (this.#rspProd - Atomics.load(this.#index, RSP_CONS)) >>> 0;
      if (used > RING) {
        this.#fail(XENSTORE_ERROR_RINGIDX, `response consumer ${used - RING} bytes past producer`);
        return moved;
      }
      if (used === RING) break;
      const message = this.#output[0];
      const at = this.#rspProd & MASK;
      const take = Math.min(RING - used, message.length - this.#outputOffset, RING - at);
      this.#page.set(message.subarray(this.#outputOffset, this.#outputOffset + take), RSP + at);
      // The bytes are in place; now the guest may see them.
      this.#rspProd = (this.#rspProd + take) >>> 0;
      Atomics.store(this.#index, RSP_PROD, this.#rspProd);
      moved = true;
      this.#outputOffset += take;
      if (this.#outputOffset === message.length) {
        this.#output.shift();
        this.#outputOffset = 0;
        this.metrics.responses++;
      }
    }
    return moved;
  }

  // The guest asked for a fresh start: drop everything, zero the indices, say CONNECTED last.
  #reset(): void {
    this.metrics.resets++;
    this.#have = 0;
    this.#need = HEADER_SIZE;
    this.#output = [];
    this.#outputOffset = 0;
    this.#reqCons = 0;
    this.#rspProd = 0;
    this.#failure = undefined;
    for (const word of [REQ_CONS, REQ_PROD, RSP_CONS, RSP_PROD]) {
      Atomics.store(this.#index, word, 0);
    }
    Atomics.store(this.#index, ERROR, XENSTORE_ERROR_NONE);
    this.#state = "connected";
    this.#options.onReset?.();
    Atomics.store(this.#index, CONNECTION, XENSTORE_CONNECTED);
    this.#notify();
  }

  #fail(code: number, reason: string): void {
    if (this.#state !== "connected") return;
    this.#state = "failed";
    this.#failure = reason;
    this.#output = [];
    this.#outputOffset = 0;
    this.metrics.failures++;
    Atomics.store(this.#index, ERROR, code);
    this.#notify();
    this.#options.onFailure?.(reason);
  }

  #notify(): void {
    this.metrics.notifications++;
    try {
      this.#options.notify();
    } catch {
      // The embedder's event channel failed; the guest will poll or time out. Not ours to throw.
      this.metrics.notifyErrors++;
    }
  }

  #reschedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const run = () => {
      this.#scheduled = false;
      this.onEvent();
    };
    if (this.#options.schedule) this.#options.schedule(run);
    else setTimeout(run, 0);
  }
}
