/**
 * A blkfront in TypeScript, playing a guest: it drives a real backend through a domain's memory
 * and event channels exactly as the PV kernel's blkfront does — the xenbus handshake through
 * xenstore (as the guest, with the guest's permissions), a ring page and data pages granted to
 * dom0, requests with notification hold-off, and, when the backend goes away and comes back,
 * Xen's reconnect path with every unanswered request resubmitted.
 *
 * Frontend protocol, as the device supervisor expects it (`dom0/devices/vbd.ts`):
 * backend InitWait → set up the ring, write `ring-ref`, `event-channel`, `protocol`, go
 * Initialised; backend Connected → read `sectors`, go Connected, (re)submit; backend Closing or
 * Closed while connected → keep unanswered requests, go Closed; backend Closed while we are Closed
 * and the device is still `online` → go Initialising (reconnect).
 *
 * Memory: region pages from `firstPage` on: the ring, one indirect page per slot, then
 * `pagesPerSlot` data pages per slot (adjacent, or interleaved with `scatter` so that no request's
 * pages are adjacent). Every page is granted once, writable (persistent grants).
 *
 * Rules of use: the hypervisor runs in this thread (`Hypervisor` + `localControl`); this class
 * calls `hv.run(0)` to deliver events both ways. One instance per device.
 *
 * @module
 */

import {
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_OP_DISCARD,
  BLKIF_OP_FLUSH_DISKCACHE,
  BLKIF_OP_INDIRECT,
  BLKIF_OP_READ,
  BLKIF_OP_RESERVED_1,
  BLKIF_OP_WRITE,
  BLKIF_OP_WRITE_BARRIER,
  BLKIF_RSP_EOPNOTSUPP,
  BLKIF_RSP_OKAY,
  XEN_IO_PROTO_ABI_NATIVE,
  XenbusStateClosed,
  XenbusStateClosing,
  XenbusStateConnected,
  XenbusStateInitialised,
  XenbusStateInitialising,
  XenbusStateInitWait,
} from "@paravirt/public";
import {
  BlockFrontRing,
  type FrontRequest,
  type FrontResponse,
  type FrontSegment,
} from "@paravirt/drivers";
import { LocalClient, type Xenstored } from "@paravirt/dom0";
import type { Domain, Hypervisor } from "@paravirt/hypervisor";

/** Longest the frontend blocks the thread waiting for the backend before it yields (ms). */
const SYNC_SLICE_MS = 10;

/** One turn of the event loop (a MessageChannel task: `setTimeout(0)` takes a millisecond). */
function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** How to build a {@link TsBlkfront}. */
export interface TsBlkfrontOptions {
  /** The hypervisor (in this thread). */
  readonly hv: Hypervisor;
  /** The frontend's domain. */
  readonly domain: Domain;
  /** The xenstore daemon. */
  readonly xenstored: Xenstored;
  /** The device id (`virtual-device`). */
  readonly devid: number;
  /** First region page the frontend may use (default 16). */
  readonly firstPage?: number;
  /** First grant reference the frontend may use (default 8; it uses 1 + slots × (1 + pages)). */
  readonly firstGref?: number;
  /** Requests in flight at most (default 32, the ring's size). */
  readonly slots?: number;
  /** Data pages per request (default 16: 64 KiB requests). */
  readonly pagesPerSlot?: number;
  /** Interleave the slots' pages so no request's pages are adjacent (default false). */
  readonly scatter?: boolean;
  /** Advertise `feature-persistent` (default true: the frontend reuses its grants anyway). */
  readonly persistent?: boolean;
}

/** A failed request. */
export class BlockRequestError extends Error {
  /** Creates the error for a `BLKIF_RSP_*` status. */
  constructor(readonly status: number, what: string) {
    super(`${what} failed with status ${status}`);
    this.name = "BlockRequestError";
  }
}

interface Shadow {
  readonly id: number;
  readonly slot: number;
  readonly request: FrontRequest;
  /** Runs on success before the slot is freed (a read copies its data out). */
  readonly complete?: (slot: number) => void;
  resolve(): void;
  reject(error: Error): void;
}

