/**
 * One software bridge as dom0 runs it: its bridge worker (no permissions), the filter chain it
 * was created with, the table of ports attached to it, a watchdog, and restarts — what Linux's
 * bridge plus the `vif-bridge` hotplug script do for Xen.
 *
 * Its vifs see a {@link VifBridge} that outlives any one worker: `attach`/`detach` record the
 * port in this object's table, so when the worker dies (it throws, or stops answering the
 * watchdog's ping) a new worker is started on the same bell with the learned addresses saved
 * last, and every recorded port is attached to it again; the netbacks never notice (frames in
 * flight in the queues carry on, as the net README's restart protocol says). More than
 * `restarts.max` failures in `restarts.windowMs` and the bridge stays down (the error is kept).
 *
 * Rules of use: the supervisor makes one per bridge name ({@link BridgeDevice.start}), hands it
 * to every vif on that bridge, and {@link BridgeDevice.stop}s it after its last vif left. Every
 * step (attach, detach, restart) runs in one serialized queue.
 *
 * @module
 */

import {
  type BridgeMetrics,
  type BridgeState,
  BridgeWorker,
  type FilterAlert,
  type FilterSpec,
  type PortLinkHandle,
  type PortLinkOptions,
  type VifBridge,
} from "@paravirt/drivers";
import type { RestartPolicy } from "./vbd.ts";

/** How often the watchdog pings the worker and how long an answer may take (ms). */
export interface BridgeWatchdog {
  /** Between pings (default 1000). */
  readonly intervalMs?: number;
  /** A ping unanswered this long means the worker hangs (default 5000). */
  readonly timeoutMs?: number;
}

/** What a {@link BridgeDevice} needs from its supervisor. */
export interface BridgeContext {
  /** Watchdog timing. */
  readonly watchdog?: BridgeWatchdog;
  /** Restart policy (default 5 a minute). */
  readonly restarts?: RestartPolicy;
  /** Log lines. */
  log(line: string): void;
}

/** A bridge as `xl` shows it. */
export interface BridgeInfo {
  /** Its name. */
  readonly name: string;
  /** Its filter chain's modules, in order. */
  readonly filters: readonly string[];
  /** Attached ports. */
  readonly ports: readonly string[];
  /** Worker restarts so far. */
  readonly restarts: number;
  /** Filter alerts raised so far. */
  readonly alerts: number;
  /** Why the bridge is down, if it gave up. */
  readonly error?: string;
}

/** Alerts kept per bridge for the toolstack (the newest win). */
const KEPT_ALERTS = 256;
/** Alerts logged one by one before only one in {@link LOG_ALERTS_EVERY} is. */
const LOG_ALERTS_FIRST = 20;
const LOG_ALERTS_EVERY = 1000;
/** How many watchdog rounds between two saves of the learned addresses. */
const SAVE_EVERY = 5;

/** One bridge (see the module doc). */
export class BridgeDevice implements VifBridge {
  /** The bridge's name. */
  readonly name: string;
  /** Its filter chain, as configured. */
  filters: readonly FilterSpec[];
  /** Worker restarts so far. */
  restarts = 0;
  readonly #ctx: BridgeContext;
  readonly #ports = new Map<string, PortLinkHandle>();
  readonly #failures: number[] = [];
  readonly #alerts: FilterAlert[] = [];
  #alertCount = 0;
  #worker: BridgeWorker;
  #queue: Promise<void> = Promise.resolve();
  #state: BridgeState | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #pinging = false;
  #rounds = 0;
  #stopped = false;
  #error: string | undefined;

  private constructor(
    name: string,
    filters: readonly FilterSpec[],
    worker: BridgeWorker,
    ctx: BridgeContext,
  ) {
    this.name = name;
    this.filters = filters;
    this.#worker = worker;
    this.#ctx = ctx;
    const interval = ctx.watchdog?.intervalMs ?? 1000;
    this.#timer = setInterval(() => this.#watch(), interval);
  }

