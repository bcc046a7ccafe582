/**
 * End to end: guests' vifs served by netback workers, joined by a bridge worker with a filter
 * chain, connected through xenstore; TypeScript frontends write the guests' rings and buffers
 * in their domains' memory.
 */
import assert from "node:assert/strict";
import { buildFrame, IPPROTO_UDP } from "@paravirt/drivers";
import { NETIF_RSP_OKAY } from "@paravirt/public";
import { NetTestbed, type TestbedGuest } from "./net_testbed.ts";

const text = new TextEncoder();

function udp(from: TestbedGuest, to: TestbedGuest, dstPort: number, payload: Uint8Array | string) {
  return buildFrame({
    dst: to.mac,
    src: from.mac,
    ipSrc: from.ip,
    ipDst: to.ip,
    proto: IPPROTO_UDP,
    srcPort: 40000,
    dstPort,
    payload: typeof payload === "string" ? text.encode(payload) : payload,
  });
}

Deno.test("net: two guests ping-pong 200 times, then move 4 MB in bulk, intact", async () => {
  const bed = await NetTestbed.create();
  try {
    const [a, b] = bed.guests;
    // Ping-pong: each frame answered before the next goes.
    for (let i = 0; i < 200; i++) {
      const ping = udp(a, b, 7, `ping ${i}`);
      assert.ok(a.front.send(ping));
      await bed.until(() => b.front.received.length > 0, 5000, `ping ${i}`);
      assert.deepEqual(b.front.received.shift(), ping);
      const pong = udp(b, a, 7, `pong ${i}`);
      assert.ok(b.front.send(pong));
      await bed.until(() => a.front.received.length > 0, 5000, `pong ${i}`);
      assert.deepEqual(a.front.received.shift(), pong);
    }
    // Bulk: 4 MB in 1514-byte frames (and some 9000-byte ones over several slots), checked.
    const frames: Uint8Array[] = [];
    let bytes = 0;
    for (let i = 0; bytes < 4_000_000; i++) {
      const size = i % 10 === 9 ? 9000 - 42 : 1514 - 42;
      const payload = new Uint8Array(size);
      for (let k = 0; k < size; k++) payload[k] = (i * 31 + k) & 0xff;
      const frame = udp(a, b, 9999, payload);
      frames.push(frame);
      bytes += frame.length;
    }
    let sent = 0;
    const got: Uint8Array[] = [];
    await bed.until(
      () => {
        // A transport's window: never more in flight than b's queue holds, so nothing is dropped.
        while (sent < frames.length && sent - got.length < 64 && a.front.send(frames[sent])) sent++;
        got.push(...b.front.received.splice(0));
        return got.length === frames.length;
      },
      60_000,
      "the bulk transfer",
    );
    assert.equal(got.length, frames.length);
    got.forEach((frame, i) => {
      if (frame.length !== frames[i].length || !frame.every((v, k) => v === frames[i][k])) {
        assert.fail(`bulk frame ${i} differs`);
      }
    });
    assert.ok(a.front.txStatuses.every((s) => s.status === NETIF_RSP_OKAY));
    const ma = await a.vif.metrics();
    const mb = await b.vif.metrics();
    assert.equal(ma!.txFrames, 200 + frames.length);
    assert.equal(mb!.rxFrames, 200 + frames.length);
    assert.equal(mb!.rxBytes, ma!.txBytes);
    assert.equal(ma!.rxBytes, mb!.txBytes);
    assert.ok(
      a.domain.events.isPending(a.ports[0]) || a.domain.events.isPending(a.ports[1]),
      "the backend's notifications arrive as events",
    );
  } finally {
    await bed.close();
  }
});

Deno.test("net: a frontend with one event channel and no scatter-gather", async () => {
  const bed = await NetTestbed.create({ split: false, sg: false });
  try {
    const [a, b] = bed.guests;
    assert.equal(a.ports[0], a.ports[1], "one port for both rings");
    assert.ok(bed.log.some((line) => /vif\d+\.0: Connected \(one event channel\)/.test(line)));
    assert.equal(await a.vif.ping(), true, "the worker answers a watchdog");
    // A frame of one page goes through; a 9000-byte frame cannot reach a guest without sg.
    const small = udp(a, b, 7, "fits a page");
    const jumbo = udp(a, b, 7, new Uint8Array(9000 - 42));
    assert.ok(a.front.send(small));
    assert.ok(a.front.send(jumbo));
    await bed.settle();
    assert.deepEqual(b.front.received, [small]);
    assert.equal((await b.vif.metrics())!.rxDropped, 1);
    assert.equal((await a.vif.metrics())!.txFrames, 2, "the sender may still send it");
  } finally {
    await bed.close();
  }
});
