/**
 * Starting the network workers, for the device supervisor: each launcher creates the worker with
 * its declared permission set, hands it its configuration, and returns a handle to watch, query,
 * restart-by-replacing and stop it.
 *
 * Permission sets (prompts are off in workers: a denied access throws):
 * - a netback: none ({@link NETBACK_PERMISSIONS}) — it reaches only the shared memory it is given;
 * - a bridge: none ({@link BRIDGE_PERMISSIONS}) — its filter modules are imported by its entry
 *   module, so they load under the parent's permissions as a worker's static imports do;
 * - a host-socket port: exactly its two loopback UDP addresses ({@link hostPortPermissions}).
 *
 * Restarting: a replacement netback is started with the same {@link NetbackConfig} (the rings
 * resume from their published indices; the link's queues carry on; the ring mappings a killed
 * worker left are released from its ledger first); a replacement bridge gets the
 * old one's bell and saved state, then every port's link again. A worker that throws, or hangs
 * (see `ping`), is reported through `onExit` and never takes the supervisor down.
 *
 * @module
 */

import { WorkerHandle } from "./_worker_handle.ts";
import type { BridgeMetrics, BridgeState } from "./bridge.ts";
import type { FilterAlert } from "./filter.ts";
import { isBuiltinFilter, resolveFilterModule } from "./filter_loader.ts";
import { createMappingLedger, MappingLedger } from "./mapping_ledger.ts";
import type { NetbackMetrics } from "./netback.ts";
import {
  type BellHandle,
  BRIDGE_BELL_SLOT,
  createPortLink,
  type PortLinkHandle,
  type PortLinkOptions,
} from "./port_link.ts";
import type {
  BridgeConfig,
  HostPortConfig,
  NetbackConfig,
  WorkerPermissions,
} from "./worker_protocol.ts";

/** The netback worker's module. */
export const NETBACK_WORKER_MODULE: string = new URL("./netback_worker.ts", import.meta.url).href;
/** The bridge worker's module. */
export const BRIDGE_WORKER_MODULE: string = new URL("./bridge_worker.ts", import.meta.url).href;
/** The host-socket port worker's module. */
export const HOST_PORT_WORKER_MODULE: string =
  new URL("./host_port_worker.ts", import.meta.url).href;

/** How long a worker may take to start by default (module loading may include type checks). */
const START_TIMEOUT_MS = 30_000;

/** A netback worker's permissions: none. */
export const NETBACK_PERMISSIONS: WorkerPermissions = "none";
/** A bridge worker's permissions: none. */
export const BRIDGE_PERMISSIONS: WorkerPermissions = "none";

/** Whether `hostname` names the loopback interface. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** A host-socket port's permissions: net access to its bind and peer addresses, nothing else. */
export function hostPortPermissions(config: HostPortConfig): WorkerPermissions {
  for (const end of [config.bind, config.peer]) {
    if (
      !isLoopback(end?.hostname) || !Number.isInteger(end.port) || end.port < 1 || end.port > 65535
    ) {
      throw new RangeError(`Host port address ${JSON.stringify(end)} is not a loopback UDP port`);
    }
  }
  const address = (e: { hostname: string; port: number }) => `${e.hostname}:${e.port}`;
  return {
    read: false,
    write: false,
    net: [address(config.bind), address(config.peer)],
    env: false,
    run: false,
    ffi: false,
    sys: false,
  };
}

/** Options common to the launchers. */
export interface LaunchOptions {
  /** The worker module (default: the built-in one; a vif or bridge line may name another). */
  module?: string | URL;
  /** How long to wait for `ready` (default 30 s). */
  timeoutMs?: number;
  /** Called once when the worker ends for any reason other than `stop()`. */
  onExit?: (reason: string) => void;
}

/** A running netback worker. */
export class NetbackWorker {
  readonly #handle: WorkerHandle;

