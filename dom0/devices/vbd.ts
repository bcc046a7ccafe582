/**
 * One virtual block device as dom0 serves it: the xenstore nodes of both ends, the backend's half
 * of the xenbus handshake, and the worker that runs blkback — what libxl and Linux's blkback do
 * together for a `vbd`.
 *
 * Nodes (as Xen): `/local/domain/0/backend/vbd/<domid>/<devid>/` holds `frontend`, `frontend-id`,
 * `params`, `mode`, `type`, `dev`, `device-type`, `online`, `removable`, `bootable`, `state`, the
 * features (`feature-flush-cache`, `feature-barrier`, `feature-discard` with `discard-*`,
 * `feature-max-indirect-segments`, `feature-persistent`) and, once connected, `sectors`, `sector-size`,
 * `physical-sector-size`, `info`. `/local/domain/<domid>/device/vbd/<devid>/` (owned by the
 * guest) holds `backend`, `backend-id`, `state`, `virtual-device`, `device-type`, and the
 * frontend's `ring-ref`, `event-channel`, `protocol`, `feature-persistent`.
 *
 * Backend states, driven by the frontend's (watched):
 * - Initialising → InitWait once the worker has opened the disk and the features are published;
 * - frontend Initialised or Connected while we are InitWait → map the ring, bind the event
 *   channel → Connected (with the disk's properties);
 * - frontend Closing → disconnect, Closing; frontend Closed → disconnect, Closed; frontend back
 *   to Initialising while we are Closed (or Closing) → InitWait again (Xen's reconnect path);
 * - frontend state gone (removed, or not a number) → the device is removed.
 *
 * Recovery: a worker that crashes, reports a backend bug, or stops its heartbeat is terminated
 * and a new one opens the disk (with the buffers the old one retained). If the device was
 * connected, the backend goes to Closing: the frontend keeps its unanswered requests, goes Closed,
 * then Initialising, sets its ring up afresh, and resubmits them once we are Connected again.
 * Acknowledged writes are never lost: a backend acknowledges only what reached its store. More
 * than `restarts.max` failures in `restarts.windowMs` and the device gives up (Closed, `error`).
 * A ring beyond repair disconnects the device (Closing) with the same worker.
 *
 * Rules of use: one instance per device, driven by its {@link DeviceSupervisor}; every step runs
 * in one serialized queue, so watch events, worker events and API calls never interleave.
 *
 * @module
 */

import {
  BLKIF_KEY_DISCARD_ALIGNMENT,
  BLKIF_KEY_DISCARD_GRANULARITY,
  BLKIF_KEY_DISCARD_SECURE,
  BLKIF_KEY_EVENT_CHANNEL,
  BLKIF_KEY_FEATURE_BARRIER,
  BLKIF_KEY_FEATURE_DISCARD,
  BLKIF_KEY_FEATURE_FLUSH_CACHE,
  BLKIF_KEY_FEATURE_MAX_INDIRECT_SEGMENTS,
  BLKIF_KEY_FEATURE_PERSISTENT,
  BLKIF_KEY_INFO,
  BLKIF_KEY_PHYSICAL_SECTOR_SIZE,
  BLKIF_KEY_PROTOCOL,
  BLKIF_KEY_RING_REF,
  BLKIF_KEY_SECTOR_SIZE,
  BLKIF_KEY_SECTORS,
  BLKIF_SECTOR_SIZE,
  VDISK_READONLY,
  XEN_IO_PROTO_ABI_NATIVE,
  XENBUS_STATE_NAMES,
  XenbusStateClosed,
  XenbusStateClosing,
  XenbusStateConnected,
  XenbusStateInitialised,
  XenbusStateInitialising,
  XenbusStateInitWait,
  XenbusStateUnknown,
} from "@paravirt/public";
import {
  type BlkbackMetrics,
  type BlockConnectArgs,
  type BlockInfo,
  type BlockOpenArgs,
  blockWorkerUrl,
  BUILTIN_BLOCK_BACKENDS,
  DEFAULT_MAX_INDIRECT_SEGMENTS,
} from "@paravirt/drivers";
import type { LocalClient } from "../xenstore/client.ts";
import { createDoorbell, type DomainControl } from "../domain_control.ts";
import { BackendWorker, type WatchdogOptions } from "./backend_worker.ts";
import type { DiskSpec } from "./disk_spec.ts";