  /** Starts a bridge worker with `filters`; rejects if a filter cannot be loaded. */
  static async start(
    name: string,
    filters: readonly FilterSpec[],
    ctx: BridgeContext,
  ): Promise<BridgeDevice> {
    const made: { device?: BridgeDevice } = {};
    const events = BridgeDevice.#events(() => made.device);
    const worker = await BridgeWorker.start({ name, filters }, events);
    events.bind(worker);
    made.device = new BridgeDevice(name, filters, worker, ctx);
    ctx.log(`bridge ${name}: up (${filters.map((f) => f.module).join(", ") || "no filters"})`);
    return made.device;
  }

  /** The launcher's callbacks, bound to the worker they are for once it exists. */
  static #events(device: () => BridgeDevice | undefined) {
    let self: BridgeWorker | undefined;
    return {
      onAlert: (alerts: readonly FilterAlert[]) => {
        const d = device();
        if (d) d.#alerted(alerts);
      },
      onPortError: (port: string, reason: string) => {
        const d = device();
        if (d) d.#ctx.log(`bridge ${d.name}: port ${port} cut off: ${reason}`);
      },
      // A worker that dies while starting has no device yet: its start() rejects instead.
      onExit: (reason: string) => {
        const d = device();
        if (d) d.#lost(self, reason);
      },
      bind: (worker: BridgeWorker) => self = worker,
    };
  }

  #alerted(alerts: readonly FilterAlert[]): void {
    this.#alertCount += alerts.length;
    this.#alerts.push(...alerts);
    if (this.#alerts.length > KEPT_ALERTS) {
      this.#alerts.splice(0, this.#alerts.length - KEPT_ALERTS);
    }
    // The log gets the first alerts, then one in LOG_ALERTS_EVERY (a busy signature would flood it).
    for (const [i, alert] of alerts.entries()) {
      const n = this.#alertCount - alerts.length + i + 1;
      if (n > LOG_ALERTS_FIRST && n % LOG_ALERTS_EVERY !== 0) continue;
      this.#ctx.log(
        `bridge ${this.name}: alert ${n} ${alert.filter}/${alert.rule}: ${alert.detail}` +
          (n === LOG_ALERTS_FIRST ? ` (from now on one in ${LOG_ALERTS_EVERY} is logged)` : ""),
      );
    }
  }

  #serial(task: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(task);
    this.#queue = next.catch(() => {});
    return next;
  }

  /** The alerts kept (the newest {@link KEPT_ALERTS}). */
  alerts(): FilterAlert[] {
    return [...this.#alerts];
  }

  /** What `xl` shows. */
  info(): BridgeInfo {
    return {
      name: this.name,
      filters: this.filters.map((f) => f.module),
      ports: [...this.#ports.keys()],
      restarts: this.restarts,
      alerts: this.#alertCount,
      error: this.#error,
    };
  }

  /** Creates a port's queues (on the bridge's bell, which every worker of this bridge shares). */
  createLink(
    portBell: { buffer: SharedArrayBuffer; slot: number },
    options?: PortLinkOptions,
  ): PortLinkHandle {
    return this.#worker.createLink(portBell, options);
  }

  /** Attaches a port, and keeps it for any later worker. */
  attach(name: string, link: PortLinkHandle): Promise<void> {
    return this.#serial(async () => {
      if (this.#ports.has(name)) throw new RangeError(`Bridge ${this.name} has a port ${name}`);
      if (this.#error) throw new Error(`Bridge ${this.name} is down: ${this.#error}`);
      await this.#worker.attach(name, link);
      this.#ports.set(name, link);
    });
  }

  /** Detaches a port; resolves to whether it was attached. */
  async detach(name: string): Promise<boolean> {
    let was = false;
    await this.#serial(async () => {
      was = this.#ports.delete(name);
      if (was && this.#worker.exited === undefined) {
        await this.#worker.detach(name).catch(() => false);
      }
    });
    return was;
  }

  /** The bridge's counters (rejects while its worker is down). */
  metrics(): Promise<BridgeMetrics> {
    return this.#worker.metrics();
  }

  /**
   * Gives a running bridge a filter chain (a vif naming rules joined a bridge that had none): a
   * new worker with `filters`, on the same bell, with the learned addresses, takes every port
   * over from the old one (frames waiting in the ports' queues are not lost). Rejects, leaving
   * the old chain, if a filter cannot be loaded.
   */
  reconfigure(filters: readonly FilterSpec[]): Promise<void> {
    return this.#serial(async () => {
      if (this.#error) throw new Error(`Bridge ${this.name} is down: ${this.#error}`);
      const old = this.#worker;
      const state = await old.save().catch(() => this.#state);
      const events = BridgeDevice.#events(() => this);
      const next = await BridgeWorker.start(
        { name: this.name, filters, bell: old.bell, state },
        events,
      );
      events.bind(next);
      this.#worker = next; // before the old one stops, so its end is not taken for a failure
      await old.stop();
      for (const [port, link] of this.#ports) await next.attach(port, link);
      this.filters = filters;
      this.#ctx.log(
        `bridge ${this.name}: filters now ${filters.map((f) => f.module).join(", ") || "none"}`,
      );
    });
  }

  /** Kills the worker as a crash would (fault injection); the bridge restarts. */
  kill(): void {
    this.#ctx.log(`bridge ${this.name}: killing the worker (by request)`);
    this.#worker.terminate();
  }

  /** Ends the worker and the watchdog. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#serial(async () => {
      await this.#worker.stop();
      this.#ctx.log(`bridge ${this.name}: stopped`);
    });
  }

  async #watch(): Promise<void> {
    if (this.#pinging || this.#stopped || this.#worker.exited !== undefined) return;
    this.#pinging = true;
    const worker = this.#worker;
    try {
      if (!(await worker.ping(this.#ctx.watchdog?.timeoutMs ?? 5000))) {
        if (worker === this.#worker && !this.#stopped) {
          this.#ctx.log(`bridge ${this.name}: the worker does not answer; killing it`);
          worker.terminate();
        }
        return;
      }
      if (++this.#rounds % SAVE_EVERY === 0) {
        this.#state = await worker.save().catch(() => this.#state);
      }
    } finally {
      this.#pinging = false;
    }
  }

  #lost(worker: BridgeWorker | undefined, reason: string): void {
    if (this.#stopped) return;
    void this.#serial(async () => {
      if (this.#stopped || this.#error || worker !== this.#worker) return;
      this.#ctx.log(`bridge ${this.name}: worker ended (${reason})`);
      const now = Date.now();
      const windowMs = this.#ctx.restarts?.windowMs ?? 60_000;
      while (this.#failures.length > 0 && now - this.#failures[0] > windowMs) {
        this.#failures.shift();
      }
      this.#failures.push(now);
      if (this.#failures.length > (this.#ctx.restarts?.max ?? 5)) {
        this.#error = `bridge worker keeps failing (${reason})`;
        this.#ctx.log(`bridge ${this.name}: giving up: ${this.#error}`);
        return;
      }
      try {
        const events = BridgeDevice.#events(() => this);
        const next = await BridgeWorker.start(
          { name: this.name, filters: this.filters, bell: this.#worker.bell, state: this.#state },
          events,
        );
        events.bind(next);
        this.#worker = next;
        for (const [port, link] of this.#ports) await next.attach(port, link);
        this.restarts++;
        this.#ctx.log(`bridge ${this.name}: restarted with ${this.#ports.size} port(s)`);
      } catch (error) {
        this.#error = `bridge restart failed: ${error instanceof Error ? error.message : error}`;
        this.#ctx.log(`bridge ${this.name}: ${this.#error}`);
      }
    });
  }
}
