/**
 * End to end: a hostile frontend beside two good ones. Garbage requests get error responses;
 * a broken ring gets the vif disconnected (backend Closing, `error` written, its bridge port
 * removed); the other guests' traffic never stops; the hostile guest can reconnect through
 * xenstore like any frontend.
 */
import assert from "node:assert/strict";
import {
  buildFrame,
  IPPROTO_UDP,
  openBell,
  readXenbusState,
  tryRead,
  TsNetfront,
} from "@paravirt/drivers";
import {
  GTF_permit_access,
  NETIF_RSP_ERROR,
  NETTXF_more_data,
  XenbusStateClosed,
  XenbusStateClosing,
  XenbusStateConnected,
  XenbusStateInitialised,
  XenbusStateInitialising,
  XenbusStateInitWait,
} from "@paravirt/public";
import { NetTestbed, type TestbedGuest } from "./net_testbed.ts";

function udp(from: TestbedGuest, to: TestbedGuest, n: number) {
  return buildFrame({
    dst: to.mac,
    src: from.mac,
    ipSrc: from.ip,
    ipDst: to.ip,
    proto: IPPROTO_UDP,
    dstPort: 7,
    payload: new TextEncoder().encode(`frame ${n}`),
  });
}

/** a and b keep exchanging frames while `during` runs; returns how many made it. */
async function trafficDuring(bed: NetTestbed, during: () => Promise<void>): Promise<number> {
  const [a, b] = bed.guests;
  let n = 0;
  let running = true;
  let delivered = 0;
  const pump = (async () => {
    while (running) {
      if (a.front.txFree > 0) a.front.send(udp(a, b, n++));
      await bed.until(() => b.front.received.length > 0 || !running, 5000, `frame ${n}`);
      delivered += b.front.received.splice(0).length;
    }
  })();
  await during();
  running = false;
  await pump;
  return delivered;
}

Deno.test("net: a hostile frontend gets errors, then is disconnected; the others go on", async () => {
  const bed = await NetTestbed.create({ guests: 3 });
  try {
    const [a, b, c] = bed.guests;
    const state = (g: TestbedGuest) => readXenbusState(bed.dom0, `${g.vif.paths.backend}/state`);
    const front = c.front;
    const delivered = await trafficDuring(bed, async () => {
      // Garbage the backend answers with errors: absurd sizes, fragments that do not add up,
      // grants that are not ours or not its frames.
      let p = front.txProducer;
      const slot = (fields: Partial<Parameters<typeof front.writeTxSlot>[1]>) => {
        const base = { gref: front.txBufferGref(0), offset: 0, flags: 0, id: p & 0xffff, size: 60 };
        front.writeTxSlot(p, { ...base, ...fields });
        p++;
      };
      slot({ size: 3 });
      slot({ size: 100, flags: NETTXF_more_data });
      slot({ size: 500 });
      slot({ gref: 4000 });
      slot({ gref: 0xdeadbeef });
      front.writeGrant(300, GTF_permit_access, 0, 0x7fff_0000); // another domain's frame
      slot({ gref: 300 });
      front.publishTx(p);
      await bed.until(() => front.txStatuses.length === 6, 5000, "error responses");
      assert.deepEqual(front.txStatuses.map((s) => s.status), Array(6).fill(NETIF_RSP_ERROR));
      assert.equal(state(c), XenbusStateConnected, "errors alone do not disconnect");
      // A producer index a whole ring ahead: the vif is disconnected.
      front.publishTx(front.txProducer + 5000);
      await bed.until(() => state(c) === XenbusStateClosing, 5000, "c's backend to close");
    });
    assert.ok(delivered > 0, "a and b exchanged frames meanwhile");
    assert.match(tryRead(bed.dom0, `${c.vif.paths.backend}/error`)!, /Ring overflow/);
    assert.ok(!(await bed.bridge.metrics()).ports.some((p) => p.name === c.vif.portName));
    assert.equal(state(a), XenbusStateConnected);
    assert.equal(state(b), XenbusStateConnected);
    // The hostile guest starts over the Xen way: Closing, Closed, Initialising, new rings.
    const f = c.vif.paths.frontend;
    c.store.write(`${f}/state`, String(XenbusStateClosing));
    c.store.write(`${f}/state`, String(XenbusStateClosed));
    await bed.until(() => state(c) === XenbusStateClosed, 5000, "Closed");
    c.store.write(`${f}/state`, String(XenbusStateInitialising));
    await bed.until(() => state(c) === XenbusStateInitWait, 5000, "InitWait");
    const pages = Array.from({ length: 130 }, (_, i) => i);
    c.front = new TsNetfront(bed.hv.foreignView(c.domain), {
      pages,
      notify: (ring) => c.domain.events.send(c.ports[ring === "tx" ? 0 : 1]),
    });
    c.store.write(`${f}/tx-ring-ref`, String(c.front.txRingRef));
    c.store.write(`${f}/rx-ring-ref`, String(c.front.rxRingRef));
    c.store.write(`${f}/state`, String(XenbusStateInitialised));
    await bed.until(() => state(c) === XenbusStateConnected, 10_000, "c to reconnect");
    c.store.write(`${f}/state`, String(XenbusStateConnected));
    assert.ok(c.front.send(udp(c, a, 1)));
    await bed.until(() => a.front.received.length > 0, 5000, "c's frame after reconnecting");
    assert.deepEqual(a.front.received.shift(), udp(c, a, 1));
  } finally {
    await bed.close();
  }
});

