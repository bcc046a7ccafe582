/**
 * A stand-in block backend for the frontend's tests, on the main thread: the backend half of the
 * vbd xenbus handshake (the nodes and states of `dom0/devices`' vbd, which follows Xen's), and a
 * ring served with `BackRing` + `GrantMapper` + a doorbell over a memory disk.
 *
 * It exists to test the guest's blkfront against behaviour a correct backend never shows:
 * completions in reverse order, responses with ids that were never sent, a response producer
 * ahead of the requests, and a crash that leaves grants mapped and requests unanswered (some of
 * them already written to the disk) before the backend comes back.
 *
 * Rules of use: {@link StandInBlkback.attach} writes both ends' nodes before the guest looks for
 * devices; call {@link StandInBlkback.step} between hypervisor slices (the harness's `step`). It
 * serves read, write, write barrier, flush, discard and indirect requests; every malformed request
 * gets `BLKIF_RSP_ERROR`; a producer index more than a ring ahead closes the device.
 *
 * @module
 */

import {
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_OP_DISCARD,
  BLKIF_OP_FLUSH_DISKCACHE,
  BLKIF_OP_INDIRECT,
  BLKIF_OP_READ,
  BLKIF_OP_WRITE,
  BLKIF_OP_WRITE_BARRIER,
  BLKIF_RING_SLOT_SIZE as SLOT,
  BLKIF_RSP_EOPNOTSUPP as RSP_EOPNOTSUPP,
  BLKIF_RSP_ERROR as RSP_ERROR,
  BLKIF_RSP_OKAY as RSP_OKAY,
  GNTST_okay,
  XenbusStateClosed,
  XenbusStateClosing,
  XenbusStateConnected,
  XenbusStateInitialised,
  XenbusStateInitialising,
  XenbusStateInitWait,
  XenbusStateUnknown,
} from "@paravirt/public";
import { BackRing, GrantMapper, RingOverflowError } from "@paravirt/drivers";
import { createDoorbell } from "@paravirt/dom0";
import type { Doorbell } from "@paravirt/events";
import type { Domain } from "@paravirt/hypervisor";
import type { FrontendHost } from "./_harness.ts";

const MAX_SEGS = BLKIF_MAX_SEGMENTS_PER_REQUEST;

/** How the stand-in behaves. */
export interface StandInOptions {
  /** Disk size in 512-byte sectors. */
  sectors: number;
  /** `feature-max-indirect-segments` (0: none). */
  indirect?: number;
  /** Offer flush, barrier and discard (default true). */
  features?: boolean;
  /** Answer each batch of requests in reverse order (out-of-order completion). */
  reverse?: boolean;
  /** The device id (default 768, xvda). */
  devid?: number;
}

/** A pending response. */
interface Response {
  id: bigint;
  op: number;
  status: number;
}

/** The stand-in backend of one vbd. */
export class StandInBlkback {
  /** The disk. */
  readonly disk: Uint8Array;
  /** The backend's state. */
  state = XenbusStateInitialising;
  /** Requests served, by operation name. */
  readonly served: Record<string, number> = {};
  /** Times the frontend connected. */
  connections = 0;
  /** Hold responses back (requests are still carried out): the crash test's "in flight". */
  holdResponses = false;
  /**
   * Misbehaviour for the next responses pushed (then cleared): the first one's id replaced by
   * one never sent, or the producer index moved past the responses written.
   */
  inject: "bogus-id" | "producer-ahead" | undefined;
  readonly #host: FrontendHost;
  readonly #domain: Domain;
  readonly #options: StandInOptions;
  readonly devid: number;
  readonly frontendPath: string;
  readonly backendPath: string;
  #mapper: GrantMapper | undefined;
  #ring: BackRing | undefined;
  #doorbell: Doorbell | undefined;
  #port = -1;
  #held: Response[] = [];
  #busy = false;

  /** A stand-in for `domain`'s disk (not attached yet). */
  constructor(host: FrontendHost, domain: Domain, options: StandInOptions) {
    this.#host = host;
    this.#domain = domain;
    this.#options = options;
    this.devid = options.devid ?? 768;
    this.disk = new Uint8Array(options.sectors * 512);
    this.frontendPath = `/local/domain/${domain.id}/device/vbd/${this.devid}`;
    this.backendPath = `/local/domain/0/backend/vbd/${domain.id}/${this.devid}`;
  }

