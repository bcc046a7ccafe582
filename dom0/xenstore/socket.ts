/**
 * xenstored on a Unix socket, for host tools: every client is privileged (dom0), as on Xen,
 * where the socket is only reachable by root. Debian's `xenstore-*` tools and libxenstore
 * connect to it when `XENSTORED_PATH` names the socket.
 *
 * Rules of use: a client that announces a payload over XENSTORE_PAYLOAD_MAX is disconnected
 * (the protocol's rule). A client that stops reading is not read from either once
 * `maxQueuedBytes` of replies wait for it, and its watch events are dropped meanwhile. Closing
 * the server closes every client and removes the socket file.
 *
 * @module
 */

import type { Connection, Xenstored } from "./daemon.ts";
import { MessageAssembler } from "./wire.ts";

/** Options of {@link serveUnixSocket}. */
export interface UnixSocketOptions {
  /** Bytes queued for one client beyond which it is not read and its events drop (1 MiB). */
  maxQueuedBytes?: number;
}

/** A running socket server. */
export interface UnixSocketServer {
  /** The socket's path. */
  readonly path: string;
  /** Clients connected now. */
  readonly clients: number;
  /** Watch events dropped because a client was not reading. */
  readonly droppedEvents: number;
  /** Stops listening, disconnects every client and removes the socket file. */
  close(): Promise<void>;
}

/**
 * Listens on the Unix socket `path` (which must not exist) and serves `daemon` to every client.
 */
export function serveUnixSocket(
  daemon: Xenstored,
  path: string,
  options: UnixSocketOptions = {},
): UnixSocketServer {
  const maxQueued = options.maxQueuedBytes ?? 1 << 20;
  const listener = Deno.listen({ transport: "unix", path });
  const open = new Set<Deno.Conn>();
  const served = new Set<Promise<void>>();
  const wakers = new Set<() => void>();
  let dropped = 0;
  let count = 0;
  let closing = false;

  const serve = async (socket: Deno.Conn) => {
    const out: Uint8Array[] = [];
    let queued = 0;
    let writing: Promise<void> | undefined;
    let drained: (() => void) | undefined;
    const client: Connection = daemon.connect({
      domid: 0,
      privileged: true,
      label: `socket client ${++count}`,
      deliver: (message, event) => {
        if (event && queued > maxQueued) {
          dropped++;
          return;
        }
        out.push(message);
        queued += message.length;
        writing ??= writeOut();
      },
    });
    const writeOut = async () => {
      try {
        while (out.length > 0) {
          const message = out.shift()!;
          for (let at = 0; at < message.length;) at += await socket.write(message.subarray(at));
          queued -= message.length;
          if (queued <= maxQueued) drained?.();
        }
      } catch {
        // The client went away; the read side notices and cleans up.
        out.length = 0;
        drained?.();
        try {
          socket.close();
        } catch { /* already closed */ }
      } finally {
        writing = undefined;
      }
    };
    const assembler = new MessageAssembler();
    const buffer = new Uint8Array(65536);
    try {
      while (!client.closed) {
        if (queued > maxQueued) {
          await new Promise<void>((resolve) => {
            drained = resolve;
            wakers.add(resolve);
          });
          if (drained) wakers.delete(drained);
          drained = undefined;
          if (closing) break;
        }
        const n = await socket.read(buffer);
        if (n === null) break;
        assembler.push(buffer.subarray(0, n), (message) => daemon.handle(client, message));
      }
    } catch {
      // An oversized message or a broken socket: drop the client.
    } finally {
      // Stop taking requests, but let the answers already given reach the client first.
      daemon.disconnect(client);
      while (writing && !closing) await writing;
      open.delete(socket);
      try {
        socket.close();
      } catch { /* already closed */ }
    }
  };

  const accepting = (async () => {
    try {
      for await (const socket of listener) {
        if (closing) {
          socket.close();
          break;
        }
        open.add(socket);
        const done = serve(socket);
        served.add(done);
        void done.finally(() => served.delete(done));
      }
    } catch (error) {
      if (!closing) throw error;
    }
  })();

  return {
    path,
    get clients() {
      return open.size;
    },
    get droppedEvents() {
      return dropped;
    },
    async close() {
      if (closing) return;
      closing = true;
      listener.close();
      for (const wake of wakers) wake();
      for (const socket of open) {
        try {
          socket.close();
        } catch { /* already closed */ }
      }
      await accepting;
      await Promise.allSettled([...served]);
      try {
        await Deno.remove(path);
      } catch { /* gone already */ }
    },
  };
}