Deno.test("net: bad handshake keys leave the vif closed with the reason written", async () => {
  const bed = await NetTestbed.create({ guests: 1 });
  try {
    const [g] = bed.guests;
    const f = g.vif.paths.frontend;
    const state = () => readXenbusState(bed.dom0, `${g.vif.paths.backend}/state`);
    for (
      const [key, value, reason] of [
        ["tx-ring-ref", "12abc", /tx-ring-ref = "12abc" is not a number/],
        ["request-rx-copy", "0", /only copies/],
        ["tx-ring-ref", "4000", /tx-ring-ref 4000 cannot be mapped/],
        ["event-channel-rx", "999", /Event channel 999 cannot be bound/],
      ] as const
    ) {
      g.store.write(`${f}/state`, String(XenbusStateClosing));
      g.store.write(`${f}/state`, String(XenbusStateClosed));
      await bed.until(() => state() === XenbusStateClosed, 5000, "Closed");
      g.store.write(`${f}/state`, String(XenbusStateInitialising));
      await bed.until(() => state() === XenbusStateInitWait, 5000, "InitWait");
      g.front = new TsNetfront(bed.hv.foreignView(g.domain), {
        pages: Array.from({ length: 130 }, (_, i) => i),
      });
      g.store.write(`${f}/tx-ring-ref`, String(g.front.txRingRef));
      g.store.write(`${f}/rx-ring-ref`, String(g.front.rxRingRef));
      g.store.write(`${f}/request-rx-copy`, "1");
      g.store.write(`${f}/event-channel-rx`, String(g.ports[1]));
      g.store.write(`${f}/${key}`, value);
      g.store.write(`${f}/state`, String(XenbusStateInitialised));
      await bed.until(() => state() === XenbusStateClosing, 5000, `Closing after ${key}`);
      assert.match(tryRead(bed.dom0, `${g.vif.paths.backend}/error`)!, reason);
      assert.equal(g.vif.connected, false);
    }
  } finally {
    await bed.close();
  }
});

Deno.test("net: a port whose worker corrupts its queues is cut off; the bridge worker goes on", async () => {
  const bed = await NetTestbed.create({ guests: 2 });
  try {
    const [a, b] = bed.guests;
    // A third port whose "worker" is this test, writing garbage where the bridge reads.
    const bell = new SharedArrayBuffer(16);
    const link = bed.bridge.createLink({ buffer: bell, slot: 0 });
    await bed.bridge.attach("rogue0", link);
    const header = new Int32Array(link.toBridge, 0, 16);
    await trafficDuring(bed, async () => {
      header[0] = 0x4000_0004; // a head far beyond the queue
      openBell(bed.bridge.bell).ring(); // and ring the bridge
      await bed.until(() => bed.portErrors.length > 0, 5000, "the bridge to cut the port off");
    });
    assert.match(bed.portErrors[0], /^rogue0: Producer head/);
    const m = await bed.bridge.metrics();
    assert.ok(m.ports.find((p) => p.name === "rogue0")?.broken);
    assert.ok(a.front.send(udp(a, b, 99)));
    await bed.until(() => b.front.received.length > 0, 5000, "traffic after the cut");
  } finally {
    await bed.close();
  }
});
