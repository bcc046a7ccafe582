/**
 * A worker for the tests of `backend_worker.ts`: it reports what its permissions let it do, beats
 * its heartbeat until told to stop, and crashes on request.
 *
 * @module
 */

import { Heartbeat, serveWorker } from "@paravirt/drivers";

let beating = true;

async function attempt(action: () => unknown): Promise<string> {
  try {
    await action();
    return "allowed";
  } catch (error) {
    return (error as Error).name;
  }
}

serveWorker({
  start(args) {
    const heartbeat = new Heartbeat(args as SharedArrayBuffer);
    const beat = () => {
      if (!beating) return;
      heartbeat.beat();
      setTimeout(beat, 20);
    };
    beat();
    return null;
  },
  async probe(args) {
    const { allowed, denied } = args as { allowed: string; denied: string };
    return {
      readAllowed: await attempt(() => Deno.readTextFileSync(allowed)),
      readDenied: await attempt(() => Deno.readTextFileSync(denied)),
      write: await attempt(() => Deno.writeTextFileSync(allowed, "x")),
      env: await attempt(() => Deno.env.get("PATH")),
      net: await attempt(() => Deno.listen({ port: 0 }).close()),
      run: await attempt(() => new Deno.Command("true").outputSync()),
    };
  },
  stopBeating() {
    beating = false;
    return null;
  },
  crash() {
    setTimeout(() => {
      throw new Error("boom");
    }, 0);
    return null;
  },
  fail() {
    throw new RangeError("a handled failure");
  },
});
