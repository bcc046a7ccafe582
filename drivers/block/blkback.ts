/**
 * blkback: the block protocol engine between a frontend's ring and a {@link BlockBackend}. It runs
 * in the disk's worker (see `blkback_worker.ts`), and in tests on any thread.
 *
 * What it does, the way Xen's blkback does it:
 * - maps the ring page by its grant and picks the ring up where its indices stand
 *   ({@link BackRing.resume}: a fresh ring after a (re)connect);
 * - on each event, takes every request available, then arms `req_event` and looks once more
 *   (`RING_FINAL_CHECK_FOR_REQUESTS`), so a busy frontend sends no notifications; while it takes
 *   them, finished requests are answered and published as it goes (the frontend refills the ring
 *   meanwhile — the two sides work in parallel);
 * - copies each request out of the ring before reading a field, then validates it: the operation,
 *   `nr_segments` (1..11; indirect: 1..the advertised maximum), each segment's sector range
 *   (`first_sect <= last_sect <= 7`), the sector range against the disk, every grant (through
 *   {@link GrantMapper}, with Xen's checks), writes against a read-only disk;
 * - starts each valid request at once and answers each when it settles (so answers may leave out
 *   of order); a bad request gets `BLKIF_RSP_ERROR`, an unknown or unoffered operation
 *   `BLKIF_RSP_EOPNOTSUPP`; responses written in one pass are published together with one
 *   notification at most (`RING_PUSH_RESPONSES_AND_CHECK_NOTIFY`);
 * - orders a `WRITE_BARRIER` after every request before it and every request after it after it,
 *   and makes it durable; a `FLUSH_DISKCACHE` waits for the writes in flight, then flushes;
 * - a producer index that is beyond repair (more than a ring ahead, or moved back) stops the
 *   engine and reports it ({@link BlkbackOptions.onRingError}): the device is disconnected, and
 *   everything else goes on.
 *
 * Data moves straight between the backend and the frontend's frames when a request's segments
 * are whole, adjacent frames (one view of guest memory); otherwise through a bounce buffer. With
 * `feature-persistent` agreed, grants stay mapped across requests (the frontend reuses them), so
 * a request costs no map or unmap.
 *
 * Rules of use: guest input never throws out of this class. A backend rejection named
 * `BlockIoError` (or a RangeError) fails that request; any other rejection is a backend bug,
 * reported through {@link BlkbackOptions.onFatal}, after which the engine stops.
 *
 * @module
 */

import {
  BLKIF_DISCARD_SECURE,
  BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST,
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_OP_READ,
  BLKIF_OP_WRITE,
  BLKIF_OP_WRITE_BARRIER,
  BLKIF_RING_SLOT_SIZE,
  BLKIF_RSP_EOPNOTSUPP,
  BLKIF_RSP_ERROR,
  BLKIF_RSP_OKAY,
  BLKIF_SEGMENTS_PER_INDIRECT_FRAME,
} from "@paravirt/public";
import { BackRing, RingOverflowError } from "../ring.ts";
import type { GrantMapper, GrantMapping } from "../grant_mapper.ts";
import type { BlockBackend } from "./backend.ts";

const SECTOR = 512;
const PAGE = 4096;
const RESPONSE_BYTES = 16;
/** Default `feature-max-indirect-segments` (Linux blkback's default). */
export const DEFAULT_MAX_INDIRECT_SEGMENTS = 256;
/** Most grants kept mapped with `feature-persistent` (Linux blkback's default). */
export const PERSISTENT_GRANTS_MAX = 1056;
/** Grant references that may be kept (those beyond are mapped per request). */
const KEPT_GREFS = 4096;

/** How the engine reaches the outside. */
export interface BlkbackOptions {
  /** Most segments of an indirect request (0: indirect requests are unsupported). */
  readonly maxIndirectSegments?: number;
  /**
   * Whether both ends agreed on `feature-persistent`: grants stay mapped (writable) across
   * requests, up to {@link PERSISTENT_GRANTS_MAX}; others are mapped per request.
   */
  readonly persistent?: boolean;
  /** Sends an event to the frontend. */
  notify(): void;
  /** The ring is beyond repair: disconnect the device. */
  onRingError?(reason: string): void;
  /** The backend failed in a way that is not an I/O error: restart it. */
  onFatal?(error: unknown): void;
}

