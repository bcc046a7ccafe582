/**
 * The frontend end of a block ring, in TypeScript: what a guest's blkfront does in shared memory
 * — initialise the ring page, grant frames to the backend, put requests and push them with the
 * notification hold-off of `io/ring.h`, and take responses. Tests and benchmarks use it to drive
 * blkback through a domain's memory exactly as a guest kernel would (the PV kernel's C blkfront
 * speaks the same protocol).
 *
 * Rules of use: the caller owns the domain's memory layout (which region pages are data pages,
 * which grant references are free); {@link BlockFrontRing.putRaw} lets a test write anything at
 * all into a slot, as a hostile guest may.
 *
 * @module
 */

import {
  BLKIF_OP_DISCARD,
  BLKIF_OP_INDIRECT,
  BLKIF_RING_SLOT_SIZE,
  GTF_permit_access,
  GTF_reading,
  GTF_readonly,
  GTF_writing,
} from "@paravirt/public";
import { ringSlots } from "../ring.ts";

const HEADER = 64;

/** The memory of the frontend's domain, as the frontend sees it. */
export interface FrontMemory {
  /** The domain's region. */
  readonly buffer: SharedArrayBuffer;
  /** Machine frame of the region's first frame. */
  readonly firstFrame: number;
  /** Region index of the first grant-table frame. */
  readonly grantFrameIndex: number;
}

/** One segment of a request: a granted frame and the sectors in it. */
export interface FrontSegment {
  /** Grant reference. */
  readonly gref: number;
  /** First sector in the frame. */
  readonly first: number;
  /** Last sector in the frame (inclusive). */
  readonly last: number;
}

/** A request as the frontend builds it. */
export interface FrontRequest {
  /** `BLKIF_OP_*` (for `BLKIF_OP_INDIRECT`, {@link indirectOp} is the real operation). */
  readonly operation: number;
  /** The frontend's id, echoed in the response (below 2^53). */
  readonly id: number;
  /** First sector. */
  readonly sector: number;
  /** Direct segments (read, write, barrier). */
  readonly segments?: readonly FrontSegment[];
  /** Indirect requests: the operation inside. */
  readonly indirectOp?: number;
  /** Indirect requests: segment count. */
  readonly indirectSegments?: number;
  /** Indirect requests: grants of the pages holding the segments. */
  readonly indirectGrefs?: readonly number[];
  /** Discard: sectors. */
  readonly sectors?: number;
  /** Discard: flag. */
  readonly flag?: number;
}

/** A response as the frontend reads it. */
export interface FrontResponse {
  /** The request's id. */
  readonly id: number;
  /** The echoed operation. */
  readonly operation: number;
  /** `BLKIF_RSP_*`. */
  readonly status: number;
}

/** The frontend's view of one block ring page. */
export class BlockFrontRing {
  /** Slots in the ring. */
  readonly size: number = ringSlots(BLKIF_RING_SLOT_SIZE);
  /** Requests put but not pushed start here. */
  reqProdPvt = 0;
  /** Next response to take. */
  rspCons = 0;
  readonly #words: Int32Array;
  readonly #page: DataView;
  readonly #bytes: Uint8Array;
  readonly #grants: DataView;
  readonly #grantWords: Int32Array;
  readonly #memory: FrontMemory;

  /** The ring in region page `ringPage` of `memory`. */
  constructor(memory: FrontMemory, readonly ringPage: number, readonly backendDomid = 0) {
    this.#memory = memory;
    this.#words = new Int32Array(memory.buffer, ringPage * 4096, 16);
    this.#page = new DataView(memory.buffer, ringPage * 4096, 4096);
    this.#bytes = new Uint8Array(memory.buffer, ringPage * 4096, 4096);
    this.#grants = new DataView(memory.buffer, memory.grantFrameIndex * 4096);
    this.#grantWords = new Int32Array(memory.buffer, memory.grantFrameIndex * 4096);
  }

