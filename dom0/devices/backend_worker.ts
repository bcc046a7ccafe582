/**
 * The supervisor's handle on one backend worker: starts it with an explicit permission set,
 * sends it requests (`@paravirt/drivers`' worker protocol), hears its events, and watches it —
 * an uncaught error, an unexpected exit or a heartbeat that stops for the watchdog's timeout ends
 * the worker and is reported once through {@link BackendWorkerOptions.onFailure}.
 *
 * Rules of use: every permission not listed is denied, and prompts never happen in a worker (a
 * denied access throws `NotCapable`). Module loading is checked against this process's
 * permissions, not the worker's, so a worker with no read permission still loads its code.
 *
 * @module
 */

import type { BackendEvent, BackendReply } from "@paravirt/drivers";

/** What a backend worker may touch on the host. Anything absent is denied. */
export interface WorkerPermissions {
  /** Paths it may read. */
  readonly read?: readonly string[];
  /** Paths it may write. */
  readonly write?: readonly string[];
  /** Hosts (`host:port`) it may connect to or listen on. */
  readonly net?: readonly string[];
}

/** The heartbeat watchdog's timing. */
export interface WatchdogOptions {
  /** How often the heartbeat is read (ms, default 250). */
  readonly intervalMs?: number;
  /** How long it may stand still before the worker counts as hung (ms, default 5000). */
  readonly timeoutMs?: number;
}

/** How to start a backend worker. */
export interface BackendWorkerOptions {
  /** The worker module's URL. */
  readonly url: string;
  /** A name for messages (`vbd 1/51712`). */
  readonly name: string;
  /** Its host permissions. */
  readonly permissions: WorkerPermissions;
  /** The watchdog's timing. */
  readonly watchdog?: WatchdogOptions;
  /** Receives the worker's events. */
  onEvent?(event: BackendEvent): void;
  /** Called once if the worker crashes, exits or hangs (not after {@link BackendWorker.terminate}). */
  onFailure?(reason: string): void;
}

interface Call {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** A running backend worker. */
export class BackendWorker {
  /** The heartbeat word the worker bumps (hand it over in its first request). */
  readonly heartbeat: SharedArrayBuffer = new SharedArrayBuffer(4);
  /** The worker's name. */
  readonly name: string;
  readonly #worker: Worker;
  readonly #options: BackendWorkerOptions;
  readonly #calls = new Map<number, Call>();
  readonly #beat = new Int32Array(this.heartbeat);
  #nextId = 1;
  #alive = true;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #lastBeat = 0;
  #lastChange = 0;
  #armed = false;

  /** Starts the worker. */
  constructor(options: BackendWorkerOptions) {
    this.#options = options;
    this.name = options.name;
    const p = options.permissions;
    this.#worker = new Worker(options.url, {
      type: "module",
      name: options.name,
      deno: {
        permissions: {
          read: p.read && p.read.length > 0 ? [...p.read] : false,
          write: p.write && p.write.length > 0 ? [...p.write] : false,
          net: p.net && p.net.length > 0 ? [...p.net] : false,
          env: false,
          run: false,
          ffi: false,
          sys: false,
          import: false,
        },
      },
    });
    this.#worker.onmessage = (message) => this.#receive(message.data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(`crashed: ${event.message}`);
    };
    this.#worker.onmessageerror = () => this.#fail("sent a message that cannot be read");
    const interval = options.watchdog?.intervalMs ?? 250;
    this.#watchdog = setInterval(() => this.#check(), interval);
  }

  /** Whether the worker is running. */
  get alive(): boolean {
    return this.#alive;
  }

  /** Sends request `op` and resolves with its value; rejects on an error or if the worker dies. */
  call<T = unknown>(
    op: string,
    args?: unknown,
    options: { timeoutMs?: number; transfer?: Transferable[] } = {},
  ): Promise<T> {
    if (!this.#alive) return Promise.reject(new Error(`Backend ${this.name} is not running`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        this.#calls.delete(id);
        reject(new Error(`Backend ${this.name} did not answer "${op}" in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#calls.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.#worker.postMessage({ id, op, args }, options.transfer ?? []);
    });
  }

  #receive(data: unknown): void {
    if (typeof data !== "object" || data === null) return;
    if ("event" in data) {
      try {
        this.#options.onEvent?.(data as BackendEvent);
      } catch (error) {
        console.error(`event handler of ${this.name} failed:`, error);
      }
      return;
    }
    const reply = data as BackendReply;
    const call = this.#calls.get(reply.id);
    if (!call) return;
    this.#calls.delete(reply.id);
    clearTimeout(call.timer);
    if (reply.ok) call.resolve(reply.value);
    else call.reject(new Error(`Backend ${this.name}: ${reply.error}`));
  }

  #check(): void {
    if (!this.#alive) return;
    const now = performance.now();
    const beat = Atomics.load(this.#beat, 0);
    if (beat !== this.#lastBeat) {
      this.#lastBeat = beat;
      this.#lastChange = now;
      this.#armed = true; // the worker is up: from now on it must keep beating
      return;
    }
    const timeout = this.#options.watchdog?.timeoutMs ?? 5000;
    if (this.#armed && now - this.#lastChange > timeout) {
      this.#fail(`hung: no heartbeat for ${Math.round(now - this.#lastChange)} ms`);
    }
  }

  #fail(reason: string): void {
    if (!this.#alive) return;
    this.#stop(new Error(`Backend ${this.name} ${reason}`));
    this.#options.onFailure?.(reason);
  }

  #stop(error: Error): void {
    this.#alive = false;
    clearInterval(this.#watchdog);
    this.#worker.terminate();
    for (const call of this.#calls.values()) {
      clearTimeout(call.timer);
      call.reject(error);
    }
    this.#calls.clear();
  }

  /** Ends the worker at once (no failure is reported). */
  terminate(): void {
    if (this.#alive) this.#stop(new Error(`Backend ${this.name} was terminated`));
  }
}
