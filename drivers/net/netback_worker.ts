/// <reference lib="deno.worker" />
/**
 * The netback worker's entry point: one worker per vif, started by the device supervisor with no
 * host permissions at all (see `launch.ts`). It holds the frontend domain's region, its doorbell
 * and its bridge link — nothing else — and serves the vif until told to stop or until the
 * frontend is disconnected for a fatal protocol error.
 *
 * Protocol: `worker_protocol.ts` (`start` with a {@link NetbackConfig}; `metrics`, `ping`,
 * `stop`; reports `disconnected`).
 *
 * @module
 */

import { Doorbell } from "@paravirt/events";
import { Netback } from "./netback.ts";
import type { NetbackConfig, WorkerReply, WorkerRequest } from "./worker_protocol.ts";

let netback: Netback | undefined;
let running: Promise<void> | undefined;

function post(message: WorkerReply): void {
  self.postMessage(message);
}

function start(config: NetbackConfig): void {
  try {
    netback = new Netback({
      source: config.source,
      doorbell: Doorbell.from(config.doorbell, config.wake),
      txSlot: config.txSlot,
      rxSlot: config.rxSlot,
      txRingRef: config.txRingRef,
      rxRingRef: config.rxRingRef,
      link: config.link,
      sg: config.sg,
      maxFrame: config.maxFrame,
      ledger: config.ledger,
      onDisconnect: (reason) => post({ type: "disconnected", reason }),
    });
  } catch (error) {
    post({ type: "error", message: error instanceof Error ? error.message : String(error) });
    return;
  }
  post({ type: "ready" });
  running = netback.run();
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const message = event.data;
  switch (message?.type) {
    case "start":
      if (!netback) start(message.config as NetbackConfig);
      return;
    case "metrics":
      post({ type: "reply", id: message.id, ok: true, value: { ...netback?.metrics } });
      return;
    case "ping":
      post({ type: "reply", id: message.id, ok: true });
      return;
    case "stop":
      netback?.stop();
      await running;
      post({ type: "stopped" });
      return;
    default:
      if (message && "id" in message) {
        post({ type: "reply", id: message.id, ok: false, error: `Unknown request` });
      }
  }
};
