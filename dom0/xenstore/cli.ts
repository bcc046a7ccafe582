/**
 * `deno task xenstored --socket <path>`: runs xenstored standalone on a Unix socket, for host
 * tools (`XENSTORED_PATH=<path> xenstore-ls`). Prints `xenstored: listening on <path>` once the
 * socket accepts clients, and stops cleanly (removing the socket) on SIGINT or SIGTERM.
 *
 * Options: `--socket <path>` (required); `--quota <name>=<n>` (repeatable, names of `Quota`);
 * `--verbose` to log refused rings and control `print`s to stderr. A socket file left behind by
 * a dead daemon is replaced; a live one is refused.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Xenstored } from "./daemon.ts";
import { DEFAULT_QUOTA, type Quota } from "./quota.ts";
import { serveUnixSocket } from "./socket.ts";

function usage(message: string): never {
  console.error(`xenstored: ${message}`);
  console.error("usage: xenstored --socket <path> [--quota <name>=<n>]... [--verbose]");
  Deno.exit(2);
}

async function clearStaleSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch {
    return;
  }
  if (!info.isSocket) usage(`${path} exists and is not a socket`);
  try {
    const probe = await Deno.connect({ transport: "unix", path });
    probe.close();
    usage(`another xenstored is listening on ${path}`);
  } catch (error) {
    if (error instanceof Deno.errors.PermissionDenied) throw error;
    await Deno.remove(path);
  }
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    socket: { type: "string" },
    quota: { type: "string", multiple: true },
    verbose: { type: "boolean" },
  },
});
if (!values.socket) usage("--socket is required");
const quota: Record<string, number> = {};
for (const setting of values.quota ?? []) {
  const [name, value] = setting.split("=");
  if (!(name in DEFAULT_QUOTA) || !/^[0-9]+$/.test(value ?? "")) {
    usage(`bad quota "${setting}" (names: ${Object.keys(DEFAULT_QUOTA).join(", ")})`);
  }
  quota[name] = Number(value);
}

await clearStaleSocket(values.socket);
const daemon = new Xenstored({
  quota: quota as Partial<Quota>,
  log: values.verbose ? (line) => console.error(line) : undefined,
});
const server = serveUnixSocket(daemon, values.socket);
console.log(`xenstored: listening on ${values.socket}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.close();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
