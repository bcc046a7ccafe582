/**
 * Serves the control protocol (`protocol.ts`) for a {@link Toolstack} on a Unix socket: each
 * connection sends requests and reads responses in order; `console` turns it into a stream.
 *
 * Rules of use:
 * - A client is untrusted: a malformed line gets an error response, a line over the limit or a
 *   console reader that falls more than {@link MAX_CONSOLE_BACKLOG} bytes behind is disconnected;
 *   nothing a client does stops the daemon or another client.
 * - `stop` answers, destroys every domain, closes the listener, and resolves
 *   {@link ToolstackServer.stopped}.
 *
 * @module
 */

import process from "node:process";
import { SHUTDOWN_reboot } from "@paravirt/public";
import { TIMESLICE_NS } from "@paravirt/hypervisor";
import type { Toolstack } from "./toolstack.ts";
import {
  type ConsoleStreamEvent,
  type DaemonStatus,
  fromBase64,
  parseRequest,
  readLines,
  toBase64,
  type XlRequest,
  type XlResponse,
  type XlResults,
} from "./protocol.ts";

/** Console bytes a slow client may have queued before it is disconnected. */
export const MAX_CONSOLE_BACKLOG = 1 << 20;

const encoder = new TextEncoder();

/** One client connection, with ordered writes and a byte count of what is queued. */
class Client {
  readonly #conn: Deno.Conn;
  #writing: Promise<void> = Promise.resolve();
  #queued = 0;
  #closed = false;
  /** Whether the connection is a console stream. */
  console = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  get queued(): number {
    return this.#queued;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(message: XlResponse | ConsoleStreamEvent): Promise<void> {
    if (this.#closed) return this.#writing;
    const bytes = encoder.encode(JSON.stringify(message) + "\n");
    this.#queued += bytes.length;
    this.#writing = this.#writing.then(async () => {
      try {
        for (let done = 0; done < bytes.length && !this.#closed;) {
          done += await this.#conn.write(bytes.subarray(done));
        }
      } catch {
        this.close();
      } finally {
        this.#queued -= bytes.length;
      }
    });
    return this.#writing;
  }

  async drain(): Promise<void> {
    await this.#writing;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
  }
}

/** Options for {@link ToolstackServer}. */
export interface ToolstackServerOptions {
  /** The socket path (reported by `status`). */
  socket: string;
  /** Log lines. */
  log?: (line: string) => void;
}

/** The daemon's socket service. */
export class ToolstackServer {
  readonly #toolstack: Toolstack;
  readonly #listener: Deno.Listener;
  readonly #socket: string;
  readonly #log: (line: string) => void;
  readonly #clients = new Set<Client>();
  readonly #stopped: Promise<void>;
  #resolveStopped: () => void = () => {};
  #stopping = false;

  /** Starts accepting connections on `listener`. */
  constructor(toolstack: Toolstack, listener: Deno.Listener, options: ToolstackServerOptions) {
    this.#toolstack = toolstack;
    this.#listener = listener;
    this.#socket = options.socket;
    this.#log = options.log ?? (() => {});
    this.#stopped = new Promise((resolve) => this.#resolveStopped = resolve);
    this.#accept();
  }

  /** Resolves once a `stop` request (or {@link stop}) has finished. */
  get stopped(): Promise<void> {
    return this.#stopped;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) this.#serve(conn);
    } catch (error) {
      if (!this.#stopping) this.#log(`xl: listener failed: ${error}`);
    }
  }

