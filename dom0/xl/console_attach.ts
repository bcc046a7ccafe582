/**
 * `xl console`: a console stream on the terminal. Output streams to stdout; typed input goes to
 * the guest; `Ctrl-]` detaches (as Xen's xenconsole). On a terminal, stdin is put in raw mode and
 * restored afterwards (Deno's raw mode keeps output processing, so `\n` still starts a new line).
 *
 * Rules of use: returns when the domain shuts down or is destroyed, when the user detaches, or
 * when the daemon stops. When stdin is not a terminal and reaches its end, output keeps streaming
 * until the domain ends (so scripts can read a console).
 *
 * @module
 */

import type { ConsoleSession } from "./client.ts";
import { fromBase64 } from "./protocol.ts";

/** The byte `Ctrl-]` sends. */
export const DETACH_BYTE = 0x1d;

/** How a console session ended. */
export type ConsoleEnd = "shutdown" | "destroyed" | "stopped" | "detached" | "disconnected";

/** Runs a console session on stdin/stdout; resolves with how it ended. */
export async function runConsole(session: ConsoleSession): Promise<ConsoleEnd> {
  const terminal = Deno.stdin.isTerminal();
  if (terminal) Deno.stdin.setRaw(true);
  let detached = false;
  let detach: () => void = () => {};
  const detachedSignal = new Promise<void>((resolve) => detach = resolve);

  const pumpInput = async () => {
    const buffer = new Uint8Array(1024);
    for (;;) {
      let n: number | null;
      try {
        n = await Deno.stdin.read(buffer);
      } catch {
        return;
      }
      if (n === null) return;
      const chunk = buffer.subarray(0, n);
      const at = chunk.indexOf(DETACH_BYTE);
      const send = at < 0 ? chunk : chunk.subarray(0, at);
      if (send.length > 0) {
        try {
          await session.input(send.slice());
        } catch {
          return;
        }
      }
      if (at >= 0) {
        detached = true;
        detach();
        return;
      }
    }
  };

  const pumpOutput = async (): Promise<ConsoleEnd> => {
    for await (const event of session.events) {
      if (event.event === "end") return event.why;
      const bytes = fromBase64(event.data);
      for (let done = 0; done < bytes.length;) {
        done += await Deno.stdout.write(bytes.subarray(done));
      }
    }
    return "disconnected";
  };

  pumpInput();
  try {
    const end = await Promise.race([pumpOutput(), detachedSignal.then(() => "detached" as const)]);
    return detached ? "detached" : end;
  } finally {
    session.close();
    if (terminal) Deno.stdin.setRaw(false);
  }
}
