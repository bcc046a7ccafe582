/**
 * One vif's backend device as the device supervisor runs it: the xenbus handshake (Xen's netback
 * state machine), the event-channel binding, the netback worker, and the vif's port on its
 * bridge.
 *
 * ```text
 * start()            backend InitWait, features advertised
 * frontendChanged(): frontend Initialised/Connected → read its keys, bind its event channel(s)
 *                    to a doorbell, start the netback worker, attach the port → Connected
 *                    frontend Closing → tear down → backend Closing
 *                    frontend Closed → backend Closed; frontend Initialising again → InitWait
 * netback reports a fatal frontend error → tear down, `error` node written → Closing
 * the worker dies (throws, or a watchdog kills it) → restarted on the same rings and link
 * ```
 *
 * Rules of use: the supervisor creates one per vif, calls {@link VifBackend.start} once, and
 * {@link VifBackend.frontendChanged} on every watch event of the frontend's `state` node (extra
 * calls are harmless). Calls are serialized internally. A bad frontend (bad keys, ring grants
 * that do not map, protocol breaches) costs only its own vif: the error is written to the
 * backend's `error` node and the backend goes to Closing.
 *
 * @module
 */

import { Doorbell, WakeWord } from "@paravirt/events";
import {
  XenbusStateClosed,
  XenbusStateClosing,
  XenbusStateConnected,
  XenbusStateInitialised,
  XenbusStateInitialising,
  XenbusStateInitWait,
  XenbusStateUnknown,
} from "@paravirt/public";
import type { GrantSource } from "../grant_mapper.ts";
import { type LaunchOptions, NetbackWorker } from "./launch.ts";
import type { NetbackMetrics } from "./netback.ts";
import { NETBACK_BRIDGE_SLOT, type PortLinkHandle, type PortLinkOptions } from "./port_link.ts";
import {
  advertiseVifBackend,
  readVifFrontend,
  readXenbusState,
  type VifPaths,
  vifPaths,
  type VifStore,
} from "./vif_xenbus.ts";
import type { NetbackConfig } from "./worker_protocol.ts";

/** What a vif needs of the hypervisor (dom0's `DomainControl` has all of it). */
export interface VifControl {
  /** The pCPU's wake word buffer. */
  wakeBuffer(): Promise<SharedArrayBuffer>;
  /** The frontend domain's memory view. */
  foreignView(domid: number): Promise<GrantSource>;
  /** Binds a dom0 port to the frontend's unbound port, routed to a doorbell slot. */
  bindBackend(
    domid: number,
    frontPort: number,
    doorbell: { readonly buffer: SharedArrayBuffer },
    slot: number,
  ): Promise<number>;
  /** Closes a dom0 port. */
  unbindBackend(port: number): Promise<void>;
}

/** What a vif needs of its bridge (a `BridgeWorker` has all of it). */
export interface VifBridge {
  /** Creates a port link whose worker is rung on `portBell`. */
  createLink(
    portBell: { buffer: SharedArrayBuffer; slot: number },
    options?: PortLinkOptions,
  ): PortLinkHandle;
  /** Attaches a port. */
  attach(name: string, link: PortLinkHandle): Promise<void>;
  /** Detaches a port. */
  detach(name: string): Promise<boolean>;
}

/** Options of a {@link VifBackend}. */
export interface VifBackendOptions {
  /** xenstore (dom0's client). */
  store: VifStore;
  /** The hypervisor. */
  control: VifControl;
  /** The bridge the vif's port joins. */
  bridge: VifBridge;
  /** The guest. */
  domid: number;
  /** The device id. */
  devid: number;
  /** The netback worker module (default the built-in one; a vif line may name another). */
  module?: string | URL;
  /** Largest frame the guest may send (default: the link's cap). */
  maxFrame?: number;
  /** Link options (queue size, frame cap). */
  link?: PortLinkOptions;
  /** Restarts of a dying worker before the vif gives up (default 5). */
  maxRestarts?: number;
  /** Called with each notable event (for the supervisor's log). */
  onEvent?: (event: string) => void;
}

