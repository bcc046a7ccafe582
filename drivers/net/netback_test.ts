import assert from "node:assert/strict";
import {
  GTF_permit_access,
  GTF_reading,
  GTF_writing,
  NETIF_RSP_ERROR,
  NETIF_RSP_NULL,
  NETIF_RSP_OKAY,
  NETTXF_extra_info,
  NETTXF_more_data,
  XEN_NETIF_EXTRA_FLAG_MORE,
  XEN_NETIF_EXTRA_TYPE_GSO,
  XEN_NETIF_EXTRA_TYPE_MCAST_ADD,
} from "@paravirt/public";
import { buildFrame, MAC_BROADCAST } from "./ethernet.ts";
import { Netback, type NetbackOptions } from "./netback.ts";
import { NET_RX_STALL_MS } from "./params.ts";
import { bridgeSide } from "./port_link.ts";
import { TEST_GUEST_FIRST_FRAME, type TestGuest, testGuest } from "./_test_guest.ts";

const A = 0x00163e000001;

function frame(length: number, seed = 0): Uint8Array {
  const f = buildFrame({ dst: MAC_BROADCAST, src: A, payload: new Uint8Array(length - 14) });
  for (let i = 14; i < length; i++) f[i] = (seed + i * 13) & 0xff;
  return f;
}

function connect(guest: TestGuest, options: Partial<NetbackOptions> = {}) {
  const disconnects: string[] = [];
  const netback = new Netback({
    source: guest.source,
    doorbell: guest.doorbell,
    txSlot: 0,
    rxSlot: 0,
    txRingRef: guest.front.txRingRef,
    rxRingRef: guest.front.rxRingRef,
    link: guest.link,
    onDisconnect: (reason) => disconnects.push(reason),
    ...options,
  });
  const bridge = bridgeSide(guest.link);
  const out = new Uint8Array(65535);
  /** Frames the netback handed to the bridge. */
  const fromGuest = () => {
    const frames: Uint8Array[] = [];
    for (let n = bridge.inbound.read(out); n >= 0; n = bridge.inbound.read(out)) {
      frames.push(out.slice(0, n));
    }
    bridge.inbound.release();
    return frames;
  };
  /** Hands frames to the netback as the bridge would. */
  const toGuest = (...frames: Uint8Array[]) => {
    for (const f of frames) assert.ok(bridge.outbound.write(f));
    bridge.outbound.publish();
  };
  const statuses = () => guest.front.txStatuses.splice(0).map((s) => s.status);
  return { netback, fromGuest, toGuest, disconnects, statuses };
}

Deno.test("netback: frames sent by the guest reach the bridge intact, one or many slots", () => {
  const guest = testGuest();
  const { netback, fromGuest, statuses } = connect(guest);
  const small = frame(60, 1);
  const jumbo = frame(9000, 2);
  assert.ok(guest.front.send(small));
  assert.ok(guest.front.send(jumbo)); // 3 slots of one page
  assert.ok(guest.front.send(frame(3000, 3), { fragmentSize: 1000 })); // 3 slots
  assert.equal(netback.service(), 3);
  const got = fromGuest();
  assert.deepEqual(got[0], small);
  assert.deepEqual(got[1], jumbo);
  assert.deepEqual(got[2], frame(3000, 3));
  guest.front.poll();
  assert.deepEqual(statuses(), Array(7).fill(NETIF_RSP_OKAY));
  assert.equal(guest.front.txFree, 32, "every tx buffer came back");
  assert.equal(netback.metrics.txFrames, 3);
  assert.equal(netback.metrics.txBytes, 60 + 9000 + 3000);
  assert.ok(netback.metrics.notifications >= 1);
  // The ring pages are mapped (in use) while connected.
  assert.equal(guest.front.grantFlags(guest.front.txRingRef) & GTF_writing, GTF_writing);
  netback.stop();
  assert.equal(guest.front.grantFlags(guest.front.txRingRef) & (GTF_reading | GTF_writing), 0);
  assert.equal(netback.service(), 0);
});

Deno.test("netback: frames from the bridge land in the guest's posted buffers", () => {
  const guest = testGuest();
  const { netback, toGuest } = connect(guest, { sg: true });
  toGuest(frame(64, 4), frame(1514, 5), frame(9000, 6));
  assert.equal(netback.service(), 3);
  guest.front.poll();
  assert.deepEqual(guest.front.received, [frame(64, 4), frame(1514, 5), frame(9000, 6)]);
  assert.equal(netback.metrics.rxFrames, 3);
  assert.equal(netback.metrics.rxBytes, 64 + 1514 + 9000);
});

Deno.test("netback: a guest without feature-sg never gets a frame over one page", () => {
  const guest = testGuest();
  const { netback, toGuest } = connect(guest, { sg: false });
  toGuest(frame(9000), frame(100, 1));
  netback.service();
  guest.front.poll();
  assert.deepEqual(guest.front.received, [frame(100, 1)]);
  assert.equal(netback.metrics.rxDropped, 1);
});

