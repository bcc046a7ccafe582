/**
 * A network frontend written in TypeScript, for tests and benchmarks until the PV guest's C
 * netfront exists: it plays the guest's part of `io/netif.h` by writing grant entries, ring
 * requests and frame bytes straight into the guest domain's memory (its region's
 * SharedArrayBuffer), exactly where the guest kernel would.
 *
 * Layout of the pages it is given (region indices of the guest's ordinary pages): the tx ring,
 * the rx ring, then `txBuffers` transmit pages (granted read-only, one per tx request in flight)
 * and `rxBuffers` receive pages (granted writable, all posted at start and re-posted as frames
 * arrive). Grant references are allocated from {@link TS_NETFRONT_FIRST_GREF} upwards.
 *
 * Rules of use: one thread drives it. {@link TsNetfront.send} queues a frame (split into
 * fragments of at most `fragmentSize` bytes), {@link TsNetfront.poll} collects transmit statuses
 * and received frames and re-posts receive buffers. Event channels are the caller's: `notify` is
 * called when the ring protocol says the backend must be told (`RING_PUSH_REQUESTS_AND_CHECK_NOTIFY`).
 * The raw views ({@link TsNetfront.txRing}, {@link TsNetfront.writeGrant}) let hostile tests
 * break the rules on purpose.
 *
 * @module
 */

import {
  GRANT_ENTRIES_PER_FRAME,
  GTF_permit_access,
  GTF_readonly,
  NETIF_RX_RING_SIZE,
  NETIF_RX_SLOT_SIZE,
  NETIF_TX_RING_SIZE,
  NETIF_TX_SLOT_SIZE,
  NETRXF_more_data,
  NETTXF_more_data,
} from "@paravirt/public";

/** The first grant reference the frontend uses (lower ones are left to the guest's own use). */
export const TS_NETFRONT_FIRST_GREF = 16;
const PAGE = 4096;
const HEADER = 64;

/** The guest memory a {@link TsNetfront} writes into. */
export interface NetfrontMemory {
  /** The guest's region. */
  readonly buffer: SharedArrayBuffer;
  /** Machine frame of the region's first frame. */
  readonly firstFrame: number;
  /** Region index of the first grant-table frame. */
  readonly grantFrameIndex: number;
  /** Grant-table frames. */
  readonly grantFrames: number;
}

/** Options of a {@link TsNetfront}. */
export interface TsNetfrontOptions {
  /** Region indices of pages the frontend may use (2 + txBuffers + rxBuffers of them). */
  pages: readonly number[];
  /** Transmit buffer pages (default 64). */
  txBuffers?: number;
  /** Receive buffer pages (default 64). */
  rxBuffers?: number;
  /** The backend's domain (default 0). */
  backendDomid?: number;
  /** Called when the backend must be notified of new requests on `ring`. */
  notify?: (ring: "tx" | "rx") => void;
}

/** A transmit that completed. */
export interface TxStatus {
  /** The request id. */
  readonly id: number;
  /** Its `NETIF_RSP_*` status. */
  readonly status: number;
}

/** A TypeScript netfront (see the module doc). */
export class TsNetfront {
  /** Grant of the tx ring page (`tx-ring-ref`). */
  readonly txRingRef: number;
  /** Grant of the rx ring page (`rx-ring-ref`). */
  readonly rxRingRef: number;
  /** Frames received, in order (take them with `splice`). */
  readonly received: Uint8Array[] = [];
  /** Transmit statuses, in the order the backend answered. */
  readonly txStatuses: TxStatus[] = [];
  /** Receive responses with a negative status. */
  rxErrors = 0;
  /** Notifications sent to the backend. */
  notifications = 0;
  readonly #memory: NetfrontMemory;
  readonly #bytes: Uint8Array;
  readonly #words: Int32Array;
  readonly #view: DataView;
  readonly #backend: number;
  readonly #notify?: (ring: "tx" | "rx") => void;
  readonly #txRing: number;
  readonly #rxRing: number;
  readonly #txPages: number[];
  readonly #txGrefs: number[];
  readonly #rxPages: number[];
  readonly #rxGrefs: number[];
  readonly #freeTx: number[];
  readonly #txBusy: Uint8Array;
  #nextGref = TS_NETFRONT_FIRST_GREF;
  #txProd = 0;
  #txRspCons = 0;
  #rxProd = 0;
  #rxRspCons = 0;
  #partial: Uint8Array[] = [];
  readonly #bufferOfId: Int32Array;