  /** Writes both ends' nodes (the toolstack's part) and goes to InitWait. */
  attach(): void {
    const xs = this.#host.dom0;
    const id = this.#domain.id;
    xs.mkdir(this.frontendPath);
    xs.setPerms(this.frontendPath, [`n${id}`, "r0"]);
    xs.write(`${this.frontendPath}/backend`, this.backendPath);
    xs.write(`${this.frontendPath}/backend-id`, "0");
    xs.write(`${this.frontendPath}/virtual-device`, String(this.devid));
    xs.write(`${this.frontendPath}/state`, String(XenbusStateInitialising));
    xs.mkdir(this.backendPath);
    xs.setPerms(this.backendPath, ["n0", `r${id}`]);
    xs.write(`${this.backendPath}/frontend`, this.frontendPath);
    xs.write(`${this.backendPath}/frontend-id`, String(id));
    this.#initWait();
  }

  #set(state: number): void {
    this.state = state;
    this.#host.dom0.write(`${this.backendPath}/state`, String(state));
  }

  #initWait(): void {
    const xs = this.#host.dom0;
    const features = this.#options.features ?? true;
    xs.write(`${this.backendPath}/feature-flush-cache`, features ? "1" : "0");
    xs.write(`${this.backendPath}/feature-barrier`, features ? "1" : "0");
    xs.write(`${this.backendPath}/feature-discard`, features ? "1" : "0");
    if (this.#options.indirect) {
      xs.write(`${this.backendPath}/feature-max-indirect-segments`, String(this.#options.indirect));
    }
    this.#set(XenbusStateInitWait);
  }

  #front(key: string): string | undefined {
    try {
      return this.#host.dom0.read(`${this.frontendPath}/${key}`);
    } catch {
      return undefined;
    }
  }

  /** One step: follow the frontend's state, then serve the ring. */
  async step(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      await this.#reconcile();
      if (this.#ring) this.#serve();
    } finally {
      this.#busy = false;
    }
  }

  async #reconcile(): Promise<void> {
    const front = Number(this.#front("state") ?? XenbusStateUnknown);
    switch (front) {
      case XenbusStateInitialising:
        if (this.state === XenbusStateClosed || this.state === XenbusStateClosing) {
          this.#initWait();
        }
        return;
      case XenbusStateInitialised:
      case XenbusStateConnected:
        if (this.state === XenbusStateInitWait) await this.#connect();
        return;
      case XenbusStateClosing:
        await this.#disconnect(true);
        if (this.state !== XenbusStateClosed) this.#set(XenbusStateClosing);
        return;
      case XenbusStateClosed:
        await this.#disconnect(true);
        if (this.state !== XenbusStateClosed) this.#set(XenbusStateClosed);
        return;
    }
  }

  async #connect(): Promise<void> {
    const ringRef = Number(this.#front("ring-ref"));
    const port = Number(this.#front("event-channel"));
    const { control } = this.#host;
    const view = await control.foreignView(this.#domain.id);
    this.#mapper = new GrantMapper(view);
    const ring = this.#mapper.map(ringRef, true);
    if (typeof ring === "number") throw new Error(`Cannot map ring-ref ${ringRef}: ${ring}`);
    this.#ring = new BackRing(view.buffer, ring.offset, SLOT);
    this.#doorbell = await createDoorbell(control);
    this.#port = await control.bindBackend(this.#domain.id, port, this.#doorbell, 0);
    if (this.#port < 0) throw new Error(`Cannot bind event channel ${port}: ${this.#port}`);
    this.#host.dom0.write(`${this.backendPath}/sectors`, String(this.#options.sectors));
    this.#host.dom0.write(`${this.backendPath}/sector-size`, "512");
    this.#host.dom0.write(`${this.backendPath}/info`, "0");
    this.connections++;
    this.#set(XenbusStateConnected);
  }

  /** Ends the connection; `clean`: unmap the grants (a crash leaves them mapped). */
  async #disconnect(clean: boolean): Promise<void> {
    if (clean) this.#mapper?.unmapAll();
    this.#mapper = undefined;
    this.#ring = undefined;
    this.#held = [];
    if (this.#port > 0) await this.#host.control.unbindBackend(this.#port);
    this.#port = -1;
    this.#doorbell = undefined;
  }

  /**
   * A crash: the requests taken but unanswered are never answered, grants stay mapped as a dead
   * worker leaves them, and the device goes to Closing as the supervisor's recovery does.
   */
  async crash(): Promise<void> {
    await this.#disconnect(false);
    this.#set(XenbusStateClosing);
  }

  /** Answers the held responses (stop holding). */
  release(): void {
    this.holdResponses = false;
  }

  #serve(): void {
    const ring = this.#ring!;
    this.#doorbell?.takeRings();
    const request = new Uint8Array(SLOT);
    const responses: Response[] = [];
    for (;;) {
      let waiting: number;
      try {
        waiting = ring.unconsumed();
      } catch (error) {
        if (!(error instanceof RingOverflowError)) throw error;
        // A ring beyond repair: disconnect (as the real backend does).
        this.#disconnect(true).then(() => this.#set(XenbusStateClosing));
        return;
      }
      if (waiting === 0 && !ring.finalCheckForRequests()) break;
      while (ring.unconsumed() > 0) {
        ring.takeRequest(request);
        responses.push(this.#execute(new DataView(request.buffer)));
      }
    }
    if (this.holdResponses) {
      this.#held.push(...responses);
      return;
    }
    const all = [...this.#held, ...responses];
    this.#held = [];
    if (all.length === 0) return;
    if (this.#options.reverse) all.reverse();
    const inject = this.inject;
    this.inject = undefined;
    // An id never sent in place of a real one: that request stays unanswered (until the
    // frontend resubmits it on a later connection).
    if (inject === "bogus-id") all[0] = { ...all[0], id: 999n };
    for (const rsp of all) {
      const bytes = new Uint8Array(16);
      const view = new DataView(bytes.buffer);
      view.setBigUint64(0, rsp.id, true);
      view.setUint8(8, rsp.op);
      view.setInt16(10, rsp.status, true);
      ring.putResponse(bytes);
    }
    if (inject === "producer-ahead") ring.rspProdPvt = (ring.rspProdPvt + 40) >>> 0;
    if (ring.pushResponses()) this.#doorbell?.kick(0);
  }

  #execute(req: DataView): Response {
    const op = req.getUint8(0);
    const id = req.getBigUint64(8, true);
    const status = this.#status(op, req);
    const name = ["read", "write", "barrier", "flush", "?", "discard", "indirect"][op] ?? "bad";
    this.served[name] = (this.served[name] ?? 0) + 1;
    return { id, op, status };
  }

  #status(op: number, req: DataView): number {
    const sector = req.getBigUint64(16, true);
    switch (op) {
      case BLKIF_OP_READ:
      case BLKIF_OP_WRITE:
      case BLKIF_OP_WRITE_BARRIER: {
        const n = req.getUint8(1);
        if (n === 0 || n > MAX_SEGS) return RSP_ERROR;
        const segs = [];
        for (let i = 0; i < n; i++) {
          segs.push({
            gref: req.getUint32(24 + 8 * i, true),
            first: req.getUint8(28 + 8 * i),
            last: req.getUint8(29 + 8 * i),
          });
        }
        return this.#transfer(op === BLKIF_OP_READ, sector, segs);
      }
      case BLKIF_OP_INDIRECT: {
        const inner = req.getUint8(1);
        const n = req.getUint16(2, true);
        const max = this.#options.indirect ?? 0;
        if ((inner !== BLKIF_OP_READ && inner !== BLKIF_OP_WRITE) || n === 0 || n > max) {
          return RSP_ERROR;
        }
        const page = new Uint8Array(4096);
        if (this.#mapper!.copyFrom(req.getUint32(28, true), 0, 4096, page) !== GNTST_okay) {
          return RSP_ERROR;
        }
        const view = new DataView(page.buffer);
        const segs = [];
        for (let i = 0; i < n; i++) {
          segs.push({
            gref: view.getUint32(8 * i, true),
            first: view.getUint8(8 * i + 4),
            last: view.getUint8(8 * i + 5),
          });
        }
        return this.#transfer(inner === BLKIF_OP_READ, sector, segs);
      }
      case BLKIF_OP_FLUSH_DISKCACHE:
        return (this.#options.features ?? true) ? RSP_OKAY : RSP_EOPNOTSUPP;
      case BLKIF_OP_DISCARD: {
        if (!(this.#options.features ?? true)) return RSP_EOPNOTSUPP;
        const count = req.getBigUint64(24, true);
        if (sector + count > BigInt(this.#options.sectors) || count === 0n) return RSP_ERROR;
        this.disk.fill(0, Number(sector) * 512, Number(sector + count) * 512);
        return RSP_OKAY;
      }
      default:
        return RSP_ERROR;
    }
  }

  #transfer(
    read: boolean,
    sector: bigint,
    segs: { gref: number; first: number; last: number }[],
  ): number {
    let total = 0n;
    for (const s of segs) {
      if (s.first > s.last || s.last > 7) return RSP_ERROR;
      total += BigInt(s.last - s.first + 1);
    }
    if (sector + total > BigInt(this.#options.sectors)) return RSP_ERROR;
    let at = Number(sector) * 512;
    for (const s of segs) {
      const length = (s.last - s.first + 1) * 512;
      const offset = s.first * 512;
      const rc = read
        ? this.#mapper!.copyTo(s.gref, offset, this.disk.subarray(at, at + length))
        : this.#mapper!.copyFrom(s.gref, offset, length, this.disk.subarray(at, at + length));
      if (rc !== GNTST_okay) return RSP_ERROR;
      at += length;
    }
    return RSP_OKAY;
  }
}