/** A TypeScript blkfront for tests and benchmarks. */
export class TsBlkfront {
  /** Disk size in sectors, once connected. */
  sectors = 0;
  /** Most indirect segments the backend takes (0: none). */
  maxIndirect = 0;
  /** Whether the backend says the disk is read-only. */
  readOnly = false;
  /** Notifications sent to the backend. */
  notificationsSent = 0;
  /** Events received from the backend. */
  notificationsReceived = 0;
  /** Requests completed. */
  completed = 0;
  /** Times the frontend reconnected after the backend went away. */
  reconnects = 0;
  /** Requests resubmitted after reconnects. */
  resubmitted = 0;
  /** The frontend's xenbus state. */
  state: number = XenbusStateInitialising;
  /** Called with every response taken, before its request completes (tests watch the ring). */
  onResponse: (response: FrontResponse) => void = () => {};

  readonly #hv: Hypervisor;
  readonly #domain: Domain;
  readonly #xs: LocalClient;
  readonly #ring: BlockFrontRing;
  readonly #bytes: Uint8Array;
  readonly #frontPath: string;
  readonly #backPath: string;
  readonly #slots: number;
  readonly #pagesPerSlot: number;
  readonly #firstPage: number;
  readonly #firstGref: number;
  readonly #scatter: boolean;
  readonly #persistent: boolean;
  readonly #port: number;
  readonly #free: number[] = [];
  readonly #waitingForSlot: (() => void)[] = [];
  readonly #shadows = new Map<number, Shadow>();
  readonly #segmentsCache: FrontSegment[][] = [];
  readonly #segmentsCount: Int32Array;
  readonly #indirectCount: Int32Array;
  readonly #indirectGrefs: number[][] = [];
  #connected = false;
  #connectedWaiters: (() => void)[] = [];
  #nextId = 1;
  #pushQueued = false;
  #closed = false;
  #loop: Promise<void> | undefined;
  #xenbus: Promise<void> = Promise.resolve();

