/**
 * A frontend that writes garbage into its ring — bogus segment counts, grants, sector ranges,
 * operations, whole random slots, then a bogus producer index — gets error responses, then is
 * disconnected; its backend (the same worker) and another guest's disk go on undisturbed, and the
 * misbehaving guest can reconnect and work again.
 */
import assert from "node:assert/strict";
import {
  BLKIF_OP_DISCARD,
  BLKIF_OP_INDIRECT,
  BLKIF_OP_READ,
  BLKIF_OP_WRITE,
  BLKIF_RSP_EOPNOTSUPP,
  BLKIF_RSP_ERROR,
  XenbusStateConnected,
} from "@paravirt/public";
import type { FrontRequest, FrontResponse } from "@paravirt/drivers";
import { blockRig } from "../block/rig.ts";

Deno.test("garbage in a ring is answered or disconnected; the backend and other guests go on", async () => {
  const rig = blockRig();
  try {
    const attacker = rig.guest("attacker");
    const bystander = rig.guest("bystander");
    const imageA = await rig.image(1 << 20);
    const imageB = await rig.image(1 << 20);
    await rig.supervisor.attachDisk(attacker.id, `vdev=xvda, target=${imageA}`);
    await rig.supervisor.attachDisk(bystander.id, `vdev=xvda, target=${imageB}`);
    const front = await rig.frontend(attacker, 51712, { slots: 4, pagesPerSlot: 2 });
    const other = await rig.frontend(bystander, 51712, { slots: 8, pagesPerSlot: 1 });

    // The bystander writes and verifies all along.
    let stop = false;
    let rounds = 0;
    let bystanderError: unknown;
    const bystanding = (async () => {
      while (!stop) {
        const sector = (rounds % 200) * 8;
        const data = new Uint8Array(4096).fill(rounds & 0xff);
        await other.write(sector, data);
        const back = await other.read(sector, 8);
        assert.ok(back.every((b) => b === (rounds & 0xff)), `bystander round ${rounds}`);
        rounds++;
      }
    })().catch((error) => bystanderError = error);

    // Phase 1: malformed requests, each answered with an error.
    const answers = new Map<number, FrontResponse>();
    front.onResponse = (r) => {
      if (r.id >= 1e6) answers.set(r.id, r);
    };
    const ring = front.ring;
    const bad: [FrontRequest, number][] = [
      [{ operation: BLKIF_OP_READ, id: 0, sector: 0, segments: [] }, BLKIF_RSP_ERROR],
      [
        { operation: BLKIF_OP_READ, id: 0, sector: 0, segments: [{ gref: 9, first: 6, last: 2 }] },
        BLKIF_RSP_ERROR,
      ],
      [
        { operation: BLKIF_OP_READ, id: 0, sector: 0, segments: [{ gref: 9, first: 0, last: 9 }] },
        BLKIF_RSP_ERROR,
      ],
      [{
        operation: BLKIF_OP_WRITE,
        id: 0,
        sector: 2047,
        segments: [{ gref: 9, first: 0, last: 7 }],
      }, BLKIF_RSP_ERROR],
      [{
        operation: BLKIF_OP_READ,
        id: 0,
        sector: 2 ** 50,
        segments: [{ gref: 9, first: 0, last: 0 }],
      }, BLKIF_RSP_ERROR],
      [{
        operation: BLKIF_OP_READ,
        id: 0,
        sector: 0,
        segments: [{ gref: 1999, first: 0, last: 0 }],
      }, BLKIF_RSP_ERROR],
      [{
        operation: BLKIF_OP_READ,
        id: 0,
        sector: 0,
        segments: [{ gref: 2 ** 31, first: 0, last: 0 }],
      }, BLKIF_RSP_ERROR],
      [{ operation: 4, id: 0, sector: 0 }, BLKIF_RSP_EOPNOTSUPP],
      [{ operation: 99, id: 0, sector: 0 }, BLKIF_RSP_EOPNOTSUPP],
      [{ operation: BLKIF_OP_DISCARD, id: 0, sector: 0, sectors: 8 }, BLKIF_RSP_EOPNOTSUPP],
      [{
        operation: BLKIF_OP_INDIRECT,
        id: 0,
        sector: 0,
        indirectOp: BLKIF_OP_READ,
        indirectSegments: 0,
        indirectGrefs: [9],
      }, BLKIF_RSP_ERROR],
      [{
        operation: BLKIF_OP_INDIRECT,
        id: 0,
        sector: 0,
        indirectOp: BLKIF_OP_READ,
        indirectSegments: 5000,
        indirectGrefs: [9],
      }, BLKIF_RSP_ERROR],
      [{
        operation: BLKIF_OP_INDIRECT,
        id: 0,
        sector: 0,
        indirectOp: BLKIF_OP_WRITE,
        indirectSegments: 3,
        indirectGrefs: [1999],
      }, BLKIF_RSP_ERROR],
    ];
    const tooMany = new Uint8Array(112);
    tooMany[0] = BLKIF_OP_READ;
    tooMany[1] = 200; // nr_segments far beyond 11
    bad.forEach(([request], i) => ring.put({ ...request, id: 1e6 + i }));
    new DataView(tooMany.buffer).setUint32(8, 1e6 + 100, true); // the id
    ring.putRaw(tooMany);
    if (ring.push()) front.notify();
    await rig.until("answers to malformed requests", () => answers.size === bad.length + 1);
    bad.forEach(([request, status], i) => {
      assert.equal(
        answers.get(1e6 + i)!.status,
        status,
        `bad request ${i}: ${JSON.stringify(request)}`,
      );
    });
    assert.equal(answers.get(1e6 + 100)!.status, BLKIF_RSP_ERROR);

    // Random slots, 4 rounds of the ring's free space.
    let seed = 2024;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 8;
    for (let round = 0; round < 4; round++) {
      answers.clear();
      for (let i = 0; i < 28; i++) {
        const raw = new Uint8Array(112).map(() => random() & 0xff);
        raw[0] = random() % 9;
        new DataView(raw.buffer).setUint32(8, 2e6 + i, true);
        new DataView(raw.buffer).setUint32(12, 0, true);
        ring.putRaw(raw);
      }
      front.onResponse = (r) => {
        if (r.id >= 2e6) answers.set(r.id, r);
      };
      if (ring.push()) front.notify();
      await rig.until(`random round ${round}`, () => answers.size === 28);
    }
    assert.equal(front.connected, true, "malformed requests do not disconnect");
    await front.write(0, new Uint8Array(4096).fill(1));
    assert.equal((await front.read(0, 1))[0], 1);

    // Phase 2: a producer index beyond repair: the device is disconnected (same worker).
    const before = rig.supervisor.listDisks(attacker.id)[0];
    ring.setRequestProducer(ring.reqProdPvt + 1000);
    front.notify();
    await rig.until("the attacker's reconnect", () => front.reconnects === 1 && front.connected);
    const after = rig.supervisor.listDisks(attacker.id)[0];
    assert.equal(after.ringErrors, before.ringErrors + 1);
    assert.equal(after.restarts, 0, "the worker was not restarted");
    assert.equal(after.state, XenbusStateConnected, "reconnected");
    assert.ok(rig.log.some((l) => /ring beyond repair.*overflow/i.test(l)), rig.log.join("\n"));
    // It works again; and the bystander never noticed.
    await front.write(8, new Uint8Array(4096).fill(2));
    assert.equal((await front.read(8, 1))[0], 2);
    const roundsBefore = rounds;
    await rig.until("bystander progress", () => rounds > roundsBefore + 5);
    stop = true;
    await bystanding;
    assert.equal(bystanderError, undefined);
    const bystanderDisk = rig.supervisor.listDisks(bystander.id)[0];
    assert.equal(bystanderDisk.ringErrors + bystanderDisk.restarts, 0);
    assert.equal((await rig.supervisor.diskMetrics(bystander.id, "xvda"))!.errors, 0);
  } finally {
    await rig.cleanup();
  }
});
