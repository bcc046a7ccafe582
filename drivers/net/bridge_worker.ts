/// <reference lib="deno.worker" />
/**
 * The bridge worker's entry point: one worker per bridge, started by the device supervisor with
 * no host permissions (see `launch.ts`). It loads its filter chain, then pumps frames between the
 * ports the supervisor attaches, reporting broken ports and filter alerts.
 *
 * Protocol: `worker_protocol.ts` (`start` with a {@link BridgeConfig}; `attach`, `detach`,
 * `metrics`, `save`, `ping`, `stop`; reports `port-error` and `alerts`).
 *
 * @module
 */

import { Bridge } from "./bridge.ts";
import { type FilterModules, loadFilterChain } from "./filter_loader.ts";
import type { BridgeConfig, WorkerReply, WorkerRequest } from "./worker_protocol.ts";

let bridge: Bridge | undefined;
let running: Promise<void> | undefined;
let pendingState: BridgeConfig["state"];
let preloaded: FilterModules = {};

/**
 * Hands the worker the filter modules its configuration names, loaded ahead by its entry module
 * (see `BridgeWorker.start`), so the worker itself never reads a file.
 */
export function registerFilterModules(modules: FilterModules): void {
  preloaded = modules;
}

function post(message: WorkerReply): void {
  self.postMessage(message);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function start(config: BridgeConfig): Promise<void> {
  try {
    const filters = await loadFilterChain(config.filters ?? [], config.filterBase, preloaded);
    bridge = new Bridge({
      name: config.name,
      bell: config.bell,
      filters,
      macTable: config.macTable,
      onPortError: (port, reason) => post({ type: "port-error", port, reason }),
      onAlert: (alerts) => post({ type: "alerts", alerts }),
    });
  } catch (error) {
    post({ type: "error", message: describe(error) });
    return;
  }
  pendingState = config.state;
  post({ type: "ready" });
  running = bridge.run();
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const message = event.data;
  if (message?.type === "start") {
    if (!bridge) await start(message.config as BridgeConfig);
    return;
  }
  if (message?.type === "stop") {
    bridge?.stop();
    await running;
    post({ type: "stopped" });
    return;
  }
  if (!message || !("id" in message)) return;
  const { id } = message;
  try {
    if (!bridge) throw new Error("The bridge has not started");
    switch (message.type) {
      case "attach":
        bridge.attach(message.name, message.link);
        // Learned addresses of a restarted bridge come back as their ports reappear.
        if (pendingState) bridge.restore(pendingState);
        post({ type: "reply", id, ok: true });
        return;
      case "detach":
        post({ type: "reply", id, ok: true, value: bridge.detach(message.name) });
        return;
      case "metrics":
        post({ type: "reply", id, ok: true, value: bridge.metrics() });
        return;
      case "save":
        post({ type: "reply", id, ok: true, value: bridge.save() });
        return;
      case "ping":
        post({ type: "reply", id, ok: true });
        return;
      default:
        throw new Error(`Unknown request ${JSON.stringify((message as { type: unknown }).type)}`);
    }
  } catch (error) {
    post({ type: "reply", id, ok: false, error: describe(error) });
  }
};