  /** Sets the frontend up (memory, grants, port) and starts following the backend's state. */
  constructor(options: TsBlkfrontOptions) {
    const { hv, domain } = options;
    this.#hv = hv;
    this.#domain = domain;
    this.#slots = options.slots ?? 32;
    this.#pagesPerSlot = options.pagesPerSlot ?? 16;
    this.#firstPage = options.firstPage ?? 16;
    this.#firstGref = options.firstGref ?? 8;
    this.#scatter = options.scatter ?? false;
    this.#persistent = options.persistent ?? true;
    const view = hv.foreignView(domain);
    const needed = this.#firstPage + 1 + this.#slots * (1 + this.#pagesPerSlot);
    if (needed > view.maxPages) {
      throw new RangeError(`The frontend needs ${needed} pages; the domain has ${view.maxPages}`);
    }
    this.#bytes = new Uint8Array(view.buffer);
    this.#segmentsCount = new Int32Array(this.#slots);
    this.#indirectCount = new Int32Array(this.#slots);
    this.#ring = new BlockFrontRing(view, this.#firstPage);
    this.#ring.grant(this.#firstGref, this.#firstPage);
    for (let s = 0; s < this.#slots; s++) {
      this.#ring.grant(this.#indirectGref(s), this.#firstPage + 1 + s);
      this.#indirectGrefs.push([this.#indirectGref(s)]);
      for (let p = 0; p < this.#pagesPerSlot; p++) {
        this.#ring.grant(this.#dataGref(s, p), this.#dataPage(s, p));
      }
      this.#free.push(s);
    }
    this.#port = domain.events.allocUnbound(0);
    if (this.#port < 0) throw new RangeError(`Cannot allocate an event channel (${this.#port})`);
    this.#frontPath = `/local/domain/${domain.id}/device/vbd/${options.devid}`;
    this.#xs = new LocalClient(options.xenstored, {
      domid: domain.id,
      onWatch: () => this.#xenbus = this.#xenbus.then(() => this.#backendChanged()),
    });
    this.#backPath = this.#xs.read(`${this.#frontPath}/backend`);
    this.#xs.watch(`${this.#backPath}/state`, "backend-state");
  }

  /** The ring (hostile tests write garbage through it). */
  get ring(): BlockFrontRing {
    return this.#ring;
  }

  /** The frontend's event channel port. */
  get port(): number {
    return this.#port;
  }

  /** Whether requests can flow now. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Resolves once connected (at once if already). */
  connect(timeoutMs = 20_000): Promise<void> {
    if (this.#connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Not connected after ${timeoutMs} ms (state ${this.state})`)),
        timeoutMs,
      );
      this.#connectedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #indirectGref(slot: number): number {
    return this.#firstGref + 1 + slot;
  }

  #dataGref(slot: number, page: number): number {
    return this.#firstGref + 1 + this.#slots + slot * this.#pagesPerSlot + page;
  }

  #dataPage(slot: number, page: number): number {
    const base = this.#firstPage + 1 + this.#slots;
    return this.#scatter
      ? base + page * this.#slots + slot
      : base + slot * this.#pagesPerSlot + page;
  }

  /** The bytes of data page `page` of `slot`. */
  #pageBytes(slot: number, page: number): Uint8Array {
    const at = this.#dataPage(slot, page) * 4096;
    return this.#bytes.subarray(at, at + 4096);
  }

  #setState(state: number): void {
    this.state = state;
    this.#xs.write(`${this.#frontPath}/state`, String(state));
  }

  /** Follows the backend's state (serialized; see the module rules). */
  #backendChanged(): void {
    if (this.#closed) return;
    let back: number;
    try {
      back = Number(this.#xs.read(`${this.#backPath}/state`));
    } catch {
      return; // the device is being removed
    }
    if (back === XenbusStateInitWait && this.state === XenbusStateInitialising) {
      this.#ring.init();
      this.#xs.transaction((tx) => {
        this.#xs.write(`${this.#frontPath}/ring-ref`, String(this.#firstGref), tx);
        this.#xs.write(`${this.#frontPath}/event-channel`, String(this.#port), tx);
        this.#xs.write(`${this.#frontPath}/protocol`, XEN_IO_PROTO_ABI_NATIVE, tx);
        this.#xs.write(`${this.#frontPath}/feature-persistent`, this.#persistent ? "1" : "0", tx);
      });
      this.#setState(XenbusStateInitialised);
    } else if (back === XenbusStateConnected && this.state === XenbusStateInitialised) {
      this.sectors = Number(this.#xs.read(`${this.#backPath}/sectors`));
      this.readOnly = (Number(this.#xs.read(`${this.#backPath}/info`)) & 4) !== 0;
      try {
        this.maxIndirect = Number(
          this.#xs.read(`${this.#backPath}/feature-max-indirect-segments`),
        );
      } catch {
        this.maxIndirect = 0;
      }
      this.#setState(XenbusStateConnected);
      this.#connected = true;
      const resubmit = [...this.#shadows.values()].sort((a, b) => a.id - b.id);
      for (const shadow of resubmit) this.#ring.put(shadow.request);
      this.resubmitted += resubmit.length;
      if (resubmit.length > 0) this.#queuePush();
      this.#loop ??= this.#serve();
      for (const waiter of this.#connectedWaiters.splice(0)) waiter();
    } else if (
      (back === XenbusStateClosing || back === XenbusStateClosed) &&
      (this.state === XenbusStateConnected || this.state === XenbusStateInitialised)
    ) {
      if (this.#connected) this.#takeResponses(); // answered before the backend left: done
      this.#connected = false;
      this.reconnects++;
      this.#setState(XenbusStateClosed);
    } else if (back === XenbusStateClosed && this.state === XenbusStateClosed) {
      let online = "0";
      try {
        online = this.#xs.read(`${this.#backPath}/online`);
      } catch { /* removed */ }
      if (online === "1") this.#setState(XenbusStateInitialising); // reconnect, unless unplugged
    }
  }

  /** Sends an event to the backend, and lets the hypervisor deliver it at once. */
  notify(): void {
    this.notificationsSent++;
    this.#domain.events.send(this.#port);
    this.#hv.run(0);
  }

  #queuePush(): void {
    if (this.#pushQueued) return;
    this.#pushQueued = true;
    queueMicrotask(() => this.#pushNow());
  }

  /** Publishes the requests put so far (once per batch), notifying if the backend asked. */
  #pushNow(): void {
    if (!this.#pushQueued) return;
    this.#pushQueued = false;
    if (this.#connected && this.#ring.push()) this.notify();
  }

  /** Completion loop: waits for events and takes responses. */
  async #serve(): Promise<void> {
    const bits = this.#domain.events.bits!;
    const wake = new Int32Array(this.#hv.wake.buffer, 0, 1);
    let yielded = performance.now();
    while (!this.#closed) {
      const seen = this.#hv.wake.value;
      this.#hv.run(0);
      if (bits.testAndClearPending(this.#port)) {
        this.notificationsReceived++;
        if (this.#connected) this.#takeResponses();
        // Let the completed requests' owners submit more, then publish them in one push.
        for (let i = 0; i < 4; i++) await null;
        this.#pushNow();
        continue;
      }
      if (this.#shadows.size > 0 && performance.now() - yielded < SYNC_SLICE_MS) {
        // Requests outstanding: block until the backend kicks, as a guest vCPU blocks until its
        // event (in short slices, so the rest of this thread still runs).
        Atomics.wait(wake, 0, seen, 1);
        continue;
      }
      if (this.#shadows.size > 0) await yieldToEventLoop();
      else await this.#hv.wake.wait(seen, 50);
      yielded = performance.now();
    }
  }

  #takeResponses(): void {
    // Ask to hear again when half of what is outstanding is answered (interrupt mitigation).
    for (const response of this.#ring.takeResponses([], true)) {
      this.onResponse(response);
      const shadow = this.#shadows.get(response.id);
      if (!shadow) continue; // not ours: a stale answer, or a request a test put by hand
      this.#shadows.delete(response.id);
      this.completed++;
      const ok = response.status === BLKIF_RSP_OKAY;
      if (ok) shadow.complete?.(shadow.slot);
      this.#release(shadow.slot);
      if (ok) shadow.resolve();
      else shadow.reject(new BlockRequestError(response.status, describe(shadow.request)));
    }
  }

  async #slot(): Promise<number> {
    while (this.#free.length === 0) {
      await new Promise<void>((resolve) => this.#waitingForSlot.push(resolve));
    }
    return this.#free.pop()!;
  }

  #release(slot: number): void {
    this.#free.push(slot);
    this.#waitingForSlot.shift()?.();
  }

  async #whenConnected(): Promise<void> {
    if (this.#closed) throw new Error("The frontend is closed");
    if (!this.#connected) await this.connect();
  }

  /** Submits a request built by `build` for a slot and resolves when it is answered OKAY. */
  async #submit(
    build: (slot: number, id: number) => FrontRequest,
    complete?: (slot: number) => void,
  ): Promise<void> {
    if (!this.#connected) await this.#whenConnected();
    const slot = this.#free.length > 0 ? this.#free.pop()! : await this.#slot();
    const id = this.#nextId++;
    let request: FrontRequest;
    try {
      request = build(slot, id);
    } catch (error) {
      this.#release(slot);
      throw error;
    }
    await new Promise<void>((resolve, reject) => {
      this.#shadows.set(id, { id, slot, request, complete, resolve, reject });
      if (this.#connected) {
        this.#ring.put(request);
        this.#queuePush();
      } // else: resubmitted when the backend is back
    });
  }

  /** The segments of `count` sectors in `slot`'s pages (cached: a slot's pages never change). */
  #segments(slot: number, count: number): FrontSegment[] {
    const pages = Math.ceil(count / 8);
    if (pages > this.#pagesPerSlot) {
      throw new RangeError(
        `${count} sectors need ${pages} pages; a slot has ${this.#pagesPerSlot}`,
      );
    }
    if (this.#segmentsCount[slot] === count) return this.#segmentsCache[slot];
    const segments: FrontSegment[] = [];
    for (let p = 0; p < pages; p++) {
      const last = p === pages - 1 ? (count - 1) % 8 : 7;
      segments.push({ gref: this.#dataGref(slot, p), first: 0, last });
    }
    this.#segmentsCache[slot] = segments;
    this.#segmentsCount[slot] = count;
    this.#indirectCount[slot] = 0; // its indirect page no longer matches
    return segments;
  }

  /** A read or write of `count` sectors at `sector` through `slot`'s pages. */
  #transfer(
    operation: number,
    sector: number,
    count: number,
    slot: number,
    id: number,
  ): FrontRequest {
    const segments = this.#segments(slot, count);
    if (segments.length <= BLKIF_MAX_SEGMENTS_PER_REQUEST || operation === BLKIF_OP_WRITE_BARRIER) {
      return { operation, id, sector, segments };
    }
    if (segments.length > this.maxIndirect) {
      throw new RangeError(`${segments.length} segments exceed the backend's ${this.maxIndirect}`);
    }
    if (this.#indirectCount[slot] !== count) {
      this.#ring.writeIndirectPage(this.#firstPage + 1 + slot, segments);
      this.#indirectCount[slot] = count;
    }
    return {
      operation: BLKIF_OP_INDIRECT,
      id,
      sector,
      indirectOp: operation,
      indirectSegments: segments.length,
      indirectGrefs: this.#indirectGrefs[slot],
    };
  }

  /** Reads `count` sectors; resolves with a copy of the data. */
  async read(sector: number, count: number): Promise<Uint8Array> {
    const out = new Uint8Array(count * 512);
    await this.#submit(
      (slot, id) => this.#transfer(BLKIF_OP_READ, sector, count, slot, id),
      (slot) => {
        for (let p = 0; p * 4096 < out.length; p++) {
          const n = Math.min(4096, out.length - p * 4096);
          out.set(this.#pageBytes(slot, p).subarray(0, n), p * 4096);
        }
      },
    );
    return out;
  }

  /** Writes `data` (a multiple of 512 bytes) at `sector`. */
  write(sector: number, data: Uint8Array, barrier = false): Promise<void> {
    return this.#submit((slot, id) => {
      for (let p = 0; p * 4096 < data.length; p++) {
        this.#pageBytes(slot, p).set(
          data.subarray(p * 4096, Math.min(data.length, (p + 1) * 4096)),
        );
      }
      const op = barrier ? BLKIF_OP_WRITE_BARRIER : BLKIF_OP_WRITE;
      return this.#transfer(op, sector, data.length / 512, slot, id);
    });
  }

  /**
   * A read or write of `count` sectors with whatever the slot's pages hold (no copy in or out:
   * the pages are the guest's buffers). For benchmarks.
   */
  transfer(write: boolean, sector: number, count: number): Promise<void> {
    return this.#submit((slot, id) =>
      this.#transfer(write ? BLKIF_OP_WRITE : BLKIF_OP_READ, sector, count, slot, id)
    );
  }

  /**
   * A request blkback answers at once without I/O (`BLKIF_OP_RESERVED_1`, answered
   * `BLKIF_RSP_EOPNOTSUPP`): one event round trip frontend → backend → frontend.
   */
  async ping(): Promise<void> {
    try {
      await this.#submit((_, id) => ({ operation: BLKIF_OP_RESERVED_1, id, sector: 0 }));
    } catch (error) {
      if (!(error instanceof BlockRequestError && error.status === BLKIF_RSP_EOPNOTSUPP)) {
        throw error;
      }
      return;
    }
    throw new Error("A reserved operation was answered OKAY");
  }

  /** `BLKIF_OP_FLUSH_DISKCACHE`. */
  flush(): Promise<void> {
    return this.#submit((_, id) => ({ operation: BLKIF_OP_FLUSH_DISKCACHE, id, sector: 0 }));
  }

  /** `BLKIF_OP_DISCARD`. */
  discard(sector: number, sectors: number): Promise<void> {
    return this.#submit((_, id) => ({ operation: BLKIF_OP_DISCARD, id, sector, sectors }));
  }

  /** Requests submitted and not yet answered. */
  get inflight(): number {
    return this.#shadows.size;
  }

  /** Stops the frontend (goes Closed) and drops its xenstore connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#xenbus;
    this.#closed = true;
    try {
      this.#setState(XenbusStateClosed);
    } catch { /* the device is gone */ }
    this.#xs.close();
    await this.#loop;
    for (const shadow of this.#shadows.values()) shadow.reject(new Error("The frontend closed"));
    this.#shadows.clear();
  }
}

function describe(request: FrontRequest): string {
  const names = ["read", "write", "barrier", "flush", "reserved", "discard", "indirect"];
  return `${names[request.operation] ?? request.operation} at sector ${request.sector}`;
}