/** How often a device may fail within a window before the supervisor gives up on it. */
export interface RestartPolicy {
  /** Failures allowed in the window (default 5). */
  readonly max?: number;
  /** The window (ms, default 60 000). */
  readonly windowMs?: number;
}

/** What a {@link Vbd} needs from its supervisor. */
export interface VbdContext {
  /** The hypervisor services. */
  readonly control: DomainControl;
  /** The supervisor's privileged xenstore client. */
  readonly xs: LocalClient;
  /** Watchdog timing for the worker. */
  readonly watchdog?: WatchdogOptions;
  /** Restart policy. */
  readonly restarts?: RestartPolicy;
  /** `feature-max-indirect-segments` to advertise (default 256; 0: none). */
  readonly maxIndirectSegments?: number;
  /** Log lines. */
  log(line: string): void;
}

/** A device as `xl block-list` shows it. */
export interface VbdInfo {
  /** Frontend domain. */
  readonly domid: number;
  /** Device id (`virtual-device`). */
  readonly devid: number;
  /** Virtual device name. */
  readonly vdev: string;
  /** The backend's xenbus state. */
  readonly state: number;
  /** Its name. */
  readonly stateName: string;
  /** The frontend's event channel while connected. */
  readonly eventChannel?: number;
  /** The ring's grant while connected. */
  readonly ringRef?: number;
  /** Backend directory in xenstore. */
  readonly backendPath: string;
  /** Frontend directory in xenstore. */
  readonly frontendPath: string;
  /** The image, if any. */
  readonly target?: string;
  /** The backend module as configured. */
  readonly backend: string;
  /** Read-only? */
  readonly readOnly: boolean;
  /** Size in sectors, once open. */
  readonly sectors?: number;
  /** Worker restarts so far. */
  readonly restarts: number;
  /** Rings dropped as beyond repair. */
  readonly ringErrors: number;
  /** The last error, if the device failed. */
  readonly error?: string;
}

interface Connection {
  readonly port: number;
  readonly ringRef: number;
  readonly eventChannel: number;
}

/** One vbd: its nodes, its handshake, its worker. */
export class Vbd {
  /** Frontend domain. */
  readonly domid: number;
  /** Device id. */
  readonly devid: number;
  /** Backend directory. */
  readonly backendPath: string;
  /** Frontend directory. */
  readonly frontendPath: string;
  /** The configuration. */
  readonly spec: DiskSpec;
  /** The backend's xenbus state. */
  state: number = XenbusStateInitialising;
  /** Resolves when the device is gone (detached or its domain released). */
  readonly removed: Promise<void>;
  readonly #ctx: VbdContext;
  readonly #retained: SharedArrayBuffer[] = [];
  readonly #failures: number[] = [];
  #resolveRemoved!: () => void;
  #worker: BackendWorker | undefined;
  #info: BlockInfo | undefined;
  #connection: Connection | undefined;
  #queue: Promise<void> = Promise.resolve();
  #online = true;
  #gone = false;
  #gaveUp = false;
  #restarts = 0;
  #ringErrors = 0;
  #error: string | undefined;

