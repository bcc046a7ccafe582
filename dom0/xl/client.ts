/**
 * The client side of the control protocol: connect to the daemon's socket, send requests, read
 * responses, and follow a console stream.
 *
 * Rules of use: one request at a time per client (responses come back in order); after
 * {@link XlClient.console} the connection carries only the console stream.
 *
 * @module
 */

import type { DomainSummary } from "@paravirt/hypervisor";
import {
  type ConsoleStreamEvent,
  readLines,
  toBase64,
  type XlRequest,
  type XlResponse,
  type XlResults,
} from "./protocol.ts";

/** No daemon answers on the socket. */
export class DaemonNotRunningError extends Error {
  /** The socket that was tried. */
  readonly socket: string;

  /** Creates the error for `socket`. */
  constructor(socket: string) {
    super(`The toolstack daemon is not running (nothing answers on ${socket})`);
    this.name = "DaemonNotRunningError";
    this.socket = socket;
  }
}

/** The daemon refused a request; the message is the daemon's. */
export class XlRequestError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "XlRequestError";
  }
}

/** A console stream. */
export interface ConsoleSession {
  /** The domain attached to. */
  readonly domain: DomainSummary;
  /** Output and the end of the stream, in order. */
  readonly events: AsyncIterable<ConsoleStreamEvent>;
  /** Sends typed bytes to the guest. */
  input(bytes: Uint8Array): Promise<void>;
  /** Detaches. */
  close(): void;
}

const encoder = new TextEncoder();

/** A connection to the toolstack daemon. */
export class XlClient {
  readonly #conn: Deno.Conn;
  readonly #lines: AsyncGenerator<string>;
  #closed = false;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.#lines = readLines(conn.readable);
  }

  /** Connects; throws {@link DaemonNotRunningError} when nothing answers. */
  static async connect(socket: string): Promise<XlClient> {
    try {
      return new XlClient(await Deno.connect({ transport: "unix", path: socket }));
    } catch (error) {
      if (
        error instanceof Deno.errors.NotFound || error instanceof Deno.errors.ConnectionRefused
      ) {
        throw new DaemonNotRunningError(socket);
      }
      throw error;
    }
  }

  async #write(message: XlRequest): Promise<void> {
    const bytes = encoder.encode(JSON.stringify(message) + "\n");
    for (let done = 0; done < bytes.length;) done += await this.#conn.write(bytes.subarray(done));
  }

  async #response(): Promise<unknown> {
    const next = await this.#lines.next();
    if (next.done) throw new XlRequestError("The daemon closed the connection");
    const response = JSON.parse(next.value) as XlResponse;
    if (!response.ok) throw new XlRequestError(response.error);
    return response.result;
  }

  /** Sends a request and returns its result; throws {@link XlRequestError} if refused. */
  async request<K extends Exclude<XlRequest["op"], "console" | "input">>(
    request: Extract<XlRequest, { op: K }>,
  ): Promise<XlResults[K]> {
    await this.#write(request);
    return await this.#response() as XlResults[K];
  }

  /** Attaches to a domain's console. */
  async console(domain: string): Promise<ConsoleSession> {
    await this.#write({ op: "console", domain });
    const attached = await this.#response() as DomainSummary;
    const lines = this.#lines;
    const events: AsyncIterable<ConsoleStreamEvent> = {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const next = await lines.next().catch(() => ({ done: true, value: undefined }));
          if (next.done) return;
          const message = JSON.parse(next.value as string) as ConsoleStreamEvent | XlResponse;
          if ("event" in message) {
            yield message;
            if (message.event === "end") return;
          }
        }
      },
    };
    return {
      domain: attached,
      events,
      input: (bytes) => this.#write({ op: "input", data: toBase64(bytes) }),
      close: () => this.close(),
    };
  }

  /** Closes the connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}
