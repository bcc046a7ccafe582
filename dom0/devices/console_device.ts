/**
 * A domain's console as dom0 serves it, xenconsoled's way: the domain builder made the console
 * ring page and an event channel (unbound, for dom0) and named both in start-info; this maps the
 * page through the domain's memory view, binds the port, and runs the console backend in a worker
 * with no permissions at all. The guest's output goes to listeners and a bounded history (what
 * `xl console` shows); typed input goes to the guest's input ring.
 *
 * Xenstore nodes (as libxl writes them for a PV console): `/local/domain/<domid>/console/`
 * `ring-ref` (the page's machine frame), `port`, `type` (`xenconsoled`), `backend`, `backend-id`,
 * `limit`, `tty`; `/local/domain/0/backend/console/<domid>/0/` `frontend`, `frontend-id`,
 * `protocol` (`vt100`), `state` (Connected).
 *
 * A worker that crashes or hangs is replaced and picks the ring up where its indices stand;
 * input it had queued is lost (typed input in flight), output is not (it stays in the ring).
 *
 * @module
 */

import { XenbusStateConnected } from "@paravirt/public";
import {
  CONSOLE_WORKER_URL,
  type ConsoleConnectArgs,
  type ConsoleMetrics,
} from "@paravirt/drivers";
import { DomainConsole } from "@paravirt/hypervisor";
import type { LocalClient } from "../xenstore/client.ts";
import { createDoorbell, type DomainControl } from "../domain_control.ts";
import { BackendWorker, type WatchdogOptions } from "./backend_worker.ts";

/** What a {@link ConsoleDevice} needs from its supervisor. */
export interface ConsoleContext {
  /** The hypervisor services. */
  readonly control: DomainControl;
  /** The supervisor's privileged xenstore client. */
  readonly xs: LocalClient;
  /** Watchdog timing for the worker. */
  readonly watchdog?: WatchdogOptions;
  /** Log lines. */
  log(line: string): void;
}

/** One domain's ring console. */
export class ConsoleDevice {
  /** The domain. */
  readonly domid: number;
  /** Output and history (listen to it; `history()` for what came before). */
  readonly output: DomainConsole = new DomainConsole();
  /** Worker restarts so far. */
  restarts = 0;
  readonly #ctx: ConsoleContext;
  #worker: BackendWorker | undefined;
  #port = -1;
  #closed = false;
  #starting: Promise<void> | undefined;

  /** Describes the console; {@link start} connects it. */
  constructor(domid: number, ctx: ConsoleContext) {
    this.domid = domid;
    this.#ctx = ctx;
  }

  /** Writes the nodes, starts the worker and connects the ring. Rejects if the domain has none. */
  async start(): Promise<void> {
    const view = await this.#ctx.control.foreignView(this.domid);
    if (!view.console) throw new RangeError(`Domain ${this.domid} has no console ring`);
    const { mfn, port } = view.console;
    const xs = this.#ctx.xs;
    const front = `/local/domain/${this.domid}/console`;
    const back = `/local/domain/0/backend/console/${this.domid}/0`;
    xs.transaction((tx) => {
      xs.mkdir(front, tx);
      xs.setPerms(front, ["n0", `r${this.domid}`], tx);
      const nodes: Record<string, string> = {
        "ring-ref": String(mfn),
        "port": String(port),
        "type": "xenconsoled",
        "backend": back,
        "backend-id": "0",
        "limit": "1048576",
        "tty": "",
      };
      for (const [key, value] of Object.entries(nodes)) xs.write(`${front}/${key}`, value, tx);
      xs.mkdir(back, tx);
      xs.setPerms(back, ["n0", `r${this.domid}`], tx);
      xs.write(`${back}/frontend`, front, tx);
      xs.write(`${back}/frontend-id`, String(this.domid), tx);
      xs.write(`${back}/protocol`, "vt100", tx);
      xs.write(`${back}/state`, String(XenbusStateConnected), tx);
    });
    await this.#connect();
  }

  async #connect(): Promise<void> {
    const control = this.#ctx.control;
    const view = await control.foreignView(this.domid);
    const { mfn, port } = view.console!;
    const offset = (mfn - view.firstFrame) * 4096;
    if (mfn < view.firstFrame || offset + 4096 > view.buffer.byteLength) {
      throw new RangeError(`Console frame ${mfn} is not in domain ${this.domid}'s memory`);
    }
    const doorbell = await createDoorbell(control);
    const worker = new BackendWorker({
      url: CONSOLE_WORKER_URL,
      name: `console ${this.domid}`,
      permissions: {},
      watchdog: this.#ctx.watchdog,
      onEvent: (event) => {
        if (event.event === "output" && worker === this.#worker) {
          this.output.output(event.data as Uint8Array);
        }
      },
      onFailure: (reason) => {
        if (worker !== this.#worker) return;
        this.#ctx.log(`console ${this.domid}: worker lost (${reason}); restarting`);
        this.restarts++;
        this.#restart();
      },
    });
    this.#worker = worker;
    const bound = await control.bindBackend(this.domid, port, doorbell, 0);
    if (bound < 0) {
      worker.terminate();
      this.#worker = undefined;
      throw new RangeError(`Cannot bind domain ${this.domid}'s console port ${port} (${bound})`);
    }
    this.#port = bound;
    const args: ConsoleConnectArgs = {
      buffer: view.buffer,
      offset,
      doorbell: doorbell.buffer,
      wake: doorbell.wake.buffer,
      slot: 0,
      heartbeat: worker.heartbeat,
    };
    await worker.call("connect", args);
  }

  #restart(): void {
    const port = this.#port;
    this.#port = -1;
    this.#worker = undefined;
    this.#starting = (async () => {
      if (port > 0) await this.#ctx.control.unbindBackend(port).catch(() => {});
      if (!this.#closed) await this.#connect();
    })().catch((error) => this.#ctx.log(`console ${this.domid}: restart failed: ${error}`));
  }

  /** Sends typed input to the guest. */
  async input(bytes: Uint8Array): Promise<void> {
    await this.#starting;
    if (!this.#worker) throw new Error(`Console ${this.domid} is not running`);
    await this.#worker.call("input", bytes);
  }

  /** The backend's counters. */
  async metrics(): Promise<ConsoleMetrics | undefined> {
    await this.#starting;
    return await this.#worker?.call<ConsoleMetrics>("metrics");
  }

  /** Terminates the worker as a crash would (fault injection); the console recovers. */
  kill(): void {
    const worker = this.#worker;
    if (!worker) return;
    worker.terminate();
    this.restarts++;
    this.#restart();
  }

  /** Stops serving the console and removes its nodes. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#starting;
    const worker = this.#worker;
    this.#worker = undefined;
    worker?.terminate();
    if (this.#port > 0) await this.#ctx.control.unbindBackend(this.#port).catch(() => {});
    this.#port = -1;
    for (
      const path of [
        `/local/domain/${this.domid}/console`,
        `/local/domain/0/backend/console/${this.domid}`,
      ]
    ) {
      try {
        this.#ctx.xs.rm(path);
      } catch { /* already gone */ }
    }
  }
}