  /** Describes the device; {@link start} creates it. */
  constructor(domid: number, spec: DiskSpec, ctx: VbdContext) {
    this.domid = domid;
    this.devid = spec.devid;
    this.spec = spec;
    this.#ctx = ctx;
    this.backendPath = `/local/domain/0/backend/vbd/${domid}/${spec.devid}`;
    this.frontendPath = `/local/domain/${domid}/device/vbd/${spec.devid}`;
    this.removed = new Promise((resolve) => this.#resolveRemoved = resolve);
  }

  /** The watch token of the frontend's state node. */
  get token(): string {
    return `vbd/${this.domid}/${this.devid}`;
  }

  /** What `xl block-list` shows. */
  info(): VbdInfo {
    return {
      domid: this.domid,
      devid: this.devid,
      vdev: this.spec.vdev,
      state: this.state,
      stateName: XENBUS_STATE_NAMES[this.state] ?? String(this.state),
      eventChannel: this.#connection?.eventChannel,
      ringRef: this.#connection?.ringRef,
      backendPath: this.backendPath,
      frontendPath: this.frontendPath,
      target: this.spec.target,
      backend: this.spec.backend,
      readOnly: this.spec.readOnly,
      sectors: this.#info?.sectors,
      restarts: this.#restarts,
      ringErrors: this.#ringErrors,
      error: this.#error,
    };
  }

  /**
   * Writes both ends' nodes, starts the worker and opens the disk; resolves once the backend is
   * in InitWait (or rejects with the reason the disk could not be opened, leaving nothing behind).
   */
  async start(): Promise<void> {
    const xs = this.#ctx.xs;
    const { domid, spec } = this;
    xs.transaction((tx) => {
      xs.mkdir(this.frontendPath, tx);
      xs.setPerms(this.frontendPath, [`n${domid}`, "r0"], tx);
      const front: Record<string, string> = {
        "backend": this.backendPath,
        "backend-id": "0",
        "state": String(XenbusStateInitialising),
        "virtual-device": String(spec.devid),
        "device-type": "disk",
      };
      for (const [key, value] of Object.entries(front)) {
        xs.write(`${this.frontendPath}/${key}`, value, tx);
      }
      xs.mkdir(this.backendPath, tx);
      xs.setPerms(this.backendPath, ["n0", `r${domid}`], tx);
      const back: Record<string, string> = {
        "frontend": this.frontendPath,
        "frontend-id": String(domid),
        "params": spec.target ?? "",
        "mode": spec.readOnly ? "r" : "w",
        "type": spec.backend,
        "dev": spec.vdev,
        "device-type": "disk",
        "online": "1",
        "removable": "0",
        "bootable": "1",
        "state": String(XenbusStateInitialising),
      };
      for (const [key, value] of Object.entries(back)) {
        xs.write(`${this.backendPath}/${key}`, value, tx);
      }
    });
    try {
      await this.#enqueue(() => this.#startWorker());
      if (!this.#worker) throw new Error(this.#error ?? "the disk could not be opened");
    } catch (error) {
      await this.#enqueue(() => this.#remove());
      throw error;
    }
    xs.watch(`${this.frontendPath}/state`, this.token);
    await this.#enqueue(() => this.#reconcile()); // publishes the features: InitWait
  }

  /** The frontend's state changed (a watch event). */
  onWatch(): void {
    this.#enqueue(() => this.#reconcile());
  }

  /** Counters of blkback over all connections (zeros if the worker is not running). */
  async metrics(): Promise<BlkbackMetrics | undefined> {
    if (!this.#worker?.alive) return undefined;
    return await this.#worker.call<BlkbackMetrics>("metrics");
  }

  /**
   * Unplugs the device (`xl block-detach`): Closing, then, once the frontend has closed (or at
   * once with `force`, or after `timeoutMs`), the nodes go and the worker ends.
   */
  async detach(options: { force?: boolean; timeoutMs?: number } = {}): Promise<void> {
    this.#online = false;
    if (!this.#gone) this.#ctx.xs.write(`${this.backendPath}/online`, "0");
    if (options.force) {
      await this.#enqueue(() => this.#remove());
      return;
    }
    this.#enqueue(() => this.#reconcile());
    const timeoutMs = options.timeoutMs ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((r) => timer = setTimeout(() => r(true), timeoutMs));
    const late = await Promise.race([this.removed.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      this.#ctx.log(`${this.token}: frontend did not close in ${timeoutMs} ms; forcing`);
      await this.#enqueue(() => this.#remove());
    }
  }

  /** The domain is gone: tear everything down without waiting for the frontend. */
  async release(): Promise<void> {
    this.#online = false;
    await this.#enqueue(() => this.#remove());
  }

  /**
   * Terminates the worker as a crash would (fault injection for tests and operators); the device
   * recovers as from any worker failure.
   */
  kill(): void {
    if (this.#worker) this.#lost("killed by request");
  }

  #enqueue(step: () => Promise<void> | void): Promise<void> {
    const run = this.#queue.then(() => this.#gone ? undefined : step());
    this.#queue = run.catch((error) => this.#ctx.log(`${this.token}: ${error?.stack ?? error}`));
    return run;
  }

  #setState(state: number): void {
    if (this.state === state) return;
    this.state = state;
    this.#ctx.xs.write(`${this.backendPath}/state`, String(state));
  }

  #readFront(key: string): string | undefined {
    try {
      return this.#ctx.xs.read(`${this.frontendPath}/${key}`);
    } catch {
      return undefined;
    }
  }

  /** A frontend value that must be a decimal number below 2^32. */
  #readNumber(key: string): number | undefined {
    const text = this.#readFront(key);
    if (text === undefined || !/^\d{1,10}$/.test(text)) return undefined;
    const value = Number(text);
    return value < 2 ** 32 ? value : undefined;
  }

  async #startWorker(): Promise<void> {
    const { spec } = this;
    const module = BUILTIN_BLOCK_BACKENDS[spec.backendModule] ?? spec.backendModule;
    let opened = false;
    const worker = new BackendWorker({
      url: blockWorkerUrl(module),
      name: `vbd ${this.domid}/${this.devid}`,
      permissions: {
        read: spec.target ? [spec.target] : [],
        write: spec.target && !spec.readOnly ? [spec.target] : [],
      },
      watchdog: this.#ctx.watchdog,
      onEvent: (event) => {
        if (worker !== this.#worker && event.event !== "retain") return;
        if (event.event === "retain") this.#retained.push(event.data as SharedArrayBuffer);
        else if (event.event === "fatal") this.#lost(`backend failed: ${event.data}`);
        else if (event.event === "ring-error") this.#ringError(String(event.data));
      },
      onFailure: (reason) => {
        // Before the disk is open, the failure rejects the open call below instead.
        if (opened && worker === this.#worker) this.#lost(reason);
      },
    });
    this.#worker = worker;
    const args: BlockOpenArgs = {
      backend: module,
      target: spec.target,
      readOnly: spec.readOnly,
      params: spec.params,
      retained: [...this.#retained],
      heartbeat: worker.heartbeat,
    };
    try {
      this.#info = await worker.call<BlockInfo>("open", args);
    } catch (error) {
      if (this.#worker === worker) {
        this.#worker = undefined;
        worker.terminate();
        this.#fatalError(`cannot open the disk: ${(error as Error).message}`);
      }
      return;
    }
    if (this.#worker !== worker) return; // killed while opening: recovery is queued
    opened = true;
    this.#ctx.log(`${this.token}: backend open, ${this.#info.sectors} sectors`);
  }

  /** The worker is gone (crash, hang, backend bug, kill): recover. */
  #lost(reason: string): void {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    worker.terminate();
    this.#restarts++;
    this.#ctx.log(`${this.token}: worker lost (${reason}); restarting`);
    const now = performance.now();
    const windowMs = this.#ctx.restarts?.windowMs ?? 60_000;
    this.#failures.push(now);
    while (this.#failures.length > 0 && now - this.#failures[0] > windowMs) {
      this.#failures.shift();
    }
    if (this.#failures.length > (this.#ctx.restarts?.max ?? 5)) {
      this.#gaveUp = true;
      this.#error = `gave up after ${this.#failures.length} failures: ${reason}`;
    }
    this.#enqueue(async () => {
      const wasConnected = this.#connection !== undefined || this.state === XenbusStateConnected;
      await this.#dropConnection();
      if (this.#gaveUp) {
        this.#writeError(this.#error!);
        this.#setState(XenbusStateClosing);
        return;
      }
      if (wasConnected) this.#setState(XenbusStateClosing); // the frontend reconnects
      await this.#reconcile();
    });
  }

  #ringError(reason: string): void {
    this.#ringErrors++;
    this.#enqueue(async () => {
      this.#ctx.log(`${this.token}: frontend ring beyond repair (${reason}); disconnecting`);
      this.#writeError(`frontend ring beyond repair: ${reason}`);
      await this.#disconnect();
      this.#setState(XenbusStateClosing);
    });
  }

  #fatalError(message: string): void {
    this.#gaveUp = true;
    this.#error = message;
    this.#ctx.log(`${this.token}: ${message}`);
    this.#writeError(message);
  }

  /** `xenbus_dev_fatal`'s error node. */
  #writeError(message: string): void {
    try {
      this.#ctx.xs.write(`/local/domain/0/error${this.backendPath}/error`, message);
    } catch { /* best effort: a full store must not stop recovery */ }
  }

  /** One step of the handshake toward what the frontend's state asks for. */
  async #reconcile(): Promise<void> {
    const front = this.#readNumber("state") ?? XenbusStateUnknown;
    if (!this.#online) return await this.#teardown(front);
    if (this.#gaveUp) return;
    if (!this.#worker) await this.#startWorker();
    if (!this.#worker) return;
    switch (front) {
      case XenbusStateUnknown:
        // The frontend's state is gone (its domain was destroyed, or it removed the node): the
        // device goes away, as Linux's blkback unregisters it.
        this.#ctx.log(`${this.token}: frontend gone; removing the device`);
        this.#online = false;
        await this.#disconnect();
        return await this.#remove();
      case XenbusStateInitialising:
      case XenbusStateInitWait:
        if (this.state === XenbusStateConnected) await this.#disconnect();
        if (this.state !== XenbusStateInitWait) {
          this.#publishFeatures();
          this.#setState(XenbusStateInitWait);
        }
        return;
      case XenbusStateInitialised:
      case XenbusStateConnected:
        if (this.state === XenbusStateInitWait) await this.#connect();
        return;
      case XenbusStateClosing:
        await this.#disconnect();
        if (this.state !== XenbusStateClosed) this.#setState(XenbusStateClosing);
        return;
      case XenbusStateClosed:
        await this.#disconnect();
        this.#setState(XenbusStateClosed);
        return;
      default:
        return; // Reconfiguring and unknown values: nothing to do
    }
  }

  #publishFeatures(): void {
    const xs = this.#ctx.xs;
    const info = this.#info!;
    const max = this.#ctx.maxIndirectSegments ?? DEFAULT_MAX_INDIRECT_SEGMENTS;
    xs.transaction((tx) => {
      const put = (key: string, value: string | number) =>
        xs.write(`${this.backendPath}/${key}`, String(value), tx);
      put(BLKIF_KEY_FEATURE_FLUSH_CACHE, 1);
      put(BLKIF_KEY_FEATURE_BARRIER, 1);
      put(BLKIF_KEY_FEATURE_DISCARD, info.discard && !info.readOnly ? 1 : 0);
      if (info.discard) {
        put(BLKIF_KEY_DISCARD_GRANULARITY, BLKIF_SECTOR_SIZE);
        put(BLKIF_KEY_DISCARD_ALIGNMENT, 0);
        put(BLKIF_KEY_DISCARD_SECURE, 0);
      }
      if (max > 0) put(BLKIF_KEY_FEATURE_MAX_INDIRECT_SEGMENTS, max);
      put(BLKIF_KEY_FEATURE_PERSISTENT, 1);
    });
  }

  async #connect(): Promise<void> {
    const worker = this.#worker!;
    const ringRef = this.#readNumber(BLKIF_KEY_RING_REF);
    const eventChannel = this.#readNumber(BLKIF_KEY_EVENT_CHANNEL);
    const protocol = this.#readFront(BLKIF_KEY_PROTOCOL);
    const persistent = this.#readFront(BLKIF_KEY_FEATURE_PERSISTENT) === "1";
    const problem = ringRef === undefined
      ? `${BLKIF_KEY_RING_REF} is missing or not a number`
      : eventChannel === undefined
      ? `${BLKIF_KEY_EVENT_CHANNEL} is missing or not a number`
      : protocol !== undefined && protocol !== XEN_IO_PROTO_ABI_NATIVE
      ? `protocol "${protocol}" is not ${XEN_IO_PROTO_ABI_NATIVE}`
      : undefined;
    if (problem) return this.#connectFailed(problem);
    const control = this.#ctx.control;
    const doorbell = await createDoorbell(control);
    const port = await control.bindBackend(this.domid, eventChannel!, doorbell, 0);
    if (port < 0) return this.#connectFailed(`cannot bind event channel ${eventChannel} (${port})`);
    const view = await control.foreignView(this.domid);
    const args: BlockConnectArgs = {
      source: {
        domid: view.domid,
        buffer: view.buffer,
        firstFrame: view.firstFrame,
        maxPages: view.maxPages,
        grantFrameIndex: view.grantFrameIndex,
        grantFrames: view.grantFrames,
        foreignMaps: view.foreignMaps,
      },
      ringRef: ringRef!,
      doorbell: doorbell.buffer,
      wake: doorbell.wake.buffer,
      slot: 0,
      maxIndirectSegments: this.#ctx.maxIndirectSegments ?? DEFAULT_MAX_INDIRECT_SEGMENTS,
      persistent,
    };
    try {
      await worker.call("connect", args);
    } catch (error) {
      await control.unbindBackend(port);
      if (worker !== this.#worker) return; // the worker died: recovery is queued
      return this.#connectFailed((error as Error).message);
    }
    this.#connection = { port, ringRef: ringRef!, eventChannel: eventChannel! };
    const info = this.#info!;
    const xs = this.#ctx.xs;
    xs.transaction((tx) => {
      const put = (key: string, value: string | number) =>
        xs.write(`${this.backendPath}/${key}`, String(value), tx);
      put(BLKIF_KEY_SECTORS, info.sectors);
      put(BLKIF_KEY_SECTOR_SIZE, BLKIF_SECTOR_SIZE);
      put(BLKIF_KEY_PHYSICAL_SECTOR_SIZE, BLKIF_SECTOR_SIZE);
      put(BLKIF_KEY_INFO, info.readOnly ? VDISK_READONLY : 0);
    });
    this.#setState(XenbusStateConnected);
    this.#ctx.log(`${this.token}: connected (ring-ref ${ringRef}, event channel ${eventChannel})`);
  }

  #connectFailed(problem: string): void {
    this.#ctx.log(`${this.token}: cannot connect: ${problem}`);
    this.#writeError(`cannot connect: ${problem}`);
    this.#setState(XenbusStateClosing);
  }

  /** Ends the connection: the worker unmaps the ring, dom0's port closes. */
  async #disconnect(): Promise<void> {
    const connection = this.#connection;
    if (!connection) return;
    try {
      await this.#worker?.call("disconnect");
    } catch (error) {
      this.#ctx.log(`${this.token}: disconnect: ${(error as Error).message}`);
    }
    await this.#dropConnection();
  }

  /** Forgets the connection without asking the worker (it is gone). */
  async #dropConnection(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection) {
      await this.#ctx.control.unbindBackend(connection.port).catch(() => {});
    }
  }

  /** Detaching: close the backend, and remove everything once the frontend has closed. */
  async #teardown(front: number): Promise<void> {
    await this.#disconnect();
    const frontendDone = front === XenbusStateClosed || front === XenbusStateUnknown ||
      front === XenbusStateInitialising || front === XenbusStateInitialised;
    if (frontendDone || this.#gaveUp || !this.#worker) {
      this.#setState(XenbusStateClosed);
      await this.#remove();
    } else {
      this.#setState(XenbusStateClosing);
    }
  }

  /** Removes the nodes and ends the worker. */
  async #remove(): Promise<void> {
    if (this.#gone) return;
    this.#gone = true;
    const xs = this.#ctx.xs;
    try {
      xs.unwatch(`${this.frontendPath}/state`, this.token);
    } catch { /* not watching yet */ }
    await this.#dropConnection();
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker?.alive) {
      await worker.call("close", undefined, { timeoutMs: 2000 }).catch(() => {});
      worker.terminate();
    }
    for (
      const path of [
        this.backendPath,
        this.frontendPath,
        `/local/domain/0/error${this.backendPath}`,
      ]
    ) {
      try {
        xs.rm(path);
      } catch { /* already gone */ }
    }
    this.#resolveRemoved();
  }
}
