/**
 * One virtual network interface as dom0 serves it: the toolstack's xenstore nodes (libxl's part),
 * the backend's handshake and netback worker ({@link VifBackend}, from `@paravirt/drivers`), the
 * port on its bridge, and detaching — what libxl, the `vif-bridge` script and Linux's netback do
 * together for a `vif`.
 *
 * Nodes (as Xen; keys in `drivers/net/README.md`): the frontend directory
 * `/local/domain/<domid>/device/vif/<devid>/` (the guest's) and the backend directory
 * `/local/domain/0/backend/vif/<domid>/<devid>/` (dom0's; here also `type` = `vif` and, if the
 * line gave one, `ip`).
 *
 * Detaching (`xl network-detach`): `online` = 0, the netback stops and the backend goes Closed;
 * once the frontend is no longer connected (Closed, back to Initialising, or gone) — at once with
 * `force`, or after `timeoutMs` — both directories are removed. While detaching, the frontend's
 * state changes are no longer handed to the backend, so a frontend that asks to be set up again
 * is not answered.
 *
 * Rules of use: one instance per vif, driven by its supervisor, which forwards the watch events of
 * the frontend's `state` node ({@link Vif.onWatch}, token {@link Vif.token}).
 *
 * @module
 */

import {
  createVifNodes,
  type NetbackMetrics,
  tryRead,
  VifBackend,
  type VifControl,
  type VifPaths,
  vifPaths,
} from "@paravirt/drivers";
import {
  XENBUS_STATE_NAMES,
  XenbusStateClosing,
  XenbusStateConnected,
  XenbusStateInitialised,
} from "@paravirt/public";
import type { LocalClient } from "../xenstore/client.ts";
import type { BridgeDevice } from "./bridge_device.ts";
import { removeDeviceDir } from "./_xs_cleanup.ts";

/** What a {@link Vif} needs from its supervisor. */
export interface VifContext {
  /** The hypervisor services. */
  readonly control: VifControl;
  /** The supervisor's privileged xenstore client. */
  readonly xs: LocalClient;
  /** Worker restarts before the vif gives up (default 5). */
  readonly maxRestarts?: number;
  /** Log lines. */
  log(line: string): void;
}

/** What a vif is made of. */
export interface VifSettings {
  /** The guest. */
  readonly domid: number;
  /** The device id. */
  readonly devid: number;
  /** Its MAC address (`aa:bb:cc:dd:ee:ff`). */
  readonly mac: string;
  /** Its bridge. */
  readonly bridge: BridgeDevice;
  /** IPv4 addresses for the `ip` node, if any. */
  readonly ip?: string;
  /** The netback module as written (absent: built in). */
  readonly backend?: string;
  /** The module to start (absent: built in). */
  readonly backendModule?: string;
}

/** A vif as `xl network-list` shows it (read from xenstore, as libxl does). */
export interface VifInfo {
  /** Frontend domain. */
  readonly domid: number;
  /** Device id (`Idx`, `handle`). */
  readonly devid: number;
  /** MAC address. */
  readonly mac: string;
  /** Its bridge's name. */
  readonly bridge: string;
  /** Its port's name on the bridge (`vif<domid>.<devid>`). */
  readonly port: string;
  /** The frontend's xenbus state (-1 if absent): Xen's `state` column. */
  readonly state: number;
  /** The backend's xenbus state (-1 if absent). */
  readonly backendState: number;
  /** The backend state's name. */
  readonly backendStateName: string;
  /** The frontend's `event-channel` (-1 if absent, or split channels). */
  readonly eventChannel: number;
  /** `tx-ring-ref` (-1 if absent). */
  readonly txRingRef: number;
  /** `rx-ring-ref` (-1 if absent). */
  readonly rxRingRef: number;
  /** Backend directory. */
  readonly backendPath: string;
  /** Frontend directory. */
  readonly frontendPath: string;
  /** The netback module as configured (`netback` for the built-in one). */
  readonly backend: string;
  /** Netback worker restarts so far. */
  readonly restarts: number;
  /** The backend's `error` node, if it failed. */
  readonly error?: string;
}

/** One vif (see the module doc). */
export class Vif {
  /** Frontend domain. */
  readonly domid: number;
  /** Device id. */
  readonly devid: number;
  /** MAC address. */
  readonly mac: string;
  /** Its bridge. */
  readonly bridge: BridgeDevice;
  /** Its xenstore directories. */
  readonly paths: VifPaths;
  /** Resolves when the device is gone. */
  readonly removed: Promise<void>;
  readonly #settings: VifSettings;
  readonly #ctx: VifContext;
  readonly #backend: VifBackend;
  #resolveRemoved!: () => void;
  #detaching = false;
  #gone = false;
  #watching = false;

