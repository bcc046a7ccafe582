/**
 * The network workers' permission sets hold: a netback (or bridge) module can open no socket,
 * read or write no file, read no environment, run nothing; a host-socket port may use its own
 * loopback addresses and nothing else.
 */
import assert from "node:assert/strict";
import {
  BridgeWorker,
  createPortLink,
  hostPortPermissions,
  HostPortWorker,
  NetbackWorker,
} from "@paravirt/drivers";
import { ForeignMaps } from "@paravirt/mmu";
import { createSocket } from "node:dgram";

const ROGUE = new URL("./rogue_worker.ts", import.meta.url);

function outcomes(error: unknown): Record<string, string> {
  const message = error instanceof Error ? error.message : String(error);
  const list = JSON.parse(message) as { what: string; outcome: string }[];
  return Object.fromEntries(list.map((a) => [a.what, a.outcome]));
}

function netbackConfig() {
  const bell = { buffer: new SharedArrayBuffer(16), slot: 0 };
  return {
    source: {
      domid: 1,
      buffer: new SharedArrayBuffer(8 * 4096),
      firstFrame: 0x100,
      maxPages: 7,
      grantFrameIndex: 7,
      grantFrames: 1,
      foreignMaps: new ForeignMaps(8).buffer,
    },
    doorbell: bell.buffer,
    wake: new SharedArrayBuffer(4),
    txSlot: 0,
    rxSlot: 1,
    txRingRef: 16,
    rxRingRef: 17,
    link: createPortLink(bell, { buffer: bell.buffer, slot: 2 }),
    sg: false,
  };
}

Deno.test("a netback module may open no socket, touch no file, run nothing", async () => {
  const error = await NetbackWorker.start(netbackConfig(), { module: ROGUE }).then(
    () => assert.fail("the rogue module should report and stop"),
    (e) => e,
  );
  const result = outcomes(error);
  assert.ok(Object.keys(result).length >= 9);
  for (const [what, outcome] of Object.entries(result)) {
    assert.equal(outcome, "denied", `${what}: ${outcome}`);
  }
});

Deno.test("a bridge module runs under no permissions either", async () => {
  const error = await BridgeWorker.start({ name: "br9" }, { module: ROGUE }).then(
    () => assert.fail("the rogue module should report and stop"),
    (e) => e,
  );
  for (const [what, outcome] of Object.entries(outcomes(error))) {
    assert.equal(outcome, "denied", `${what}: ${outcome}`);
  }
});

Deno.test("a host-socket port may reach its own loopback addresses only", async () => {
  const link = createPortLink({ buffer: new SharedArrayBuffer(16), slot: 0 }, {
    buffer: new SharedArrayBuffer(16),
    slot: 0,
  });
  const config = {
    link,
    doorbell: new SharedArrayBuffer(16),
    bind: { hostname: "127.0.0.1", port: 47311 },
    peer: { hostname: "127.0.0.1", port: 47312 },
    probe: { port: 47312 },
  };
  // Listeners where the rogue sends: its peer, and the port next to it.
  const heard: number[] = [];
  const listeners = await Promise.all([47312, 47313].map(async (port) => {
    const socket = createSocket("udp4");
    socket.on("message", () => heard.push(port));
    await new Promise<void>((resolve) => socket.bind(port, "127.0.0.1", resolve));
    return socket;
  }));
  const error = await HostPortWorker.start(config, { module: ROGUE }).then(
    () => assert.fail("the rogue module should report and stop"),
    (e) => e,
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (const socket of listeners) socket.close();
  const result = outcomes(error);
  assert.equal(result["udp send 127.0.0.1:47312"], "allowed", "its peer is reachable");
  assert.notEqual(result["udp send 127.0.0.1:47313"], "allowed", "another port is not");
  assert.deepEqual(heard, [47312], "only the peer heard anything");
  for (const [what, outcome] of Object.entries(result)) {
    if (what.startsWith("udp send")) continue;
    assert.equal(outcome, "denied", `${what}: ${outcome}`);
  }
  assert.throws(
    () => hostPortPermissions({ ...config, peer: { hostname: "10.0.0.1", port: 1 } }),
    /not a loopback UDP port/,
  );
  assert.throws(
    () => hostPortPermissions({ ...config, bind: { hostname: "0.0.0.0", port: 5000 } }),
    RangeError,
  );
});