/** Counters of one connection. */
export interface BlkbackMetrics {
  /** Requests taken from the ring. */
  requests: number;
  /** Read requests (direct and indirect). */
  reads: number;
  /** Write requests (direct and indirect, barriers included). */
  writes: number;
  /** Flush requests. */
  flushes: number;
  /** Barrier requests. */
  barriers: number;
  /** Discard requests. */
  discards: number;
  /** Indirect requests. */
  indirect: number;
  /** Requests answered `BLKIF_RSP_ERROR`. */
  errors: number;
  /** Requests answered `BLKIF_RSP_EOPNOTSUPP`. */
  unsupported: number;
  /** Bytes read from the disk. */
  bytesRead: number;
  /** Bytes written to the disk. */
  bytesWritten: number;
  /** Events received from the frontend. */
  notificationsIn: number;
  /** Events sent to the frontend. */
  notificationsOut: number;
  /** Passes over the ring that found requests. */
  batches: number;
  /** Most requests taken in one pass. */
  maxBatch: number;
  /** Requests answered out of arrival order (a later one before an earlier one). */
  outOfOrder: number;
  /** Responses written. */
  answered: number;
  /** Requests in flight now. */
  inflight: number;
  /** Grants kept mapped (`feature-persistent`). */
  persistentGrants: number;
}

/** One request from the time it is taken until its response is written. */
class Pending {
  readonly raw = new Uint8Array(BLKIF_RING_SLOT_SIZE);
  readonly view = new DataView(this.raw.buffer);
  /** Segment descriptors (8 bytes each: gref u32, first u8, last u8), direct or indirect. */
  segs: Uint8Array;
  segView: DataView;
  nsegs = 0;
  /** Byte offset in the region of each segment's frame (persistent mappings included). */
  offs: Int32Array;
  /** The mappings made for this request only (unmapped when it completes). */
  owned: GrantMapping[] = [];
  bounce: Uint8Array | undefined;
  direct: Uint8Array | undefined;
  bytes = 0;
  sector = 0;
  op = 0;
  seq = 0;
  isWrite = false;
  settled: Promise<void> | undefined;
  /** Runs once the request settled (a barrier reopens the ring), then is cleared. */
  after: (() => void) | undefined;
  /** Completion handlers, made once per Pending (no closure per request). */
  readonly onDone: () => void;
  readonly onFail: (error: unknown) => void;

  constructor(
    maxSegments: number,
    engine: { done(p: Pending): void; fail(p: Pending, e: unknown): void },
  ) {
    this.onDone = () => engine.done(this);
    this.onFail = (error) => engine.fail(this, error);
    const segments = Math.max(maxSegments, BLKIF_MAX_SEGMENTS_PER_REQUEST);
    this.segs = new Uint8Array(segments * 8);
    this.offs = new Int32Array(segments);
    this.segView = new DataView(this.segs.buffer);
  }
}

function isIoError(error: unknown): boolean {
  return error instanceof RangeError ||
    (error instanceof Error && error.name === "BlockIoError");
}

/** The protocol engine of one connected vbd. */
export class Blkback {
  /** Counters (read them any time). */
  readonly metrics: BlkbackMetrics = {
    requests: 0,
    reads: 0,
    writes: 0,
    flushes: 0,
    barriers: 0,
    discards: 0,
    indirect: 0,
    errors: 0,
    unsupported: 0,
    bytesRead: 0,
    bytesWritten: 0,
    notificationsIn: 0,
    notificationsOut: 0,
    batches: 0,
    maxBatch: 0,
    outOfOrder: 0,
    answered: 0,
    inflight: 0,
    persistentGrants: 0,
  };
  readonly #mapper: GrantMapper;
  readonly #buffer: SharedArrayBuffer;
  readonly #backend: BlockBackend;
  readonly #options: BlkbackOptions;
  readonly #ring: BackRing;
  readonly #ringMapping: GrantMapping;
  readonly #maxIndirect: number;
  /** Persistent mappings: byte offset + 1 by grant reference (0: not kept), and the mappings. */
  readonly #keptOffset: Int32Array | undefined;
  readonly #kept: GrantMapping[] = [];
  readonly #bytes: Uint8Array;
  readonly #free: Pending[] = [];
  readonly #inflight = new Set<Pending>();
  readonly #bounces = new Map<number, Uint8Array[]>();
  readonly #response = new Uint8Array(RESPONSE_BYTES);
  readonly #responseView = new DataView(this.#response.buffer);
  #barrier = false;
  #stopped = false;
  #pumping = false;
  #again = false;
  #pushQueued = false;
  #seq = 0;
  #answeredSeq = 0;