  /** Sets up the rings and buffers in guest memory and posts every receive buffer. */
  constructor(memory: NetfrontMemory, options: TsNetfrontOptions) {
    const txBuffers = options.txBuffers ?? 64;
    const rxBuffers = options.rxBuffers ?? 64;
    if (txBuffers < 1 || txBuffers > NETIF_TX_RING_SIZE) {
      throw new RangeError(`txBuffers ${txBuffers} is outside 1..${NETIF_TX_RING_SIZE}`);
    }
    if (rxBuffers < 1 || rxBuffers > NETIF_RX_RING_SIZE) {
      throw new RangeError(`rxBuffers ${rxBuffers} is outside 1..${NETIF_RX_RING_SIZE}`);
    }
    if (options.pages.length < 2 + txBuffers + rxBuffers) {
      throw new RangeError(
        `A netfront needs ${2 + txBuffers + rxBuffers} pages, got ${options.pages.length}`,
      );
    }
    this.#memory = memory;
    this.#bytes = new Uint8Array(memory.buffer);
    this.#words = new Int32Array(memory.buffer);
    this.#view = new DataView(memory.buffer);
    this.#backend = options.backendDomid ?? 0;
    this.#notify = options.notify;
    const pages = options.pages;
    this.#txRing = pages[0];
    this.#rxRing = pages[1];
    this.#txPages = pages.slice(2, 2 + txBuffers);
    this.#rxPages = pages.slice(2 + txBuffers, 2 + txBuffers + rxBuffers);
    for (const page of [this.#txRing, this.#rxRing]) {
      this.#bytes.fill(0, page * PAGE, (page + 1) * PAGE);
      this.#words[page * 1024 + 1] = 1; // req_event
      this.#words[page * 1024 + 3] = 1; // rsp_event
    }
    this.txRingRef = this.grantPage(this.#txRing, false);
    this.rxRingRef = this.grantPage(this.#rxRing, false);
    this.#txGrefs = this.#txPages.map((p) => this.grantPage(p, true));
    this.#rxGrefs = this.#rxPages.map((p) => this.grantPage(p, false));
    // Tx ids are buffer indices; an id is free while its buffer is.
    this.#freeTx = this.#txPages.map((_, i) => txBuffers - 1 - i);
    this.#txBusy = new Uint8Array(txBuffers);
    this.#bufferOfId = new Int32Array(NETIF_RX_RING_SIZE).fill(-1);
    for (let i = 0; i < rxBuffers; i++) this.#postRx(i);
    this.#pushRx();
  }

  // ---- grants ----------------------------------------------------------------------------------

  /** Writes grant entry `gref` (domid and frame first, then the flags: the publish point). */
  writeGrant(gref: number, flags: number, domid: number, frame: number): void {
    const at = (this.#memory.grantFrameIndex * PAGE + gref * 8) / 4;
    this.#words[at + 1] = frame | 0;
    Atomics.store(this.#words, at, (flags & 0xffff) | (domid << 16));
  }

  /** Grants region page `index` to the backend (read-only or writable); returns the reference. */
  grantPage(index: number, readonly: boolean): number {
    const gref = this.#nextGref++;
    if (gref >= this.#memory.grantFrames * GRANT_ENTRIES_PER_FRAME) {
      throw new RangeError(`Grant table full at reference ${gref}`);
    }
    const flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
    this.writeGrant(gref, flags, this.#backend, this.#memory.firstFrame + index);
    return gref;
  }

  /** Grant flags of `gref` now (to see the backend's in-use marks). */
  grantFlags(gref: number): number {
    return Atomics.load(this.#words, (this.#memory.grantFrameIndex * PAGE + gref * 8) / 4) &
      0xffff;
  }

  // ---- raw views for hostile tests ---------------------------------------------------------------

  /** The tx ring page (header and slots). */
  get txRing(): Uint8Array {
    return this.#bytes.subarray(this.#txRing * PAGE, (this.#txRing + 1) * PAGE);
  }

  /** The rx ring page. */
  get rxRing(): Uint8Array {
    return this.#bytes.subarray(this.#rxRing * PAGE, (this.#rxRing + 1) * PAGE);
  }

  /** Grant of tx buffer `i` (its page holds what a request with id `i` sends). */
  txBufferGref(i: number): number {
    return this.#txGrefs[i];
  }

  /** Bytes of tx buffer `i`. */
  txBuffer(i: number): Uint8Array {
    const page = this.#txPages[i];
    return this.#bytes.subarray(page * PAGE, (page + 1) * PAGE);
  }

  /** The tx producer index as the frontend keeps it. */
  get txProducer(): number {
    return this.#txProd;
  }

  /**
   * Writes tx request slot `index` as given (any values) without publishing it. Use
   * {@link publishTx} to move the producer index.
   */
  writeTxSlot(
    index: number,
    fields: { gref: number; offset: number; flags: number; id: number; size: number },
  ): void {
    const at = this.#txRing * PAGE + HEADER + (index & (NETIF_TX_RING_SIZE - 1)) *
        NETIF_TX_SLOT_SIZE;
    this.#view.setUint32(at, fields.gref >>> 0, true);
    this.#view.setUint16(at + 4, fields.offset & 0xffff, true);
    this.#view.setUint16(at + 6, fields.flags & 0xffff, true);
    this.#view.setUint16(at + 8, fields.id & 0xffff, true);
    this.#view.setUint16(at + 10, fields.size & 0xffff, true);
  }

  /** Writes raw bytes into tx slot `index` (an extra-info slot, for instance). */
  writeTxSlotBytes(index: number, bytes: Uint8Array): void {
    const at = this.#txRing * PAGE + HEADER + (index & (NETIF_TX_RING_SIZE - 1)) *
        NETIF_TX_SLOT_SIZE;
    this.#bytes.set(bytes.subarray(0, NETIF_TX_SLOT_SIZE), at);
  }

  /** Sets the tx producer index to `producer` (any value) and notifies as the ring says. */
  publishTx(producer: number): void {
    const old = this.#txProd;
    this.#txProd = producer >>> 0;
    this.#pushTx(old);
  }

  // ---- transmit --------------------------------------------------------------------------------

  /** Free tx buffers. */
  get txFree(): number {
    return this.#freeTx.length;
  }

  /** Tx buffers sent and not yet answered. */
  get txInFlight(): number {
    return this.#txPages.length - this.#freeTx.length;
  }

  /**
   * Queues `frame` for transmission in fragments of at most `fragmentSize` bytes (default one
   * page) and publishes it. Returns false (nothing queued) when too few buffers are free.
   */
  send(frame: Uint8Array, options: { fragmentSize?: number; publish?: boolean } = {}): boolean {
    const fragmentSize = options.fragmentSize ?? PAGE;
    if (fragmentSize < 1 || fragmentSize > PAGE) {
      throw new RangeError(`Fragment size ${fragmentSize} is outside 1..${PAGE}`);
    }
    if (frame.length > 0xffff) throw new RangeError(`Frame of ${frame.length} bytes is too long`);
    const count = Math.max(1, Math.ceil(frame.length / fragmentSize));
    if (count > this.#freeTx.length) return false;
    const old = this.#txProd;
    for (let k = 0; k < count; k++) {
      const id = this.#freeTx.pop()!;
      this.#txBusy[id] = 1;
      const start = k * fragmentSize;
      const piece = frame.subarray(start, Math.min(frame.length, start + fragmentSize));
      this.txBuffer(id).set(piece);
      this.writeTxSlot(this.#txProd, {
        gref: this.#txGrefs[id],
        offset: 0,
        flags: k < count - 1 ? NETTXF_more_data : 0,
        id,
        size: k === 0 ? frame.length : piece.length,
      });
      this.#txProd = (this.#txProd + 1) >>> 0;
    }
    if (options.publish ?? true) this.#pushTx(old);
    return true;
  }

  /** Publishes requests queued with `publish: false`. */
  flush(): void {
    const published = Atomics.load(this.#words, this.#txRing * 1024) >>> 0;
    this.#pushTx(published);
  }

  /** RING_PUSH_REQUESTS_AND_CHECK_NOTIFY on the tx ring. */
  #pushTx(old: number): void {
    const base = this.#txRing * 1024;
    const next = this.#txProd;
    Atomics.store(this.#words, base, next | 0); // publish point: slots written before
    const event = Atomics.load(this.#words, base + 1) >>> 0;
    if (((next - event) >>> 0) < ((next - old) >>> 0)) {
      this.notifications++;
      this.#notify?.("tx");
    }
  }

  // ---- receive ---------------------------------------------------------------------------------

  #postRx(buffer: number): void {
    const id = this.#rxProd & (NETIF_RX_RING_SIZE - 1);
    const at = this.#rxRing * PAGE + HEADER + id * NETIF_RX_SLOT_SIZE;
    this.#view.setUint16(at, id, true);
    this.#view.setUint16(at + 2, 0, true);
    this.#view.setUint32(at + 4, this.#rxGrefs[buffer], true);
    this.#bufferOfId[id] = buffer;
    this.#rxProd = (this.#rxProd + 1) >>> 0;
  }

  #pushRx(): void {
    const base = this.#rxRing * 1024;
    const old = Atomics.load(this.#words, base) >>> 0;
    const next = this.#rxProd;
    Atomics.store(this.#words, base, next | 0);
    const event = Atomics.load(this.#words, base + 1) >>> 0;
    if (((next - event) >>> 0) < ((next - old) >>> 0)) {
      this.notifications++;
      this.#notify?.("rx");
    }
  }

  /**
   * Collects tx statuses (freeing their buffers) and received frames (re-posting their buffers),
   * and asks to be notified of the next responses. Returns how many responses it took.
   */
  poll(): number {
    let taken = 0;
    // Transmit responses.
    const tx = this.#txRing * 1024;
    for (;;) {
      const prod = Atomics.load(this.#words, tx + 2) >>> 0;
      while (this.#txRspCons !== prod) {
        const at = this.#txRing * PAGE + HEADER +
          (this.#txRspCons & (NETIF_TX_RING_SIZE - 1)) * NETIF_TX_SLOT_SIZE;
        const id = this.#view.getUint16(at, true);
        const status = this.#view.getInt16(at + 2, true);
        this.txStatuses.push({ id, status });
        if (status !== 1 && id < this.#txPages.length && this.#txBusy[id] === 1) {
          this.#txBusy[id] = 0;
          this.#freeTx.push(id);
        }
        this.#txRspCons = (this.#txRspCons + 1) >>> 0;
        taken++;
      }
      Atomics.store(this.#words, tx + 3, (this.#txRspCons + 1) | 0); // rsp_event
      if ((Atomics.load(this.#words, tx + 2) >>> 0) === this.#txRspCons) break;
    }
    // Receive responses.
    const rx = this.#rxRing * 1024;
    let reposted = false;
    for (;;) {
      const prod = Atomics.load(this.#words, rx + 2) >>> 0;
      while (this.#rxRspCons !== prod) {
        const at = this.#rxRing * PAGE + HEADER +
          (this.#rxRspCons & (NETIF_RX_RING_SIZE - 1)) * NETIF_RX_SLOT_SIZE;
        const id = this.#view.getUint16(at, true);
        const offset = this.#view.getUint16(at + 2, true);
        const flags = this.#view.getUint16(at + 4, true);
        const status = this.#view.getInt16(at + 6, true);
        const buffer = this.#bufferOfId[id & (NETIF_RX_RING_SIZE - 1)];
        if (status < 0 || buffer < 0 || offset + status > PAGE) {
          this.rxErrors++;
          this.#partial = [];
        } else {
          const page = this.#rxPages[buffer];
          const start = page * PAGE + offset;
          this.#partial.push(this.#bytes.slice(start, start + status));
          if ((flags & NETRXF_more_data) === 0) {
            this.received.push(concat(this.#partial));
            this.#partial = [];
          }
        }
        if (buffer >= 0) this.#postRx(buffer);
        reposted = true;
        this.#rxRspCons = (this.#rxRspCons + 1) >>> 0;
        taken++;
      }
      Atomics.store(this.#words, rx + 3, (this.#rxRspCons + 1) | 0);
      if ((Atomics.load(this.#words, rx + 2) >>> 0) === this.#rxRspCons) break;
    }
    if (reposted) this.#pushRx();
    return taken;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
