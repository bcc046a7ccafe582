/**
 * End to end: the bridge worker's MAC learning and its filter chain (the packet filter, the
 * intrusion detector and a filter module loaded from a file), between three guests.
 */
import assert from "node:assert/strict";
import { buildFrame, IPPROTO_UDP, MAC_BROADCAST } from "@paravirt/drivers";
import { NetTestbed, type TestbedGuest } from "./net_testbed.ts";

const text = new TextEncoder();

function udp(from: TestbedGuest, to: TestbedGuest, dstPort: number, payload: string) {
  return buildFrame({
    dst: to.mac,
    src: from.mac,
    ipSrc: from.ip,
    ipDst: to.ip,
    proto: IPPROTO_UDP,
    srcPort: 5000,
    dstPort,
    payload: text.encode(payload),
  });
}

/** Sends the frames, waits until the network is quiet, and returns what each guest received. */
async function exchange(bed: NetTestbed, sends: [TestbedGuest, Uint8Array][]) {
  for (const [from, frame] of sends) assert.ok(from.front.send(frame));
  await bed.settle();
  for (const g of bed.guests) g.front.txStatuses.length = 0;
  return bed.guests.map((g) => g.front.received.splice(0));
}

Deno.test("net: MAC learning floods before learning and forwards unicast after", async () => {
  const bed = await NetTestbed.create({ guests: 3 });
  try {
    const [a, b, c] = bed.guests;
    // b is unknown: flooded to b and c.
    let [ra, rb, rc] = await exchange(bed, [[a, udp(a, b, 7, "hello b")]]);
    assert.equal(ra.length, 0);
    assert.equal(rb.length, 1);
    assert.equal(rc.length, 1, "c sees a frame for an unknown address");
    // a was learned: b's answer goes to a alone.
    [ra, rb, rc] = await exchange(bed, [[b, udp(b, a, 7, "hello a")]]);
    assert.deepEqual([ra.length, rb.length, rc.length], [1, 0, 0]);
    // Both learned: unicast only.
    [ra, rb, rc] = await exchange(bed, [[a, udp(a, b, 7, "again")]]);
    assert.deepEqual([ra.length, rb.length, rc.length], [0, 1, 0]);
    // Broadcast always floods.
    const arp = buildFrame({ dst: MAC_BROADCAST, src: c.mac, ethertype: 0x0806 });
    [ra, rb, rc] = await exchange(bed, [[c, arp]]);
    assert.deepEqual([ra.length, rb.length, rc.length], [1, 1, 0]);
    const m = await bed.bridge.metrics();
    assert.equal(m.flooded, 2);
    assert.equal(m.forwarded, 2);
    assert.equal(m.macs, 3);
  } finally {
    await bed.close();
  }
});

Deno.test("net: a filter rule blocks one flow; the detector counts a signature; a plug-in runs", async () => {
  const bed = await NetTestbed.create({
    guests: 2,
    filterBase: import.meta.url,
    filters: [
      { module: "packet-filter", options: { rules: ["deny proto=udp dport=9", "allow"] } },
      {
        module: "intrusion-detector",
        options: { signatures: [{ name: "evil", pattern: "EVIL-PAYLOAD" }] },
      },
      { module: "./ethertype_counter_filter.ts", options: { drop: 0x88b6 } },
    ],
  });
  try {
    const [a, b] = bed.guests;
    const [, rb] = await exchange(bed, [
      [a, udp(a, b, 9, "to the discard port")],
      [a, udp(a, b, 7, "to the echo port")],
      [a, udp(a, b, 7, "carrying EVIL-PAYLOAD inside")],
      [a, buildFrame({ dst: b.mac, src: a.mac, ethertype: 0x88b6 })],
      [a, udp(a, b, 9, "again to discard")],
    ]);
    assert.deepEqual(
      rb.map((f) => new TextDecoder().decode(f.subarray(42))),
      ["to the echo port", "carrying EVIL-PAYLOAD inside"],
      "port 9 and ethertype 0x88b6 blocked; the flagged frame still delivered",
    );
    const m = await bed.bridge.metrics();
    assert.equal(m.ports[0].filtered, 3);
    assert.equal(m.filters.filters["packet-filter"].denied, 2);
    assert.equal(m.filters.filters["intrusion-detector"]["sig.evil"], 1);
    assert.equal(m.filters.filters["ethertype-counter"][`type.${0x88b6}`], 1);
    await bed.until(() => bed.alerts.length > 0, 5000, "the alert");
    assert.equal(bed.alerts[0].rule, "evil");
    assert.equal(bed.alerts[0].inPort, a.vif.portName);
    assert.equal(bed.alerts[0].src, "10.0.0.1");
  } finally {
    await bed.close();
  }
});

Deno.test("net: a bridge whose filter configuration is wrong does not start", async () => {
  await assert.rejects(
    () =>
      NetTestbed.create({ filters: [{ module: "packet-filter", options: { rules: ["oops"] } }] }),
    /does not start with allow or deny/,
  );
  await assert.rejects(
    () =>
      NetTestbed.create({
        filters: [{ module: "./no_such_filter.ts" }],
        filterBase: import.meta.url,
      }),
    /no_such_filter/,
  );
});