  /**
   * Connects to the ring granted as `ringRef` through `mapper`'s view of `buffer` (the frontend's
   * region). Throws a RangeError if the ring page cannot be mapped.
   */
  constructor(
    mapper: GrantMapper,
    buffer: SharedArrayBuffer,
    ringRef: number,
    backend: BlockBackend,
    options: BlkbackOptions,
  ) {
    this.#mapper = mapper;
    this.#buffer = buffer;
    this.#backend = backend;
    this.#options = options;
    const max = options.maxIndirectSegments ?? DEFAULT_MAX_INDIRECT_SEGMENTS;
    const limit = BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLKIF_SEGMENTS_PER_INDIRECT_FRAME;
    if (!Number.isInteger(max) || max < 0 || max > limit) {
      throw new RangeError(`Indirect segment limit ${max} is outside 0..${limit}`);
    }
    this.#maxIndirect = max;
    this.#keptOffset = options.persistent ? new Int32Array(KEPT_GREFS) : undefined;
    this.#bytes = new Uint8Array(buffer);
    const mapping = mapper.map(ringRef, true);
    if (typeof mapping === "number") {
      throw new RangeError(`Ring grant ${ringRef} cannot be mapped (status ${mapping})`);
    }
    this.#ringMapping = mapping;
    this.#ring = new BackRing(buffer, mapping.offset, BLKIF_RING_SLOT_SIZE);
    this.#ring.resume();
  }

  /** Whether the engine stopped (ring error, backend bug, or disconnect). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * The frontend sent an event: take every request available. Resolves when this pass over the
   * ring is done (requests it started may still be in flight).
   */
  onEvent(): Promise<void> {
    this.metrics.notificationsIn++;
    return this.#pump();
  }

