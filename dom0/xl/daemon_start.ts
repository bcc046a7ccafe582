/**
 * Starting the toolstack daemon in the background with the least privilege it needs, and waiting
 * until it answers.
 *
 * Rules of use: call {@link ensureDaemon} before a request that may start it (`xl create`);
 * every other command only connects. The daemon's permissions are computed here, from the socket
 * path and the repository root, and nowhere else (see {@link daemonPermissions}).
 *
 * @module
 */

import { join } from "node:path";
import { prepareSocketDir, xenstoredSocketPath } from "./socket_path.ts";

/** The workspace members the pCPU worker's modules come from (it needs to read them). */
export const WORKER_PACKAGES: readonly string[] = [
  "hypervisor",
  "public",
  "mmu",
  "cpu",
  "elf",
  "events",
];

/** How long {@link ensureDaemon} waits for a new daemon to answer. */
export const DAEMON_START_TIMEOUT_MS = 20_000;

/**
 * The daemon's Deno permission flags: read and write in the socket's directory (the socket, its
 * log), net on `unix:<socket>` and its xenstored socket, read of the modules the worker loads,
 * nothing else.
 */
export function daemonPermissions(socket: string, socketDir: string, root: string): string[] {
  return [
    `--allow-read=${[socketDir, ...WORKER_PACKAGES.map((p) => join(root, p))].join(",")}`,
    `--allow-write=${socketDir}`,
    `--allow-net=unix:${socket},unix:${xenstoredSocketPath(socket)}`,
    "--no-prompt",
  ];
}

/** Whether a daemon answers on `socket`. */
export async function daemonAnswers(socket: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path: socket });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a daemon on `socket` unless one answers; resolves when it does. `root` is the
 * repository (where `deno.json` and `dom0/xl/xld.ts` are); `uid` checks the socket directory's
 * owner. Throws an Error with the daemon's last log lines if it does not come up.
 */
export async function ensureDaemon(
  socket: string,
  root: string,
  uid: number | null,
): Promise<{ started: boolean }> {
  if (await daemonAnswers(socket)) return { started: false };
  const dir = await prepareSocketDir(socket, uid);
  const log = join(dir, "xld.log");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...daemonPermissions(socket, dir, root),
      "--config",
      join(root, "deno.json"),
      join(root, "dom0", "xl", "xld.ts"),
      "--socket",
      socket,
      "--log",
      log,
    ],
    cwd: root,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  let exited: Deno.CommandStatus | undefined;
  child.status.then((status) => exited = status);
  const deadline = Date.now() + DAEMON_START_TIMEOUT_MS;
  try {
    for (;;) {
      if (await daemonAnswers(socket)) return { started: true };
      if (exited) {
        // Another daemon may have won a race for the socket and be answering by now.
        if (await daemonAnswers(socket)) return { started: false };
        throw new Error(
          `The toolstack daemon exited with status ${exited.code}:\n${await tail(log)}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `The toolstack daemon did not answer on ${socket} within ${
            DAEMON_START_TIMEOUT_MS / 1000
          } s:\n${await tail(log)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    // The daemon lives on after this process exits.
    child.unref();
  }
}

async function tail(file: string): Promise<string> {
  try {
    return (await Deno.readTextFile(file)).trimEnd().split("\n").slice(-10).join("\n");
  } catch {
    return `(no log at ${file})`;
  }
}
