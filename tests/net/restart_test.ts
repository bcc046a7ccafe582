/**
 * End to end: recovery. A netback worker killed mid-stream (as a watchdog would) is restarted on
 * the same rings and link, and the stream completes with no frame lost (the netback delivers at
 * least once; the sender keeps a window, so the bridge never has to drop). A bridge worker replaced by a new one, with the old one's saved state, carries on
 * under the same links with its learned addresses.
 */
import assert from "node:assert/strict";
import { BridgeWorker, buildFrame, IPPROTO_UDP } from "@paravirt/drivers";
import { ForeignMaps } from "@paravirt/mmu";
import { NetTestbed, type TestbedGuest } from "./net_testbed.ts";

function numbered(from: TestbedGuest, to: TestbedGuest, n: number) {
  const payload = new Uint8Array(1000);
  new DataView(payload.buffer).setUint32(0, n);
  return buildFrame({
    dst: to.mac,
    src: from.mac,
    ipSrc: from.ip,
    ipDst: to.ip,
    proto: IPPROTO_UDP,
    dstPort: 7,
    payload,
  });
}

const sequence = (frame: Uint8Array) => new DataView(frame.buffer, frame.byteOffset).getUint32(42);

Deno.test("net: netback workers killed mid-stream are restarted; no frame is lost", async () => {
  const bed = await NetTestbed.create();
  try {
    const [a, b] = bed.guests;
    const total = 6000;
    const seen = new Uint8Array(total);
    let sent = 0;
    let duplicates = 0;
    const collect = () => {
      for (const frame of b.front.received.splice(0)) {
        const n = sequence(frame);
        if (seen[n]) duplicates++;
        seen[n] = 1;
      }
    };
    const received = () => seen.reduce((n, v) => n + v, 0);
    // The sender keeps at most 256 frames in flight (a transport's window): the receiver's
    // queue never overflows, so nothing is dropped at the bridge and every loss would be the
    // restarts' fault.
    const stream = (until: number) =>
      bed.until(
        () => {
          collect();
          while (sent < until && sent - received() < 256 && a.front.send(numbered(a, b, sent))) {
            sent++;
          }
          return sent >= until;
        },
        60_000,
        `frames up to ${until}`,
      );
    await stream(2000);
    a.vif.killWorker(); // the sender's netback dies with requests in flight
    await stream(4000);
    b.vif.killWorker(); // then the receiver's, with frames queued for it
    await stream(total);
    await bed.until(() => (collect(), received() === total), 60_000, "every frame");
    assert.equal((await bed.bridge.metrics()).ports[1].dropsOut, 0);
    assert.equal(a.vif.restarts, 1);
    assert.equal(b.vif.restarts, 1);
    assert.ok(duplicates < 200, `${duplicates} duplicates`);
    assert.ok(bed.log.some((line) => /vif\d+\.0: worker restarted/.test(line)));
    // The killed workers' ring mappings were released: one writable map per ring page is left,
    // the live worker's.
    for (const g of [a, b]) {
      const view = bed.hv.foreignView(g.domain);
      const foreign = new ForeignMaps(view.frameCount, view.foreignMaps);
      assert.equal(foreign.writableMaps(0), 1, `${g.vif.portName} tx ring`);
      assert.equal(foreign.writableMaps(1), 1, `${g.vif.portName} rx ring`);
    }
  } finally {
    await bed.close();
  }
});

Deno.test("net: a replaced bridge carries on under the same links and remembers addresses", async () => {
  const bed = await NetTestbed.create({ guests: 3 });
  try {
    const [a, b, c] = bed.guests;
    const exchange = async (from: TestbedGuest, to: TestbedGuest, n: number) => {
      assert.ok(from.front.send(numbered(from, to, n)));
      await bed.until(() => to.front.received.length > 0, 5000, `frame ${n}`);
      to.front.received.length = 0;
    };
    await exchange(a, b, 1);
    await exchange(b, a, 2);
    await bed.settle();
    for (const g of bed.guests) g.front.received.length = 0;
    const state = await bed.bridge.save();
    assert.equal(state.macs.length, 2);
    // The bridge dies; the supervisor starts another with the same bell and the saved state.
    bed.bridge.terminate();
    const bridge = await BridgeWorker.start({ name: "br0", bell: bed.bridge.bell, state });
    bed.bridge = bridge;
    for (const g of bed.guests) await g.vif.reattach(bridge);
    await exchange(a, b, 3);
    const m = await bridge.metrics();
    assert.equal(m.forwarded, 1, "a → b went straight to b: the address was remembered");
    assert.equal(m.flooded, 0);
    assert.equal(c.front.received.length, 0);
    await exchange(c, a, 4);
  } finally {
    await bed.close();
  }
});
