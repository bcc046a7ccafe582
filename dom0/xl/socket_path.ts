/**
 * Where the toolstack daemon's socket lives, and making that place safe: the path comes from
 * `$PARAVIRT_XL_SOCKET`, else `$XDG_RUNTIME_DIR/paravirt/xl.sock`, else
 * `/tmp/paravirt-<uid>/xl.sock`. Its directory must be a real directory (not a symlink) that only
 * its owner can enter, so no other user can reach the socket or plant one.
 *
 * @module
 */

import { dirname, join } from "node:path";

/** The environment variable that overrides the socket path. */
export const SOCKET_ENV = "PARAVIRT_XL_SOCKET";

/** The default socket path for an environment (`get` reads a variable) and a user id. */
export function defaultSocketPath(
  get: (name: string) => string | undefined,
  uid: number | null,
): string {
  const explicit = get(SOCKET_ENV);
  if (explicit) return explicit;
  const runtime = get("XDG_RUNTIME_DIR");
  if (runtime) return join(runtime, "paravirt", "xl.sock");
  return `/tmp/paravirt-${uid ?? "user"}/xl.sock`;
}

/**
 * Creates the socket's directory (mode 0700) if needed and checks it: a directory, not a
 * symlink, with no access for group or others, owned by `uid` when given. Throws an Error saying
 * what is wrong.
 */
export async function prepareSocketDir(socket: string, uid: number | null): Promise<string> {
  const dir = dirname(socket);
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  const info = await Deno.lstat(dir);
  if (info.isSymlink || !info.isDirectory) {
    throw new Error(`The socket directory ${dir} is not a plain directory`);
  }
  if (uid !== null && info.uid !== null && info.uid !== uid) {
    throw new Error(`The socket directory ${dir} belongs to user ${info.uid}, not to you (${uid})`);
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new Error(
      `The socket directory ${dir} is open to other users (mode ${
        (info.mode & 0o777).toString(8)
      }); it must be 700`,
    );
  }
  return dir;
}

/**
 * Where the daemon serves xenstored for host tools: beside the xl socket. Debian's clients use it
 * with `XENSTORED_PATH=<this path> xenstore-ls`.
 */
export function xenstoredSocketPath(xlSocket: string): string {
  return `${xlSocket}.xenstored`;
}