  /** Describes the vif; {@link start} creates it. */
  constructor(settings: VifSettings, ctx: VifContext) {
    this.#settings = settings;
    this.#ctx = ctx;
    this.domid = settings.domid;
    this.devid = settings.devid;
    this.mac = settings.mac;
    this.bridge = settings.bridge;
    this.paths = vifPaths(settings.domid, settings.devid);
    this.removed = new Promise((resolve) => this.#resolveRemoved = resolve);
    this.#backend = new VifBackend({
      store: ctx.xs,
      control: ctx.control,
      bridge: settings.bridge,
      domid: settings.domid,
      devid: settings.devid,
      module: settings.backendModule,
      maxRestarts: ctx.maxRestarts,
      onEvent: (event) => ctx.log(event),
    });
  }

  /** The watch token of the frontend's state node. */
  get token(): string {
    return `vif/${this.domid}/${this.devid}`;
  }

  /** The port's name on the bridge. */
  get port(): string {
    return this.#backend.portName;
  }

  /** Writes both directories and moves the backend to InitWait (removing them on failure). */
  async start(): Promise<void> {
    const xs = this.#ctx.xs;
    try {
      createVifNodes(xs, {
        domid: this.domid,
        devid: this.devid,
        mac: this.mac,
        bridge: this.bridge.name,
      });
      xs.write(`${this.paths.backend}/type`, "vif");
      if (this.#settings.ip) xs.write(`${this.paths.backend}/ip`, this.#settings.ip);
      await this.#backend.start();
      xs.watch(`${this.paths.frontend}/state`, this.token);
      this.#watching = true;
    } catch (error) {
      await this.#remove();
      throw error;
    }
  }

  /** The frontend's state changed. */
  onWatch(): void {
    if (this.#gone) return;
    if (this.#detaching) {
      if (!this.#frontendConnected()) void this.#remove();
      return;
    }
    void this.#backend.frontendChanged();
  }

  #number(path: string): number {
    const text = tryRead(this.#ctx.xs, path);
    return text !== undefined && /^[0-9]{1,10}$/.test(text) ? Number(text) : -1;
  }

  #frontendConnected(): boolean {
    const state = this.#number(`${this.paths.frontend}/state`);
    return state === XenbusStateInitialised || state === XenbusStateConnected ||
      state === XenbusStateClosing;
  }

  /** What `xl network-list` shows. */
  info(): VifInfo {
    const f = this.paths.frontend;
    const b = this.paths.backend;
    const backendState = this.#number(`${b}/state`);
    return {
      domid: this.domid,
      devid: this.devid,
      mac: this.mac,
      bridge: this.bridge.name,
      port: this.port,
      state: this.#number(`${f}/state`),
      backendState,
      backendStateName: XENBUS_STATE_NAMES[backendState] ?? String(backendState),
      eventChannel: this.#number(`${f}/event-channel`),
      txRingRef: this.#number(`${f}/tx-ring-ref`),
      rxRingRef: this.#number(`${f}/rx-ring-ref`),
      backendPath: b,
      frontendPath: f,
      backend: this.#settings.backend ?? "netback",
      restarts: this.#backend.restarts,
      error: tryRead(this.#ctx.xs, `${b}/error`),
    };
  }

  /** Netback's counters (undefined while not connected). */
  metrics(): Promise<NetbackMetrics | undefined> {
    return this.#backend.metrics();
  }

  /** Whether the netback worker answers within `timeoutMs` (undefined when not connected). */
  ping(timeoutMs: number): Promise<boolean | undefined> {
    return this.#backend.ping(timeoutMs);
  }

  /** Kills the netback worker as a crash would (fault injection, or a hung worker). */
  kill(): void {
    this.#backend.killWorker();
  }

  /**
   * Unplugs the vif (`xl network-detach`): see the module doc. Resolves once both directories
   * are gone.
   */
  async detach(options: { force?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (this.#gone) return;
    this.#detaching = true;
    this.#ctx.xs.write(`${this.paths.backend}/online`, "0");
    await this.#backend.stop();
    if (options.force || !this.#frontendConnected()) {
      await this.#remove();
      return;
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = await Promise.race([
      this.removed.then(() => false),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), timeoutMs)),
    ]);
    clearTimeout(timer);
    if (late) {
      this.#ctx.log(`${this.token}: the frontend did not close in ${timeoutMs} ms; forcing`);
      await this.#remove();
    }
  }

  /** The domain is gone: tear everything down without waiting for it. */
  async release(): Promise<void> {
    if (this.#gone) return;
    this.#detaching = true;
    await this.#backend.stop();
    await this.#remove();
  }

  async #remove(): Promise<void> {
    if (this.#gone) return;
    this.#gone = true;
    this.#detaching = true;
    if (this.#watching) {
      try {
        this.#ctx.xs.unwatch(`${this.paths.frontend}/state`, this.token);
      } catch { /* already gone */ }
    }
    await this.#backend.stop().catch(() => {});
    removeDeviceDir(this.#ctx.xs, this.paths.backend);
    removeDeviceDir(this.#ctx.xs, this.paths.frontend, `/local/domain/${this.domid}/device`);
    this.#resolveRemoved();
  }
}
