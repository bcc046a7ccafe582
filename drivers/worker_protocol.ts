/**
 * How the device supervisor (dom0) and a backend worker talk: requests with ids and their
 * replies, unsolicited events from the worker, and a heartbeat word the supervisor's watchdog
 * reads. Both sides use this file; the worker side is {@link serveWorker}, the supervisor side is
 * `BackendWorker` in `@paravirt/dom0`.
 *
 * Rules of use: every message is structured-cloneable (SharedArrayBuffers are shared, not
 * copied). A handler that throws answers its request with the error's message; it does not kill
 * the worker. The heartbeat is a counter the worker bumps while it is healthy; a worker that stops
 * bumping it for the watchdog's timeout is considered hung and is terminated.
 *
 * @module
 */

/** A request from the supervisor. */
export interface BackendRequest {
  /** Matches the reply to the request. */
  readonly id: number;
  /** What to do. */
  readonly op: string;
  /** Its arguments. */
  readonly args?: unknown;
}

/** A worker's answer to one request. */
export interface BackendReply {
  /** The request's id. */
  readonly id: number;
  /** Whether it succeeded. */
  readonly ok: boolean;
  /** The result, when it did. */
  readonly value?: unknown;
  /** The error message, when it did not. */
  readonly error?: string;
}

/** Something the worker reports on its own (`fatal`, `ring-error`, `retain`, `output`, ...). */
export interface BackendEvent {
  /** The event's name. */
  readonly event: string;
  /** Its data. */
  readonly data?: unknown;
}

/** A handler of one request type, in the worker. */
export type BackendHandler = (args: unknown) => unknown | Promise<unknown>;

/** The worker's end of the heartbeat: a shared counter. */
export class Heartbeat {
  readonly #word: Int32Array;

  /** Wraps the buffer the supervisor handed over (4 bytes at least). */
  constructor(buffer: SharedArrayBuffer) {
    this.#word = new Int32Array(buffer, 0, 1);
  }

  /** Says "still alive". */
  beat(): void {
    Atomics.add(this.#word, 0, 1);
  }

  /** The current count (the supervisor compares successive reads). */
  get count(): number {
    return Atomics.load(this.#word, 0);
  }
}

/** The scope a worker module runs in (just what {@link serveWorker} uses). */
export interface WorkerScope {
  /** Receives the supervisor's messages. */
  onmessage: ((event: MessageEvent) => void) | null;
  /** Sends to the supervisor. */
  postMessage(message: unknown): void;
}

/**
 * Serves requests in a worker: each message `{id, op, args}` runs `handlers[op]` and is answered
 * with `{id, ok, value | error}`. Returns a function that posts an unsolicited {@link BackendEvent}.
 */
export function serveWorker(
  handlers: Readonly<Record<string, BackendHandler>>,
  scope: WorkerScope = globalThis as unknown as WorkerScope,
): (event: string, data?: unknown) => void {
  scope.onmessage = async (message: MessageEvent) => {
    const request = message.data as BackendRequest;
    const handler = Object.hasOwn(handlers, request.op) ? handlers[request.op] : undefined;
    let reply: BackendReply;
    try {
      if (!handler) throw new TypeError(`Unknown worker request "${request.op}"`);
      reply = { id: request.id, ok: true, value: await handler(request.args) };
    } catch (error) {
      reply = {
        id: request.id,
        ok: false,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    }
    scope.postMessage(reply);
  };
  return (event, data) => scope.postMessage({ event, data } satisfies BackendEvent);
}
