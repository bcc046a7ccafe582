/**
 * The console backend worker: one per domain console, started by the device supervisor with no
 * permissions at all. It serves the console page named in the domain's start-info with
 * {@link ConsoleBack}, posts the guest's output as `output` events, and takes typed input with the
 * `input` request.
 *
 * Requests: `connect` ({@link ConsoleConnectArgs}), `input` (a Uint8Array), `metrics`,
 * `disconnect`.
 *
 * @module
 */

import { Doorbell } from "@paravirt/events";
import { Heartbeat, serveWorker } from "../worker_protocol.ts";
import { ConsoleBack } from "./console_back.ts";
import type { ConsoleConnectArgs } from "./messages.ts";

let engine: ConsoleBack | undefined;

const emit = serveWorker({
  connect(args) {
    const a = args as ConsoleConnectArgs;
    if (engine) throw new Error("Already connected");
    const doorbell = Doorbell.from(a.doorbell, a.wake);
    const heartbeat = new Heartbeat(a.heartbeat);
    const current = new ConsoleBack(a.buffer, a.offset, {
      notify: () => doorbell.kick(a.slot),
      onOutput: (bytes) => emit("output", bytes),
    });
    engine = current;
    (async () => {
      current.onEvent(); // output written before we started
      while (engine === current) {
        heartbeat.beat();
        await doorbell.wait(100);
        if ((doorbell.takeRings() & (1 << a.slot)) !== 0) current.onEvent();
      }
    })();
    return null;
  },
  input(args) {
    if (!engine) throw new Error("Not connected");
    if (!(args instanceof Uint8Array)) throw new TypeError("Console input must be a Uint8Array");
    engine.input(args);
    return null;
  },
  metrics() {
    return engine ? { ...engine.metrics, queuedInput: engine.queuedInput } : null;
  },
  disconnect() {
    engine = undefined;
    return null;
  },
});
