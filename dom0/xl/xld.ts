/**
 * The toolstack daemon: one process that owns the pCPU (the hypervisor in a worker) and serves
 * `xl` on a Unix socket. `xl create` starts it in the background when none runs; it runs until
 * `xl daemon stop` or SIGTERM/SIGINT, which destroy every domain.
 *
 * Usage: `deno run <permissions> dom0/xl/xld.ts --socket <path> [--log <file>]`. It also serves
 * xenstored at `<path>.xenstored` for host tools (`XENSTORED_PATH=<path>.xenstored xenstore-ls`).
 *
 * Least privilege (what `xl` starts it with, see README): read and write on the socket's
 * directory only, net on `unix:<socket>` only, read on the packages the pCPU worker loads, and
 * nothing else — no env, no run, no other files. It never opens a config or a kernel: `xl` reads
 * those as the user and sends the bytes.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Toolstack } from "./toolstack.ts";
import { ToolstackServer } from "./server.ts";
import { prepareSocketDir, xenstoredSocketPath } from "./socket_path.ts";
import { serveUnixSocket } from "../xenstore/socket.ts";

/** Runs the daemon; resolves with its exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { socket: { type: "string" }, log: { type: "string" } },
    strict: true,
  });
  const socket = values.socket;
  if (!socket) {
    console.error("xld: --socket <path> is required");
    return 2;
  }
  const logFile = values.log
    ? await Deno.open(values.log, { append: true, create: true, mode: 0o600 })
    : undefined;
  const encoder = new TextEncoder();
  const log = (line: string) => {
    const stamped = `${new Date().toISOString()} ${line}\n`;
    if (logFile) logFile.writeSync(encoder.encode(stamped));
    else Deno.stderr.writeSync(encoder.encode(stamped));
  };
  try {
    await prepareSocketDir(socket, null);
    if (await answers(socket)) {
      log(`xld: another daemon already serves ${socket}`);
      return 0;
    }
    try {
      await Deno.remove(socket);
      log(`xld: removed the stale socket ${socket}`);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const listener = Deno.listen({ transport: "unix", path: socket });
    await Deno.chmod(socket, 0o600);
    const toolstack = new Toolstack({ log });
    await toolstack.pcpu.ready;
    // xenstored for host tools, beside the xl socket (a stale one from a dead daemon goes).
    const xsSocket = xenstoredSocketPath(socket);
    await Deno.remove(xsSocket).catch(() => {});
    const xenstore = serveUnixSocket(toolstack.xenstored, xsSocket);
    await Deno.chmod(xsSocket, 0o600);
    const server = new ToolstackServer(toolstack, listener, { socket, log });
    const stop = () => server.stop();
    Deno.addSignalListener("SIGTERM", stop);
    Deno.addSignalListener("SIGINT", stop);
    log(`xld: serving ${socket} (pid ${Deno.pid})`);
    await server.stopped;
    await xenstore.close();
    Deno.removeSignalListener("SIGTERM", stop);
    Deno.removeSignalListener("SIGINT", stop);
    try {
      await Deno.remove(socket);
    } catch {
      // Someone removed it already.
    }
    log("xld: stopped");
    return 0;
  } catch (error) {
    log(`xld: ${error instanceof Error ? error.message : error}`);
    return 1;
  } finally {
    logFile?.close();
  }
}

/** Whether a daemon answers on `socket`. */
async function answers(socket: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path: socket });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