  /** Takes requests until the ring is empty and `req_event` is armed. */
  /**
   * Takes requests until the ring is empty and `req_event` is armed. One pump runs at a time; an
   * event that arrives meanwhile makes it look again.
   */
  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        await this.#pass();
      } while (this.#again && !this.#stopped);
    } finally {
      this.#pumping = false;
    }
  }

  /** One pass over the ring (a batch). */
  async #pass(): Promise<void> {
    if (this.#stopped || this.#barrier) return;
    const ring = this.#ring;
    let taken = 0;
    try {
      for (;;) {
        let available = ring.unconsumed();
        while (available-- > 0 && !this.#stopped) {
          const pending = this.#take();
          ring.takeRequest(pending.raw);
          taken++;
          this.#dispatch(pending);
          if (this.#barrier) break; // requests after a barrier wait for it
          // Let finished requests answer now, so the frontend refills while we go on.
          if ((taken & 3) === 0) await null;
        }
        if (this.#stopped || this.#barrier || !ring.finalCheckForRequests()) break;
      }
    } catch (error) {
      if (!(error instanceof RingOverflowError)) throw error;
      this.#ringError(error.message);
    }
    if (taken > 0) {
      this.metrics.batches++;
      if (taken > this.metrics.maxBatch) this.metrics.maxBatch = taken;
    }
  }

  #take(): Pending {
    const pending = this.#free.pop() ?? new Pending(this.#maxIndirect, this.#handlers);
    pending.seq = ++this.#seq;
    this.metrics.requests++;
    return pending;
  }

  #dispatch(p: Pending): void {
    const v = p.view;
    const op = p.raw[0];
    p.op = op;
    p.isWrite = false;
    p.bounce = undefined;
    p.direct = undefined;
    p.owned.length = 0;
    p.settled = undefined;
    p.after = undefined;
    p.bytes = 0;
    p.nsegs = 0;
    switch (op) {
      case 0: // BLKIF_OP_READ
      case 1: // BLKIF_OP_WRITE
      case 2: { // BLKIF_OP_WRITE_BARRIER
        const n = p.raw[1];
        if (op === BLKIF_OP_WRITE_BARRIER && n === 0) {
          this.metrics.barriers++;
          p.isWrite = true;
          this.#startBarrier(p);
          return;
        }
        if (n === 0 || n > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
          return this.#answerNow(p, BLKIF_RSP_ERROR);
        }
        p.segs.set(p.raw.subarray(24, 24 + n * 8));
        p.nsegs = n;
        if (!this.#sector(p, v.getUint32(16, true), v.getUint32(20, true))) return;
        return this.#startReadWrite(p, op);
      }
      case 3: // BLKIF_OP_FLUSH_DISKCACHE
        this.metrics.flushes++;
        return this.#startFlush(p);
      case 5: // BLKIF_OP_DISCARD
        this.metrics.discards++;
        return this.#startDiscard(p);
      case 6: // BLKIF_OP_INDIRECT
        this.metrics.indirect++;
        return this.#startIndirect(p);
      default:
        return this.#answerNow(p, BLKIF_RSP_EOPNOTSUPP);
    }
  }

  /** Reads the 64-bit sector number; answers an error if it cannot be a disk address. */
  #sector(p: Pending, lo: number, hi: number): boolean {
    if (hi >= 0x20_0000) {
      this.#answerNow(p, BLKIF_RSP_ERROR);
      return false;
    }
    p.sector = hi * 2 ** 32 + lo;
    return true;
  }

  #startIndirect(p: Pending): void {
    const v = p.view;
    const inner = p.raw[1];
    const n = v.getUint16(2, true);
    if (this.#maxIndirect === 0) return this.#answerNow(p, BLKIF_RSP_EOPNOTSUPP);
    if (inner !== BLKIF_OP_READ && inner !== BLKIF_OP_WRITE) {
      return this.#answerNow(p, BLKIF_RSP_ERROR);
    }
    if (n === 0 || n > this.#maxIndirect) return this.#answerNow(p, BLKIF_RSP_ERROR);
    if (!this.#sector(p, v.getUint32(16, true), v.getUint32(20, true))) return;
    const pages = Math.ceil(n / BLKIF_SEGMENTS_PER_INDIRECT_FRAME);
    for (let i = 0; i < pages; i++) {
      const gref = v.getUint32(28 + 4 * i, true);
      const count = Math.min(n - i * BLKIF_SEGMENTS_PER_INDIRECT_FRAME, 512) * 8;
      // Copy the descriptors out of the frontend's page before looking at them.
      const page = this.#map(p, gref, false);
      if (page < 0) {
        this.#unmapAll(p);
        return this.#answerNow(p, BLKIF_RSP_ERROR);
      }
      p.segs.set(this.#bytes.subarray(page, page + count), i * PAGE);
    }
    p.nsegs = n;
    this.#startReadWrite(p, inner);
  }

  /** Validates segments, maps grants, starts the transfer. */
  #startReadWrite(p: Pending, op: number): void {
    const write = op !== BLKIF_OP_READ;
    const sv = p.segView;
    let sectors = 0;
    for (let i = 0; i < p.nsegs; i++) {
      const first = p.segs[i * 8 + 4];
      const last = p.segs[i * 8 + 5];
      if (first > last || last > 7) return this.#answerNow(p, BLKIF_RSP_ERROR);
      sectors += last - first + 1;
    }
    if (write) this.metrics.writes++;
    else this.metrics.reads++;
    const info = this.#backend.info;
    if (p.sector + sectors > info.sectors) return this.#answerNow(p, BLKIF_RSP_ERROR);
    if (write && info.readOnly) return this.#answerNow(p, BLKIF_RSP_ERROR);
    // Map every grant first: a request with one bad grant transfers nothing.
    let contiguous = true;
    let lastEnd = -1;
    const offs = p.offs;
    for (let i = 0; i < p.nsegs; i++) {
      const offset = this.#map(p, sv.getUint32(i * 8, true), !write);
      if (offset < 0) {
        this.#unmapAll(p);
        return this.#answerNow(p, BLKIF_RSP_ERROR);
      }
      offs[i] = offset;
      const start = offset + p.segs[i * 8 + 4] * SECTOR;
      if (i > 0 && start !== lastEnd) contiguous = false;
      lastEnd = offset + (p.segs[i * 8 + 5] + 1) * SECTOR;
    }
    p.bytes = sectors * SECTOR;
    p.isWrite = write;
    let data: Uint8Array;
    if (contiguous) {
      const start = offs[0] + p.segs[4] * SECTOR;
      data = p.direct = new Uint8Array(this.#buffer, start, p.bytes);
    } else {
      data = p.bounce = this.#bounce(p.bytes);
      if (write) this.#gather(p, data);
    }
    if (write && op === BLKIF_OP_WRITE_BARRIER) {
      this.metrics.barriers++;
      return this.#startBarrier(p, data);
    }
    this.#run(p, write ? this.#backend.write(p.sector, data) : this.#backend.read(p.sector, data));
  }

  /** Copies the segments' data into `into` (a write through a bounce buffer). */
  #gather(p: Pending, into: Uint8Array): void {
    let at = 0;
    for (let i = 0; i < p.nsegs; i++) {
      const first = p.segs[i * 8 + 4] * SECTOR;
      const end = (p.segs[i * 8 + 5] + 1) * SECTOR;
      const frame = p.offs[i];
      into.set(this.#bytes.subarray(frame + first, frame + end), at);
      at += end - first;
    }
  }

  /** Copies `from` out to the segments (a read through a bounce buffer). */
  #scatter(p: Pending, from: Uint8Array): void {
    let at = 0;
    for (let i = 0; i < p.nsegs; i++) {
      const first = p.segs[i * 8 + 4] * SECTOR;
      const end = (p.segs[i * 8 + 5] + 1) * SECTOR;
      this.#bytes.set(from.subarray(at, at + end - first), p.offs[i] + first);
      at += end - first;
    }
  }

  #startFlush(p: Pending): void {
    const writes: Promise<void>[] = [];
    for (const q of this.#inflight) if (q.isWrite) writes.push(q.settled!);
    this.#run(
      p,
      writes.length > 0
        ? Promise.allSettled(writes).then(() => this.#backend.flush())
        : this.#backend.flush(),
    );
  }

  #startDiscard(p: Pending): void {
    const v = p.view;
    const info = this.#backend.info;
    if (!info.discard || (p.raw[1] & BLKIF_DISCARD_SECURE) !== 0) {
      return this.#answerNow(p, BLKIF_RSP_EOPNOTSUPP);
    }
    if (info.readOnly) return this.#answerNow(p, BLKIF_RSP_ERROR);
    if (!this.#sector(p, v.getUint32(16, true), v.getUint32(20, true))) return;
    const hi = v.getUint32(28, true);
    const count = v.getUint32(24, true) + hi * 2 ** 32;
    if (hi >= 0x20_0000 || count === 0 || p.sector + count > info.sectors) {
      return this.#answerNow(p, BLKIF_RSP_ERROR);
    }
    p.isWrite = true;
    this.#run(p, this.#backend.discard(p.sector, count));
  }

  /**
   * A barrier: wait for everything in flight, write (if it carries data), flush; requests after
   * it stay in the ring until it is done.
   */
  #startBarrier(p: Pending, data?: Uint8Array): void {
    this.#barrier = true;
    const before = [...this.#inflight].map((q) => q.settled!);
    const work = Promise.allSettled(before)
      .then(() => data ? this.#backend.write(p.sector, data) : undefined)
      .then(() => this.#backend.flush());
    p.after = () => {
      this.#barrier = false;
      queueMicrotask(() => this.#pump());
    };
    this.#run(p, work);
  }

  /** Tracks `work` for `p` and answers when it settles. */
  #run(p: Pending, work: Promise<void>): void {
    this.#inflight.add(p);
    this.metrics.inflight = this.#inflight.size;
    p.settled = work.then(p.onDone, p.onFail);
  }

  /** What a Pending calls when its work settles. */
  readonly #handlers = {
    done: (p: Pending) => this.#settle(p, BLKIF_RSP_OKAY, undefined),
    fail: (p: Pending, error: unknown) => this.#settle(p, BLKIF_RSP_ERROR, error),
  };

  #settle(p: Pending, status: number, error: unknown): void {
    const after = p.after;
    p.after = undefined;
    if (status === BLKIF_RSP_OKAY || isIoError(error)) this.#complete(p, status);
    else this.#fatal(p, error);
    after?.();
  }

  #complete(p: Pending, status: number): void {
    this.#inflight.delete(p);
    this.metrics.inflight = this.#inflight.size;
    if (status === BLKIF_RSP_OKAY && p.bytes > 0) {
      if (p.isWrite) this.metrics.bytesWritten += p.bytes;
      else {
        this.metrics.bytesRead += p.bytes;
        if (p.bounce) this.#scatter(p, p.bounce);
      }
    }
    this.#unmapAll(p);
    if (p.bounce) this.#release(p.bounce);
    p.bounce = undefined;
    p.direct = undefined;
    p.bytes = 0;
    if (this.#stopped) return; // disconnected: the frontend will resubmit
    this.#answer(p, status);
  }

  #fatal(p: Pending, error: unknown): void {
    this.#inflight.delete(p);
    this.#unmapAll(p);
    if (this.#stopped) return;
    this.#stopped = true;
    this.#options.onFatal?.(error);
  }

  #ringError(reason: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#options.onRingError?.(reason);
  }

  /**
   * Maps grant `gref` for `p`: from the persistent set if it is there (or can join it: mapped
   * writable, as `feature-persistent` lets us), else for this request only.
   */
  #map(p: Pending, gref: number, writable: boolean): number {
    const kept = this.#keptOffset;
    if (kept && gref < KEPT_GREFS) {
      const offset = kept[gref];
      if (offset !== 0) return offset - 1;
      if (this.#kept.length < PERSISTENT_GRANTS_MAX) {
        const mapping = this.#mapper.map(gref, true);
        if (typeof mapping !== "number") {
          kept[gref] = mapping.offset + 1;
          this.#kept.push(mapping);
          this.metrics.persistentGrants = this.#kept.length;
          return mapping.offset;
        }
        // A read-only grant cannot stay mapped for both directions: map it for this request.
      }
    }
    const mapping = this.#mapper.map(gref, writable);
    if (typeof mapping === "number") return mapping;
    p.owned.push(mapping);
    return mapping.offset;
  }

  #unmapAll(p: Pending): void {
    for (const mapping of p.owned) this.#mapper.unmap(mapping);
    p.owned.length = 0;
  }

  /** Answers a request that never started. */
  #answerNow(p: Pending, status: number): void {
    this.#answer(p, status);
  }

  /** Writes `p`'s response and schedules the publish (one per pass). */
  #answer(p: Pending, status: number): void {
    if (this.#stopped) return;
    this.metrics.answered++;
    if (status === BLKIF_RSP_ERROR) this.metrics.errors++;
    else if (status === BLKIF_RSP_EOPNOTSUPP) this.metrics.unsupported++;
    if (p.seq < this.#answeredSeq) this.metrics.outOfOrder++;
    else this.#answeredSeq = p.seq;
    const r = this.#responseView;
    r.setUint32(0, p.view.getUint32(8, true), true); // id, copied as two words
    r.setUint32(4, p.view.getUint32(12, true), true);
    r.setUint8(8, p.op);
    r.setInt16(10, status, true);
    this.#ring.putResponse(this.#response);
    this.#free.push(p);
    if (!this.#pushQueued) {
      this.#pushQueued = true;
      queueMicrotask(() => this.#push());
    }
  }

  #push(): void {
    this.#pushQueued = false;
    if (this.#stopped) return;
    if (this.#ring.pushResponses()) {
      this.metrics.notificationsOut++;
      this.#options.notify();
    }
  }

  #bounce(bytes: number): Uint8Array {
    const pages = Math.ceil(bytes / PAGE);
    const pool = this.#bounces.get(pages);
    const buffer = pool?.pop() ?? new Uint8Array(pages * PAGE);
    return buffer.subarray(0, bytes);
  }

  #release(view: Uint8Array): void {
    const pages = view.buffer.byteLength / PAGE;
    let pool = this.#bounces.get(pages);
    if (!pool) this.#bounces.set(pages, pool = []);
    if (pool.length < 32) pool.push(new Uint8Array(view.buffer));
  }

  /**
   * Stops taking requests, waits for those in flight to settle (their answers are dropped: the
   * frontend resubmits after reconnecting), and unmaps everything, the ring page last.
   */
  async disconnect(): Promise<void> {
    this.#stopped = true;
    await Promise.allSettled([...this.#inflight].map((p) => p.settled!));
    this.#keptOffset?.fill(0);
    this.#kept.length = 0;
    this.#mapper.unmap(this.#ringMapping);
    this.#mapper.unmapAll();
  }
}