Deno.test("netback: frames wait for rx buffers, and flow again once they are posted", () => {
  const guest = testGuest({ rxBuffers: 4 });
  const { netback, toGuest } = connect(guest);
  toGuest(...Array.from({ length: 10 }, (_, i) => frame(100, i)));
  netback.service();
  assert.equal(netback.metrics.rxFrames, 4, "only four buffers were posted");
  assert.equal(netback.prepareToSleep(), true, "nothing to do until the guest posts more");
  guest.front.poll(); // takes the four frames and re-posts the buffers
  assert.equal(netback.prepareToSleep(), false, "buffers are there now");
  netback.service();
  guest.front.poll();
  netback.service();
  guest.front.poll();
  assert.equal(guest.front.received.length, 10);
  guest.front.received.forEach((f, i) => assert.deepEqual(f, frame(100, i)));
});

Deno.test("netback: a full bridge queue holds packets on the ring until there is room", () => {
  const guest = testGuest({ txBuffers: 64 });
  const { netback, fromGuest, statuses } = connect(guest);
  const big = frame(60000);
  for (let i = 0; i < 4; i++) assert.ok(guest.front.send(big), `frame ${i} queued`);
  netback.service();
  assert.equal(netback.metrics.txFrames, 2, "two 60 kB frames fill a 128 KiB queue");
  guest.front.poll();
  assert.equal(statuses().length, 30, "the other two wait unanswered on the ring");
  assert.equal(netback.prepareToSleep(), true, "blocked: sleep until the bridge makes room");
  assert.equal(fromGuest().length, 2);
  assert.equal(netback.prepareToSleep(), false, "room now: no sleep");
  netback.service();
  assert.equal(fromGuest().length, 2);
  guest.front.poll();
  assert.deepEqual(statuses(), Array(30).fill(NETIF_RSP_OKAY));
  assert.equal(netback.metrics.txFrames, 4);
});

Deno.test("netback: malformed packets get NETIF_RSP_ERROR and the vif goes on", () => {
  const guest = testGuest();
  const { netback, fromGuest, statuses, disconnects } = connect(guest);
  const front = guest.front;
  const gref = front.txBufferGref(0);
  const slot = (i: number, fields: Partial<Parameters<typeof front.writeTxSlot>[1]>) =>
    front.writeTxSlot(i, { gref, offset: 0, flags: 0, id: i & 0xffff, size: 60, ...fields });
  let p = front.txProducer;
  // Shorter than an Ethernet header.
  slot(p++, { size: 10 });
  // Fragments adding up to more than the packet.
  slot(p++, { size: 100, flags: NETTXF_more_data });
  slot(p++, { size: 200 });
  // 19 fragments (more than XEN_NETIF_NR_SLOTS_MIN).
  for (let i = 0; i < 18; i++) slot(p++, { size: i === 0 ? 19 * 10 : 10, flags: NETTXF_more_data });
  slot(p++, { size: 10 });
  // Grants that cannot be copied: never granted, granted to another domain, a special frame.
  slot(p++, { gref: 400 });
  front.writeGrant(401, GTF_permit_access, 5, TEST_GUEST_FIRST_FRAME + 10);
  slot(p++, { gref: 401 });
  front.writeGrant(402, GTF_permit_access, 0, TEST_GUEST_FIRST_FRAME + 160);
  slot(p++, { gref: 402 });
  slot(p++, { gref: 0xffff_ffff });
  // GSO requested (not offered): the request, its extra slot.
  slot(p++, { flags: NETTXF_extra_info });
  front.writeTxSlotBytes(p++, new Uint8Array([XEN_NETIF_EXTRA_TYPE_GSO, 0, 0, 0, 0, 0, 0, 0]));
  // A good packet after all that, with a multicast extra (accepted, answered NULL).
  slot(p++, { flags: NETTXF_extra_info });
  front.writeTxSlotBytes(
    p++,
    new Uint8Array([
      XEN_NETIF_EXTRA_TYPE_MCAST_ADD,
      XEN_NETIF_EXTRA_FLAG_MORE,
      1,
      0,
      0x5e,
      0,
      0,
      1,
    ]),
  );
  front.writeTxSlotBytes(
    p++,
    new Uint8Array([XEN_NETIF_EXTRA_TYPE_MCAST_ADD, 0, 1, 0, 0x5e, 0, 0, 2]),
  );
  front.txBuffer(0).set(frame(60, 9));
  front.publishTx(p);
  netback.service();
  front.poll();
  assert.deepEqual(statuses(), [
    NETIF_RSP_ERROR,
    ...Array(2).fill(NETIF_RSP_ERROR),
    ...Array(19).fill(NETIF_RSP_ERROR),
    NETIF_RSP_ERROR,
    NETIF_RSP_ERROR,
    NETIF_RSP_ERROR,
    NETIF_RSP_ERROR,
    NETIF_RSP_ERROR,
    NETIF_RSP_NULL,
    NETIF_RSP_OKAY,
    NETIF_RSP_NULL,
    NETIF_RSP_NULL,
  ]);
  assert.deepEqual(fromGuest(), [frame(60, 9)]);
  assert.equal(netback.metrics.txErrors, 8);
  assert.deepEqual(disconnects, []);
  assert.equal(netback.disconnected, undefined);
});