  /** `SHARED_RING_INIT` + `FRONT_RING_INIT`: empty ring, notify on the first of each. */
  init(): void {
    this.#bytes.fill(0);
    Atomics.store(this.#words, 1, 1); // req_event
    Atomics.store(this.#words, 3, 1); // rsp_event
    this.reqProdPvt = 0;
    this.rspCons = 0;
  }

  /** Grants region page `page` to the backend as `gref` (read-only for data going out). */
  grant(gref: number, page: number, readOnly = false): void {
    const at = gref * 8;
    this.#grants.setUint32(at + 4, this.#memory.firstFrame + page, true);
    // Publish point: frame first, then flags+domid in one store.
    const flags = GTF_permit_access | (readOnly ? GTF_readonly : 0);
    Atomics.store(this.#grantWords, at / 4, flags | (this.backendDomid << 16));
  }

  /** Ends a grant; false if the backend still has it mapped (`gnttab_end_foreign_access`). */
  endGrant(gref: number): boolean {
    const word = gref * 2;
    const old = Atomics.load(this.#grantWords, word);
    if ((old & (GTF_reading | GTF_writing)) !== 0) return false;
    return Atomics.compareExchange(this.#grantWords, word, old, 0) === old;
  }

  /** Free slots for new requests. */
  get free(): number {
    return this.size - ((this.reqProdPvt - this.rspCons) >>> 0);
  }

  /** Writes a request into the next slot (unpublished until {@link push}). */
  put(request: FrontRequest): void {
    if (this.free <= 0) throw new RangeError("The ring is full");
    const at = HEADER + (this.reqProdPvt & (this.size - 1)) * BLKIF_RING_SLOT_SIZE;
    const v = this.#page;
    this.#bytes.fill(0, at, at + BLKIF_RING_SLOT_SIZE);
    v.setUint8(at, request.operation);
    v.setUint32(at + 8, request.id % 2 ** 32, true);
    v.setUint32(at + 12, Math.floor(request.id / 2 ** 32), true);
    v.setUint32(at + 16, request.sector % 2 ** 32, true);
    v.setUint32(at + 20, Math.floor(request.sector / 2 ** 32), true);
    if (request.operation === BLKIF_OP_INDIRECT) {
      v.setUint8(at + 1, request.indirectOp ?? 0);
      v.setUint16(at + 2, request.indirectSegments ?? 0, true);
      (request.indirectGrefs ?? []).forEach((g, i) => v.setUint32(at + 28 + 4 * i, g, true));
    } else if (request.operation === BLKIF_OP_DISCARD) {
      v.setUint8(at + 1, request.flag ?? 0);
      const n = request.sectors ?? 0;
      v.setUint32(at + 24, n % 2 ** 32, true);
      v.setUint32(at + 28, Math.floor(n / 2 ** 32), true);
    } else {
      const segments = request.segments ?? [];
      v.setUint8(at + 1, segments.length);
      segments.forEach((s, i) => {
        v.setUint32(at + 24 + 8 * i, s.gref, true);
        v.setUint8(at + 28 + 8 * i, s.first);
        v.setUint8(at + 29 + 8 * i, s.last);
      });
    }
    this.reqProdPvt = (this.reqProdPvt + 1) >>> 0;
  }

  /** Writes raw bytes into the next slot, as a hostile frontend may. */
  putRaw(bytes: Uint8Array): void {
    const at = HEADER + (this.reqProdPvt & (this.size - 1)) * BLKIF_RING_SLOT_SIZE;
    this.#bytes.fill(0, at, at + BLKIF_RING_SLOT_SIZE);
    this.#bytes.set(bytes.subarray(0, BLKIF_RING_SLOT_SIZE), at);
    this.reqProdPvt = (this.reqProdPvt + 1) >>> 0;
  }

  /** Writes segment descriptors into an indirect page (region page `page`). */
  writeIndirectPage(page: number, segments: readonly FrontSegment[]): void {
    const v = new DataView(this.#memory.buffer, page * 4096, 4096);
    segments.forEach((s, i) => {
      v.setUint32(8 * i, s.gref, true);
      v.setUint8(8 * i + 4, s.first);
      v.setUint8(8 * i + 5, s.last);
    });
  }

  /**
   * Publishes the requests put so far; returns whether the backend asked to be notified
   * (`RING_PUSH_REQUESTS_AND_CHECK_NOTIFY`).
   */
  push(): boolean {
    const old = Atomics.load(this.#words, 0) >>> 0;
    const next = this.reqProdPvt;
    Atomics.store(this.#words, 0, next | 0); // publish point: slots written first
    const event = Atomics.load(this.#words, 1) >>> 0;
    return ((next - event) >>> 0) < ((next - old) >>> 0);
  }

  /** Sets `req_prod` to anything (hostile tests). */
  setRequestProducer(value: number): void {
    Atomics.store(this.#words, 0, value | 0);
  }

  /**
   * Takes the published responses; when none are left, asks to be notified of the next
   * (`RING_FINAL_CHECK_FOR_RESPONSES`) and looks once more. With `mitigate`, it asks to be
   * notified only once half of the requests still outstanding are answered (interrupt
   * mitigation, as netfront's transmit ring does), never later than the last of them.
   */
  takeResponses(out: FrontResponse[] = [], mitigate = false): FrontResponse[] {
    for (;;) {
      const prod = Atomics.load(this.#words, 2) >>> 0;
      while (this.rspCons !== prod) {
        const at = HEADER + (this.rspCons & (this.size - 1)) * BLKIF_RING_SLOT_SIZE;
        const v = this.#page;
        out.push({
          id: v.getUint32(at, true) + v.getUint32(at + 4, true) * 2 ** 32,
          operation: v.getUint8(at + 8),
          status: v.getInt16(at + 10, true),
        });
        this.rspCons = (this.rspCons + 1) >>> 0;
      }
      // Requests the backend can see and has not answered: it will answer every one of them.
      const outstanding = ((Atomics.load(this.#words, 0) >>> 0) - this.rspCons) >>> 0;
      const holdOff = mitigate ? Math.max(1, outstanding >>> 1) : 1;
      Atomics.store(this.#words, 3, (this.rspCons + holdOff) | 0); // rsp_event
      if ((Atomics.load(this.#words, 2) >>> 0) === this.rspCons) return out;
    }
  }

  /** Requests pushed and not yet answered. */
  get outstanding(): number {
    return (this.reqProdPvt - this.rspCons) >>> 0;
  }
}