  /** The daemon's own status (Domain-0's row of `xl list`). */
  async status(): Promise<DaemonStatus> {
    const { guestCpuTimeNs } = await this.#toolstack.info();
    return {
      pid: Deno.pid,
      socket: this.#socket,
      startedAt: this.#toolstack.startedAt,
      rssBytes: Deno.memoryUsage().rss,
      cpuTimeNs: dom0CpuTimeNs(guestCpuTimeNs),
    };
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const client = new Client(conn);
    this.#clients.add(client);
    let detach: (() => void) | undefined;
    let consoleDomain: number | undefined;
    try {
      for await (const line of readLines(conn.readable)) {
        if (client.closed) break;
        let request: XlRequest;
        try {
          request = parseRequest(JSON.parse(line));
        } catch (error) {
          await client.send({ ok: false, error: messageOf(error) });
          continue;
        }
        if (consoleDomain !== undefined) {
          if (request.op !== "input") {
            await client.send({ ok: false, error: "Only input is accepted on a console stream" });
            continue;
          }
          try {
            await this.#toolstack.consoleInput(consoleDomain, fromBase64(request.data));
          } catch {
            // The domain went away; the end event says so.
          }
          continue;
        }
        if (request.op === "console") {
          // Events wait until the response has been queued (history is replayed at once).
          let early: ConsoleStreamEvent[] | undefined = [];
          const forward = (event: ConsoleStreamEvent) => {
            if (early) early.push(event);
            else if (event.event === "end") client.send(event).then(() => client.close());
            else if (client.queued > MAX_CONSOLE_BACKLOG) {
              this.#log("xl: a console client fell too far behind; disconnected");
              client.close();
            } else client.send(event);
          };
          try {
            const attached = await this.#toolstack.attach(request.domain, (event) =>
              forward(
                event.kind === "output"
                  ? { event: "output", data: toBase64(event.bytes) }
                  : { event: "end", why: event.why },
              ));
            detach = attached.detach;
            consoleDomain = attached.domain.id;
            client.console = true;
            client.send({ ok: true, result: attached.domain });
            const queued = early;
            early = undefined;
            for (const event of queued) forward(event);
          } catch (error) {
            await client.send({ ok: false, error: messageOf(error) });
          }
          continue;
        }
        await client.send(await this.#respond(request));
        if (request.op === "stop") {
          await client.drain();
          await this.stop();
          return;
        }
      }
    } catch (error) {
      this.#log(`xl: client dropped: ${messageOf(error)}`);
    } finally {
      detach?.();
      await client.drain();
      client.close();
      this.#clients.delete(client);
    }
  }

  async #respond(request: XlRequest): Promise<XlResponse> {
    try {
      return { ok: true, result: await this.#run(request) };
    } catch (error) {
      return { ok: false, error: messageOf(error) };
    }
  }

  async #run(request: XlRequest): Promise<XlResults[keyof XlResults]> {
    const ts = this.#toolstack;
    switch (request.op) {
      case "create": {
        const result: XlResults["create"] = await ts.create(
          request.config,
          fromBase64(request.kernel),
          {
            ramdisk: request.ramdisk === undefined ? undefined : fromBase64(request.ramdisk),
            paused: request.paused,
          },
        );
        return result;
      }
      case "list": {
        const domains = request.domain === undefined
          ? await ts.list()
          : [await ts.find(request.domain)];
        const result: XlResults["list"] = { domains, dom0: await this.status() };
        return result;
      }
      case "destroy":
        await ts.destroy(request.domain);
        return null;
      case "pause":
        return await ts.pause(request.domain);
      case "unpause":
        return await ts.unpause(request.domain);
      case "shutdown":
        return await ts.shutdown(request.domain, request.reboot ? SHUTDOWN_reboot : undefined);
      case "sched-credit": {
        const setting = request.weight !== undefined || request.cap !== undefined;
        if (setting && request.domain === undefined) {
          throw new RangeError("Setting a weight or cap needs a domain (-d)");
        }
        if (setting) {
          await ts.schedSet(request.domain!, { weight: request.weight, cap: request.cap });
        }
        const result: XlResults["sched-credit"] = {
          entries: setting ? [] : await ts.schedGet(request.domain),
          timesliceMs: TIMESLICE_NS / 1e6,
        };
        return result;
      }
      case "dmesg":
        return await ts.dmesg();
      case "info": {
        const result: XlResults["info"] = { host: await ts.info(), dom0: await this.status() };
        return result;
      }
      case "status":
        return await this.status();
      case "stop":
        return null;
      case "console":
      case "input":
        throw new TypeError(`"${request.op}" is only valid on a console stream`);
    }
  }

  /** Ends every console stream, destroys every domain, and closes the socket. */
  async stop(): Promise<void> {
    if (this.#stopping) return await this.#stopped;
    this.#stopping = true;
    this.#log("xl: stopping: destroying every domain");
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const client of this.#clients) {
      if (client.console) await client.send({ event: "end", why: "stopped" });
      client.close();
    }
    await this.#toolstack.close();
    this.#resolveStopped();
  }
}

/**
 * Domain 0's CPU time in a process that also hosts the pCPU: the process's CPU time less what was
 * charged to guests (ns).
 */
export function dom0CpuTimeNs(guestCpuTimeNs: number): number {
  const cpu = process.cpuUsage();
  return Math.max(0, (cpu.user + cpu.system) * 1000 - guestCpuTimeNs);
}

function messageOf(error: unknown): string {
  if (error instanceof SyntaxError) return `Malformed request: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