  private constructor(handle: WorkerHandle) {
    this.#handle = handle;
  }

  /**
   * Starts a netback worker for `config`. Resolves once it has mapped the rings; rejects with
   * the reason if it cannot (a bad ring grant, for instance) — the worker is gone then.
   */
  static async start(
    config: NetbackConfig,
    options: LaunchOptions & { onDisconnect?: (reason: string) => void } = {},
  ): Promise<NetbackWorker> {
    const name = `netback d${config.source.domid}`;
    // A ledger that outlives the worker, so a killed worker's ring mappings can be undone.
    const ledger = config.ledger ?? createMappingLedger();
    config = { ...config, ledger };
    const handle = new WorkerHandle(
      options.module ?? NETBACK_WORKER_MODULE,
      NETBACK_PERMISSIONS,
      name,
    );
    handle.listen(
      (report) => {
        if (report.type === "disconnected") options.onDisconnect?.(report.reason);
      },
      (reason) => {
        new MappingLedger(ledger).release(config.source);
        if (reason !== "stopped") options.onExit?.(reason);
      },
    );
    await handle.start(config, options.timeoutMs ?? START_TIMEOUT_MS);
    return new NetbackWorker(handle);
  }

  /** Why the worker ended, or undefined while it runs. */
  get exited(): string | undefined {
    return this.#handle.exited;
  }

  /** The vif's counters. */
  async metrics(): Promise<NetbackMetrics> {
    return await this.#handle.request({ type: "metrics" }) as NetbackMetrics;
  }

