/**
 * The supervisor's end of one network worker: starts it with an explicit permission set, sends
 * `start` and waits for `ready`, matches requests to replies by id, hands unsolicited reports to
 * a listener, and turns the worker's death into one `onExit` call — never into an exception in
 * the supervisor (an uncaught error in a worker would otherwise reach its parent).
 *
 * @module
 */

import type { WorkerPermissions, WorkerReply, WorkerRequest } from "./worker_protocol.ts";

type Report = Exclude<WorkerReply, { type: "reply" } | { type: "ready" } | { type: "error" }>;

/** A running worker (internal to the launchers). */
export class WorkerHandle {
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  #nextId = 1;
  #exit: string | undefined;
  #onExit: ((reason: string) => void) | undefined;
  #onReport: ((report: Report) => void) | undefined;
  #stopped: (() => void) | undefined;
  #ready: { resolve: () => void; reject: (e: Error) => void } | undefined;

  /** Starts the worker module `module` with `permissions`. */
  constructor(module: string | URL, permissions: WorkerPermissions, name: string) {
    this.#worker = new Worker(module, {
      type: "module",
      name,
      // deno-lint-ignore no-explicit-any
      deno: { permissions: permissions as any },
    });
    this.#worker.onmessage = (event: MessageEvent<WorkerReply>) => this.#receive(event.data);
    this.#worker.onerror = (event) => {
      event.preventDefault(); // the worker's failure must not become the supervisor's
      this.#die(`Worker failed: ${event.message}`);
    };
    this.#worker.onmessageerror = () => this.#die("Worker sent a message that cannot be read");
  }

  /** Sends `start` with `config`; resolves on `ready`, rejects on `error`, death or timeout. */
  start(config: unknown, timeoutMs: number): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => this.#ready = { resolve, reject });
    const timer = setTimeout(
      () => this.#die(`Worker did not start within ${timeoutMs} ms`),
      timeoutMs,
    );
    this.#worker.postMessage({ type: "start", config } as WorkerRequest);
    return ready.finally(() => clearTimeout(timer));
  }

  /** Listens for unsolicited reports and for the worker's end. */
  listen(onReport: (report: Report) => void, onExit: (reason: string) => void): void {
    this.#onReport = onReport;
    this.#onExit = onExit;
    if (this.#exit !== undefined) onExit(this.#exit);
  }

  /** Why the worker ended, or undefined while it runs. */
  get exited(): string | undefined {
    return this.#exit;
  }

  /** Sends a request and resolves with its reply's value (rejects on failure or timeout). */
  request(message: Record<string, unknown> & { type: string }, timeoutMs = 5000): Promise<unknown> {
    if (this.#exit !== undefined) return Promise.reject(new Error(this.#exit));
    const id = this.#nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`Worker did not answer ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.#worker.postMessage({ ...message, id });
    });
  }

  /** Asks the worker to stop and waits (then terminates it either way). */
  async stop(timeoutMs = 2000): Promise<void> {
    if (this.#exit === undefined) {
      const stopped = new Promise<void>((resolve) => this.#stopped = resolve);
      this.#worker.postMessage({ type: "stop" } as WorkerRequest);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([stopped, new Promise((r) => timer = setTimeout(r, timeoutMs))]);
      clearTimeout(timer);
    }
    this.#die("stopped");
  }

  /** Kills the worker at once. */
  terminate(reason = "terminated"): void {
    this.#die(reason);
  }

  #receive(reply: WorkerReply): void {
    switch (reply?.type) {
      case "ready":
        this.#ready?.resolve();
        this.#ready = undefined;
        return;
      case "error":
        this.#ready?.reject(new Error(reply.message));
        this.#ready = undefined;
        this.#die(`Worker failed to start: ${reply.message}`);
        return;
      case "reply": {
        const waiter = this.#pending.get(reply.id);
        this.#pending.delete(reply.id);
        if (!waiter) return;
        if (reply.ok) waiter.resolve(reply.value);
        else waiter.reject(new Error(reply.error ?? "Request failed"));
        return;
      }
      case "stopped":
        this.#stopped?.();
        return;
      default:
        if (reply) this.#onReport?.(reply);
    }
  }

  #die(reason: string): void {
    if (this.#exit !== undefined) return;
    this.#exit = reason;
    this.#worker.terminate();
    this.#ready?.reject(new Error(reason));
    this.#ready = undefined;
    for (const waiter of this.#pending.values()) waiter.reject(new Error(reason));
    this.#pending.clear();
    this.#stopped?.();
    this.#onExit?.(reason);
  }
}