Deno.test("netback: a frame cap below the packet's size is an error", () => {
  const guest = testGuest();
  const { netback, statuses } = connect(guest, { maxFrame: 1518 });
  guest.front.send(frame(1519));
  guest.front.send(frame(1518));
  netback.service();
  guest.front.poll();
  assert.deepEqual(statuses(), [NETIF_RSP_ERROR, NETIF_RSP_OKAY]);
});

Deno.test("netback: fatal protocol breaches disconnect the vif and release its mappings", () => {
  const cases: [string, (front: TestGuest["front"]) => void, RegExp][] = [
    ["a chain past the producer", (front) => {
      front.writeTxSlot(0, { gref: 16, offset: 0, flags: NETTXF_more_data, id: 0, size: 100 });
      front.publishTx(1);
    }, /runs past the published requests/],
    ["a fragment crossing its page", (front) => {
      front.writeTxSlot(0, { gref: 16, offset: 4000, flags: 0, id: 0, size: 200 });
      front.publishTx(1);
    }, /crosses its page/],
    ["a later fragment crossing its page", (front) => {
      front.writeTxSlot(0, { gref: 16, offset: 0, flags: NETTXF_more_data, id: 0, size: 300 });
      front.writeTxSlot(1, { gref: 16, offset: 4000, flags: 0, id: 1, size: 200 });
      front.publishTx(2);
    }, /crosses its page/],
    ["an unknown extra-info type", (front) => {
      front.writeTxSlot(0, { gref: 16, offset: 0, flags: NETTXF_extra_info, id: 0, size: 60 });
      front.writeTxSlotBytes(1, new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0]));
      front.publishTx(2);
    }, /unknown type 9/],
    ["64 slots in one packet", (front) => {
      for (let i = 0; i < 70; i++) {
        front.writeTxSlot(i, { gref: 16, offset: 0, flags: NETTXF_more_data, id: i, size: 10 });
      }
      front.publishTx(70);
    }, /64 slots or more/],
    ["a producer a whole ring ahead", (front) => front.publishTx(1000), /Ring overflow/],
  ];
  for (const [name, breach, reason] of cases) {
    const guest = testGuest();
    const { netback, disconnects } = connect(guest);
    assert.equal(netback.mappedGrants, 2);
    breach(guest.front);
    assert.equal(netback.service(), 0, name);
    assert.equal(disconnects.length, 1, name);
    assert.match(disconnects[0], reason, name);
    assert.equal(netback.mappedGrants, 0, `${name}: mappings released`);
    assert.equal(netback.service(), 0);
    assert.equal(
      guest.front.grantFlags(guest.front.txRingRef) & (GTF_reading | GTF_writing),
      0,
      `${name}: ring grant no longer in use`,
    );
  }
});

Deno.test("netback: an rx producer a ring ahead disconnects; bad rx grants are errors", () => {
  const guest = testGuest({ rxBuffers: 2 });
  const { netback, toGuest, disconnects } = connect(guest);
  // Replace the first posted buffer's grant with one that is not ours.
  const view = new DataView(guest.front.rxRing.buffer, guest.front.rxRing.byteOffset);
  view.setUint32(64 + 4, 450, true);
  toGuest(frame(100, 1), frame(100, 2));
  netback.service();
  guest.front.poll();
  assert.equal(guest.front.rxErrors, 1);
  assert.deepEqual(guest.front.received, [frame(100, 2)]);
  assert.equal(netback.metrics.rxErrors, 1);
  new Int32Array(guest.front.rxRing.buffer, guest.front.rxRing.byteOffset, 1)[0] = 5000;
  toGuest(frame(100, 3));
  netback.service();
  assert.match(disconnects[0], /Ring overflow/);
});

Deno.test("netback: a ring grant that cannot be mapped fails the connection cleanly", () => {
  const guest = testGuest();
  assert.throws(() => connect(guest, { rxRingRef: 499 }), /rx-ring-ref 499 cannot be mapped/);
  assert.equal(guest.front.grantFlags(guest.front.txRingRef) & (GTF_reading | GTF_writing), 0);
  assert.throws(() => connect(guest, { txRingRef: -1 }), /tx-ring-ref -1/);
});

Deno.test("netback: a frame the guest never posts enough buffers for is dropped after a while", async () => {
  const guest = testGuest({ rxBuffers: 2 });
  const { netback, toGuest } = connect(guest, { sg: true });
  toGuest(frame(9000), frame(100, 1)); // 9000 bytes need three buffers; only two exist
  netback.service();
  assert.equal(netback.metrics.rxDropped, 0);
  await new Promise((r) => setTimeout(r, NET_RX_STALL_MS + 50));
  netback.service();
  guest.front.poll();
  assert.equal(netback.metrics.rxDropped, 1);
  assert.deepEqual(guest.front.received, [frame(100, 1)], "the queue moved on");
});