  /** Whether the worker answers within `timeoutMs` (a watchdog's question). */
  async ping(timeoutMs = 1000): Promise<boolean> {
    try {
      await this.#handle.request({ type: "ping" }, timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  /** Stops serving (the worker releases its mappings) and ends the worker. */
  stop(): Promise<void> {
    return this.#handle.stop();
  }

  /** Kills the worker at once (what a watchdog does to a hung one). */
  terminate(): void {
    this.#handle.terminate();
  }
}

/** A running bridge worker. */
export class BridgeWorker {
  /** The bell its ports ring (keep it to restart the bridge under the same links). */
  readonly bell: BellHandle;
  /** The bridge's name. */
  readonly name: string;
  readonly #handle: WorkerHandle;

  private constructor(handle: WorkerHandle, bell: BellHandle, name: string) {
    this.#handle = handle;
    this.bell = bell;
    this.name = name;
  }

  /**
   * Starts a bridge worker. `bell` defaults to a new one (pass the old bridge's to restart under
   * the same links, with its saved `state`). Rejects if a filter cannot be loaded.
   */
  static async start(
    config: Omit<BridgeConfig, "bell"> & { bell?: BellHandle },
    options: LaunchOptions & {
      onAlert?: (alerts: readonly FilterAlert[]) => void;
      onPortError?: (port: string, reason: string) => void;
    } = {},
  ): Promise<BridgeWorker> {
    const bell = config.bell ?? { buffer: new SharedArrayBuffer(16), slot: BRIDGE_BELL_SLOT };
    // Filter modules become part of the worker's static module graph (loaded under this
    // thread's permissions): an entry module imports them and hands them to the worker.
    const filters = (config.filters ?? []).map((spec) =>
      typeof spec?.module === "string" && !isBuiltinFilter(spec.module)
        ? { ...spec, module: resolveFilterModule(spec.module, config.filterBase) }
        : spec
    );
    const external = [
      ...new Set(filters.filter((s) => !isBuiltinFilter(s.module)).map((s) => s.module)),
    ];
    for (const m of external) {
      if (!m.startsWith("file:")) continue;
      try {
        await Deno.stat(new URL(m));
      } catch {
        throw new RangeError(`Filter module ${m} cannot be read`);
      }
    }
    let module = String(options.module ?? BRIDGE_WORKER_MODULE);
    if (external.length > 0) {
      const source = [
        `import { registerFilterModules } from ${JSON.stringify(module)};`,
        ...external.map((m, i) => `import * as f${i} from ${JSON.stringify(m)};`),
        `registerFilterModules({ ${
          external.map((m, i) => `${JSON.stringify(m)}: f${i}`).join(", ")
        } });`,
      ].join("\n");
      // A data: URL, not a blob: the same configuration is the same module (cached).
      module = `data:text/javascript,${encodeURIComponent(source)}`;
    }
    const handle = new WorkerHandle(module, BRIDGE_PERMISSIONS, `bridge ${config.name}`);
    handle.listen(
      (report) => {
        if (report.type === "alerts") options.onAlert?.(report.alerts);
        if (report.type === "port-error") options.onPortError?.(report.port, report.reason);
      },
      (reason) => {
        if (reason !== "stopped") options.onExit?.(reason);
      },
    );
    await handle.start({ ...config, filters, bell }, options.timeoutMs ?? START_TIMEOUT_MS);
    return new BridgeWorker(handle, bell, config.name);
  }

  /** Why the worker ended, or undefined while it runs. */
  get exited(): string | undefined {
    return this.#handle.exited;
  }

  /** Creates the queues of a new port whose worker is rung on `portBell`. */
  createLink(portBell: BellHandle, options?: PortLinkOptions): PortLinkHandle {
    return createPortLink(this.bell, portBell, options);
  }

  /** Attaches a port (rejects for a duplicate name or a bad link). */
  async attach(name: string, link: PortLinkHandle): Promise<void> {
    await this.#handle.request({ type: "attach", name, link });
  }

  /** Detaches a port; resolves to whether it was attached. */
  async detach(name: string): Promise<boolean> {
    return await this.#handle.request({ type: "detach", name }) as boolean;
  }

  /** The bridge's counters (ports, MAC table, filters). */
  async metrics(): Promise<BridgeMetrics> {
    return await this.#handle.request({ type: "metrics" }) as BridgeMetrics;
  }

  /** The state to hand a replacement bridge. */
  async save(): Promise<BridgeState> {
    return await this.#handle.request({ type: "save" }) as BridgeState;
  }

  /** Whether the worker answers within `timeoutMs`. */
  async ping(timeoutMs = 1000): Promise<boolean> {
    try {
      await this.#handle.request({ type: "ping" }, timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  /** Stops the bridge and ends the worker. */
  stop(): Promise<void> {
    return this.#handle.stop();
  }

  /** Kills the worker at once. */
  terminate(): void {
    this.#handle.terminate();
  }
}

/** A running host-socket port worker. */
export class HostPortWorker {
  readonly #handle: WorkerHandle;

  private constructor(handle: WorkerHandle) {
    this.#handle = handle;
  }

  /**
   * Starts a worker that bridges `config.link` to a loopback UDP socket: each frame from the
   * bridge becomes one datagram to `peer`, each datagram from `peer` one frame. It may use the
   * network for exactly those two addresses. Rejects if it cannot bind.
   */
  static async start(config: HostPortConfig, options: LaunchOptions = {}): Promise<HostPortWorker> {
    const handle = new WorkerHandle(
      options.module ?? HOST_PORT_WORKER_MODULE,
      hostPortPermissions(config),
      `host port ${config.bind.hostname}:${config.bind.port}`,
    );
    handle.listen(() => {}, (reason) => {
      if (reason !== "stopped") options.onExit?.(reason);
    });
    await handle.start(config, options.timeoutMs ?? START_TIMEOUT_MS);
    return new HostPortWorker(handle);
  }

  /** Counters: frames and bytes each way, drops. */
  async metrics(): Promise<Record<string, number>> {
    return await this.#handle.request({ type: "metrics" }) as Record<string, number>;
  }

  /** Stops and ends the worker. */
  stop(): Promise<void> {
    return this.#handle.stop();
  }
}
