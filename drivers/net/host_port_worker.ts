/// <reference lib="deno.worker" />
/**
 * The host-socket port worker's entry point: a bridge port whose far end is a UDP socket on the
 * host's loopback interface. Each frame the bridge sends it leaves as one datagram to the
 * configured peer; each datagram from that peer (and only that peer) enters the bridge as one
 * frame. The worker may use the network for its two addresses and nothing else (see
 * `launch.ts`); a datagram from anywhere else, or too large or small to be a frame, is counted and
 * dropped.
 *
 * Protocol: `worker_protocol.ts` (`start` with a {@link HostPortConfig}; `metrics`, `stop`).
 *
 * @module
 */

import { createSocket, type Socket } from "node:dgram";
import { Doorbell } from "@paravirt/events";
import { isLoopback } from "./launch.ts";
import { ETH_HLEN, NET_IDLE_POLL_MS } from "./params.ts";
import { type LinkSide, portSide } from "./port_link.ts";
import type { HostPortConfig, WorkerReply, WorkerRequest } from "./worker_protocol.ts";

const metrics = {
  framesToHost: 0,
  bytesToHost: 0,
  framesFromHost: 0,
  bytesFromHost: 0,
  dropsFromHost: 0,
  foreign: 0,
};
let socket: Socket | undefined;
let stopped = false;
let running: Promise<void> | undefined;

function post(message: WorkerReply): void {
  self.postMessage(message);
}

async function pump(side: LinkSide, doorbell: Doorbell, peer: HostPortConfig["peer"]) {
  const scratch = new Uint8Array(side.inbound.maxFrame);
  while (!stopped) {
    let length: number;
    try {
      length = side.inbound.read(scratch);
    } catch (error) {
      post({ type: "disconnected", reason: `Bridge queue broke: ${error}` });
      return;
    }
    if (length >= 0) {
      socket!.send(scratch.slice(0, length), peer.port, peer.hostname);
      metrics.framesToHost++;
      metrics.bytesToHost += length;
      continue;
    }
    if (side.inbound.release()) side.peer.ring();
    if (!side.inbound.prepareWait()) {
      await doorbell.wait(NET_IDLE_POLL_MS);
      doorbell.takeRings();
    }
  }
}

async function start(config: HostPortConfig): Promise<void> {
  let side: LinkSide;
  try {
    side = portSide(config.link);
    const sock = createSocket("udp4");
    socket = sock;
    await new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.bind(config.bind.port, config.bind.hostname, () => {
        sock.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    post({ type: "error", message: error instanceof Error ? error.message : String(error) });
    return;
  }
  socket.on("message", (datagram: Uint8Array, from: { address: string; port: number }) => {
    if (from.port !== config.peer.port || !isLoopback(from.address)) {
      metrics.foreign++;
      return;
    }
    if (datagram.length < ETH_HLEN || datagram.length > side.outbound.maxFrame) {
      metrics.dropsFromHost++;
      return;
    }
    try {
      if (!side.outbound.write(datagram)) {
        metrics.dropsFromHost++;
        return;
      }
      metrics.framesFromHost++;
      metrics.bytesFromHost += datagram.length;
      if (side.outbound.publish()) side.peer.ring();
    } catch (error) {
      post({ type: "disconnected", reason: `Bridge queue broke: ${error}` });
    }
  });
  post({ type: "ready" });
  running = pump(side, Doorbell.from(config.doorbell, new SharedArrayBuffer(4)), config.peer);
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const message = event.data;
  switch (message?.type) {
    case "start":
      if (!socket) await start(message.config as HostPortConfig);
      return;
    case "metrics":
      post({ type: "reply", id: message.id, ok: true, value: { ...metrics } });
      return;
    case "ping":
      post({ type: "reply", id: message.id, ok: true });
      return;
    case "stop":
      stopped = true;
      await running;
      socket?.close();
      post({ type: "stopped" });
      return;
  }
};