interface Connection {
  readonly doorbell: Doorbell;
  readonly ports: number[];
  readonly link: PortLinkHandle;
  config: NetbackConfig;
  worker: NetbackWorker | undefined;
  attached: boolean;
}

/** The backend of one vif (see the module doc). */
export class VifBackend {
  /** The vif's xenstore directories. */
  readonly paths: VifPaths;
  /** Its port's name on the bridge (`vif<domid>.<devid>`, as Xen names the interface). */
  readonly portName: string;
  /** Worker restarts so far. */
  restarts = 0;
  readonly #options: VifBackendOptions;
  #connection: Connection | undefined;
  #queue: Promise<void> = Promise.resolve();
  #bridge: VifBridge;

  /** A vif backend for `options.domid`/`options.devid` (nothing happens until `start`). */
  constructor(options: VifBackendOptions) {
    this.#options = options;
    this.#bridge = options.bridge;
    this.paths = vifPaths(options.domid, options.devid);
    this.portName = `vif${options.domid}.${options.devid}`;
  }

  #log(event: string): void {
    this.#options.onEvent?.(`${this.portName}: ${event}`);
  }

  /** Runs `task` after the ones before it (handshake steps never interleave). */
  #serial(task: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(task);
    this.#queue = next.catch(() => {});
    return next;
  }

  /** The backend's xenbus state. */
  get state(): number {
    return readXenbusState(this.#options.store, `${this.paths.backend}/state`);
  }

  #setState(state: number): void {
    this.#options.store.write(`${this.paths.backend}/state`, String(state));
  }

  /** Whether a netback is serving the vif. */
  get connected(): boolean {
    return this.#connection !== undefined;
  }

  /** The port link while connected (to re-attach the port to a restarted bridge). */
  get link(): PortLinkHandle | undefined {
    return this.#connection?.link;
  }

  /** The probe: advertises the backend's features and moves to InitWait. */
  start(): Promise<void> {
    return this.#serial(() => {
      advertiseVifBackend(this.#options.store, this.paths);
      this.#log("InitWait");
      return Promise.resolve();
    });
  }

  /** Follows the frontend's state (call on each watch event of its `state` node). */
  frontendChanged(): Promise<void> {
    return this.#serial(async () => {
      const store = this.#options.store;
      const front = readXenbusState(store, `${this.paths.frontend}/state`);
      const back = this.state;
      switch (front) {
        case XenbusStateInitialised:
        case XenbusStateConnected:
          if (!this.#connection && back === XenbusStateInitWait) await this.#connect();
          return;
        case XenbusStateClosing:
          await this.#disconnect();
          if (back !== XenbusStateClosed) this.#setState(XenbusStateClosing);
          return;
        case XenbusStateClosed:
          await this.#disconnect();
          this.#setState(XenbusStateClosed);
          return;
        case XenbusStateInitialising:
          if (back === XenbusStateClosed || back === XenbusStateClosing) {
            advertiseVifBackend(store, this.paths); // ready for a new connection
            this.#log("InitWait again");
          }
          return;
        case XenbusStateUnknown:
          await this.#disconnect();
          return;
      }
    });
  }

  async #connect(): Promise<void> {
    const { store, control, domid } = this.#options;
    let connection: Connection | undefined;
    try {
      const frontend = readVifFrontend(store, this.paths);
      const view = await control.foreignView(domid);
      const source: GrantSource = {
        domid: view.domid,
        buffer: view.buffer,
        firstFrame: view.firstFrame,
        maxPages: view.maxPages,
        grantFrameIndex: view.grantFrameIndex,
        grantFrames: view.grantFrames,
        foreignMaps: view.foreignMaps,
      };
      const doorbell = new Doorbell(new WakeWord(await control.wakeBuffer()));
      const ports: number[] = [];
      connection = {
        doorbell,
        ports,
        link: this.#bridge.createLink(
          { buffer: doorbell.buffer, slot: NETBACK_BRIDGE_SLOT },
          this.#options.link,
        ),
        config: undefined as unknown as NetbackConfig,
        worker: undefined,
        attached: false,
      };
      const bind = async (frontPort: number, slot: number) => {
        const port = await control.bindBackend(domid, frontPort, doorbell, slot);
        if (port < 0) throw new RangeError(`Event channel ${frontPort} cannot be bound (${port})`);
        ports.push(port);
      };
      await bind(frontend.eventChannelTx, 0);
      if (frontend.split) await bind(frontend.eventChannelRx, 1);
      const config: NetbackConfig = {
        source,
        doorbell: doorbell.buffer,
        wake: doorbell.wake.buffer,
        txSlot: 0,
        rxSlot: frontend.split ? 1 : 0,
        txRingRef: frontend.txRingRef,
        rxRingRef: frontend.rxRingRef,
        link: connection.link,
        sg: frontend.sg,
        maxFrame: this.#options.maxFrame,
      };
      connection.config = config;
      this.#connection = connection;
      connection.worker = await this.#startWorker(connection);
      await this.#bridge.attach(this.portName, connection.link);
      connection.attached = true;
      this.#setState(XenbusStateConnected);
      this.#log(`Connected (${frontend.split ? "split" : "one"} event channel)`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.#teardown(connection);
      this.#fail(message);
    }
  }

  #startWorker(connection: Connection): Promise<NetbackWorker> {
    const options: LaunchOptions & { onDisconnect: (reason: string) => void } = {
      module: this.#options.module,
      onDisconnect: (reason) => {
        void this.#serial(async () => {
          if (this.#connection !== connection) return;
          await this.#disconnect();
          this.#fail(`frontend disconnected: ${reason}`);
        });
      },
      onExit: (reason) => {
        void this.#serial(async () => {
          if (this.#connection !== connection) return;
          this.#log(`worker ended (${reason})`);
          connection.worker = undefined;
          if (this.restarts >= (this.#options.maxRestarts ?? 5)) {
            await this.#disconnect();
            this.#fail(`netback worker keeps dying: ${reason}`);
            return;
          }
          this.restarts++;
          try {
            connection.worker = await this.#startWorker(connection);
            this.#log("worker restarted");
          } catch (error) {
            await this.#disconnect();
            this.#fail(`netback worker restart failed: ${error}`);
          }
        });
      },
    };
    return NetbackWorker.start(connection.config, options);
  }

  /** Writes the error node and moves to Closing (Xen's `xenbus_dev_fatal`). */
  #fail(message: string): void {
    this.#options.store.write(`${this.paths.backend}/error`, message);
    this.#setState(XenbusStateClosing);
    this.#log(`error: ${message}`);
  }

  async #teardown(connection: Connection | undefined): Promise<void> {
    if (!connection) return;
    if (this.#connection === connection) this.#connection = undefined;
    const worker = connection.worker;
    connection.worker = undefined;
    await worker?.stop();
    if (connection.attached) await this.#bridge.detach(this.portName).catch(() => false);
    for (const port of connection.ports) await this.#options.control.unbindBackend(port);
  }

  async #disconnect(): Promise<void> {
    if (!this.#connection) return;
    await this.#teardown(this.#connection);
    this.#log("disconnected");
  }

  /** Kills the netback worker (a watchdog's action); it is restarted like a crashed one. */
  killWorker(): void {
    this.#connection?.worker?.terminate();
  }

  /** Whether the worker answers within `timeoutMs` (undefined when not connected). */
  async ping(timeoutMs = 1000): Promise<boolean | undefined> {
    return await this.#connection?.worker?.ping(timeoutMs);
  }

  /** Re-attaches the port to `bridge` (after the supervisor restarted the bridge). */
  reattach(bridge: VifBridge): Promise<void> {
    return this.#serial(async () => {
      this.#bridge = bridge;
      if (this.#connection?.attached) await bridge.attach(this.portName, this.#connection.link);
    });
  }

  /** The vif's counters, or undefined when not connected. */
  async metrics(): Promise<NetbackMetrics | undefined> {
    return await this.#connection?.worker?.metrics();
  }

  /** Tears the vif down (the supervisor's detach): backend Closed. */
  stop(): Promise<void> {
    return this.#serial(async () => {
      await this.#disconnect();
      this.#setState(XenbusStateClosed);
    });
  }
}
