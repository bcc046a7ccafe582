import assert from "node:assert/strict";
import {
  BLKIF_DISCARD_SECURE,
  BLKIF_OP_DISCARD,
  BLKIF_OP_FLUSH_DISKCACHE,
  BLKIF_OP_INDIRECT,
  BLKIF_OP_READ,
  BLKIF_OP_WRITE,
  BLKIF_OP_WRITE_BARRIER,
  BLKIF_RSP_EOPNOTSUPP,
  BLKIF_RSP_ERROR,
  BLKIF_RSP_OKAY,
} from "@paravirt/public";
import { ForeignMaps } from "@paravirt/mmu";
import { GrantMapper, type GrantSource } from "../grant_mapper.ts";
import { type BlockBackend, BlockIoError } from "./backend.ts";
import { Blkback, type BlkbackOptions } from "./blkback.ts";
import { BlockFrontRing, type FrontResponse, type FrontSegment } from "./front_ring.ts";
import { MemoryBackend } from "./memory_backend.ts";

const PAGES = 256;
const FIRST = 0x4000;
const RING_PAGE = 0;
const RING_REF = 1;

/** A frontend domain in a SharedArrayBuffer, a memory disk, and blkback between them. */
function rig(
  options: { backend?: BlockBackend; sectors?: number } & Partial<BlkbackOptions> = {},
) {
  const buffer = new SharedArrayBuffer((PAGES + 2) * 4096);
  const foreign = new ForeignMaps(PAGES + 2);
  const source: GrantSource = {
    domid: 7,
    buffer,
    firstFrame: FIRST,
    maxPages: PAGES,
    grantFrameIndex: PAGES + 1,
    grantFrames: 1,
    foreignMaps: foreign.buffer,
  };
  const front = new BlockFrontRing(
    { buffer, firstFrame: FIRST, grantFrameIndex: PAGES + 1 },
    RING_PAGE,
  );
  front.init();
  front.grant(RING_REF, RING_PAGE);
  const disk = options.backend ??
    new MemoryBackend(new SharedArrayBuffer((options.sectors ?? 2048) * 512));
  const events = { notified: 0, ringErrors: [] as string[], fatal: [] as unknown[] };
  const mapper = new GrantMapper(source);
  const back = new Blkback(mapper, buffer, RING_REF, disk, {
    maxIndirectSegments: options.maxIndirectSegments,
    notify: () => events.notified++,
    onRingError: (reason) => events.ringErrors.push(reason),
    onFatal: (error) => events.fatal.push(error),
  });
  const bytes = new Uint8Array(buffer);
  /** Grants pages first..first+count-1 as grefs 100+page. */
  const grantPages = (first: number, count: number, readOnly = false) => {
    for (let p = first; p < first + count; p++) front.grant(100 + p, p, readOnly);
  };
  const segs = (firstPage: number, count: number): FrontSegment[] =>
    Array.from({ length: count }, (_, i) => ({ gref: 100 + firstPage + i, first: 0, last: 7 }));
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
  };
  const kick = async (): Promise<FrontResponse[]> => {
    front.push();
    back.onEvent();
    await settle();
    return front.takeResponses();
  };
  return { buffer, bytes, front, back, disk, events, mapper, grantPages, segs, kick, settle };
}

function fill(bytes: Uint8Array, seed: number): void {
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
}

Deno.test("blkback: writes then reads back, through direct views and bounce buffers", async () => {
  const r = rig();
  r.grantPages(10, 4, true); // contiguous frames: written to disk straight from guest memory
  fill(r.bytes.subarray(10 * 4096, 14 * 4096), 1);
  r.front.put({ operation: BLKIF_OP_WRITE, id: 1, sector: 64, segments: r.segs(10, 4) });
  // Scattered frames and partial sectors: pages 20, 22, 24, sectors 3..7, 0..7, 0..2.
  r.grantPages(20, 5, true);
  fill(r.bytes.subarray(20 * 4096, 25 * 4096), 2);
  const scattered = [
    { gref: 120, first: 3, last: 7 },
    { gref: 122, first: 0, last: 7 },
    { gref: 124, first: 0, last: 2 },
  ];
  r.front.put({ operation: BLKIF_OP_WRITE, id: 2, sector: 500, segments: scattered });
  const written = await r.kick();
  assert.deepEqual(written.map((x) => [x.id, x.status]), [[1, 0], [2, 0]]);
  const disk = new Uint8Array(32 * 512);
  await r.disk.read(64, disk);
  assert.deepEqual(disk, r.bytes.slice(10 * 4096, 14 * 4096));
  const expected = new Uint8Array([
    ...r.bytes.slice(20 * 4096 + 3 * 512, 21 * 4096),
    ...r.bytes.slice(22 * 4096, 23 * 4096),
    ...r.bytes.slice(24 * 4096, 24 * 4096 + 3 * 512),
  ]);
  const got = new Uint8Array(16 * 512);
  await r.disk.read(500, got);
  assert.deepEqual(got, expected);
  // Read both back into other pages.
  r.grantPages(40, 4);
  r.grantPages(50, 5);
  r.front.put({ operation: BLKIF_OP_READ, id: 3, sector: 64, segments: r.segs(40, 4) });
  r.front.put({
    operation: BLKIF_OP_READ,
    id: 4,
    sector: 500,
    segments: [{ gref: 150, first: 3, last: 7 }, { gref: 152, first: 0, last: 7 }, {
      gref: 154,
      first: 0,
      last: 2,
    }],
  });
  const read = await r.kick();
  assert.deepEqual(read.map((x) => [x.id, x.operation, x.status]), [[3, 0, 0], [4, 0, 0]]);
  assert.deepEqual(r.bytes.slice(40 * 4096, 44 * 4096), r.bytes.slice(10 * 4096, 14 * 4096));
  assert.deepEqual(r.bytes.slice(50 * 4096 + 3 * 512, 51 * 4096), expected.subarray(0, 5 * 512));
  assert.deepEqual(r.bytes.slice(54 * 4096, 54 * 4096 + 3 * 512), expected.subarray(13 * 512));
  assert.equal(r.back.metrics.bytesWritten, (32 + 16) * 512);
  assert.equal(r.back.metrics.bytesRead, (32 + 16) * 512);
  assert.equal(r.mapper.mapped, 1, "only the ring stays mapped");
});

Deno.test("blkback: a full ring is one pass and one notification", async () => {
  const r = rig();
  r.grantPages(0, 64);
  assert.equal(r.front.push(), false, "nothing published yet");
  for (let i = 0; i < 32; i++) {
    r.front.put({
      operation: BLKIF_OP_READ,
      id: i,
      sector: i * 8,
      segments: [{ gref: 101 + i, first: 0, last: 7 }],
    });
  }
  assert.equal(r.front.push(), true, "req_event starts at 1: the first push notifies");
  r.back.onEvent();
  await r.settle();
  const responses = r.front.takeResponses();
  assert.equal(responses.length, 32);
  assert.equal(r.back.metrics.batches, 1);
  assert.equal(r.back.metrics.maxBatch, 32);
  assert.equal(r.events.notified, 1, "one notification for 32 responses");
  // The backend armed req_event: the next push notifies; while it works, pushes do not.
  r.front.put({ operation: BLKIF_OP_READ, id: 99, sector: 0, segments: r.segs(1, 1) });
  assert.equal(r.front.push(), true);
  r.front.put({ operation: BLKIF_OP_READ, id: 100, sector: 0, segments: r.segs(1, 1) });
  assert.equal(r.front.push(), false, "already notified, the backend has not looked yet");
  r.back.onEvent();
  await r.settle();
  assert.equal(r.front.takeResponses().length, 2);
});

Deno.test("blkback: bad requests get errors, unknown ones EOPNOTSUPP, and it goes on", async () => {
  const r = rig({ sectors: 1024 });
  r.grantPages(1, 8);
  r.front.grant(150, 50, true); // read-only grant
  r.front.grant(151, PAGES + 1); // the grant table frame itself: not an ordinary page
  const put = (x: Parameters<typeof r.front.put>[0]) => r.front.put(x);
  const seg = [{ gref: 101, first: 0, last: 7 }];
  put({ operation: BLKIF_OP_READ, id: 1, sector: 0, segments: [] });
  put({ operation: BLKIF_OP_READ, id: 2, sector: 0, segments: Array(12).fill(seg[0]) });
  put({ operation: BLKIF_OP_READ, id: 3, sector: 0, segments: [{ gref: 101, first: 5, last: 4 }] });
  put({ operation: BLKIF_OP_READ, id: 4, sector: 0, segments: [{ gref: 101, first: 0, last: 8 }] });
  put({ operation: BLKIF_OP_READ, id: 5, sector: 1020, segments: seg }); // 1020..1027 > 1024
  put({ operation: BLKIF_OP_READ, id: 6, sector: 2 ** 52, segments: seg });
  put({
    operation: BLKIF_OP_READ,
    id: 7,
    sector: 0,
    segments: [{ gref: 99999, first: 0, last: 0 }],
  });
  put({ operation: BLKIF_OP_READ, id: 8, sector: 0, segments: [{ gref: 150, first: 0, last: 0 }] });
  put({ operation: BLKIF_OP_READ, id: 9, sector: 0, segments: [{ gref: 151, first: 0, last: 0 }] });
  put({ operation: BLKIF_OP_READ, id: 10, sector: 0, segments: [{ gref: 3, first: 0, last: 0 }] });
  put({ operation: 4, id: 11, sector: 0 });
  put({ operation: 200, id: 12, sector: 0 });
  put({ operation: BLKIF_OP_DISCARD, id: 13, sector: 0, sectors: 8, flag: BLKIF_DISCARD_SECURE });
  put({ operation: BLKIF_OP_DISCARD, id: 14, sector: 1000, sectors: 100 });
  put({ operation: BLKIF_OP_INDIRECT, id: 15, sector: 0, indirectOp: BLKIF_OP_READ });
  put({
    operation: BLKIF_OP_INDIRECT,
    id: 16,
    sector: 0,
    indirectOp: BLKIF_OP_FLUSH_DISKCACHE,
    indirectSegments: 1,
    indirectGrefs: [101],
  });
  put({
    operation: BLKIF_OP_INDIRECT,
    id: 17,
    sector: 0,
    indirectOp: BLKIF_OP_READ,
    indirectSegments: 257,
    indirectGrefs: [101],
  });
  put({
    operation: BLKIF_OP_INDIRECT,
    id: 18,
    sector: 0,
    indirectOp: BLKIF_OP_READ,
    indirectSegments: 1,
    indirectGrefs: [4242],
  });
  put({ operation: BLKIF_OP_READ, id: 19, sector: 8, segments: seg }); // fine
  const responses = await r.kick();
  const status = Object.fromEntries(responses.map((x) => [x.id, x.status]));
  const E = BLKIF_RSP_ERROR;
  const N = BLKIF_RSP_EOPNOTSUPP;
  assert.deepEqual(status, {
    1: E,
    2: E,
    3: E,
    4: E,
    5: E,
    6: E,
    7: E,
    8: E,
    9: E,
    10: E,
    11: N,
    12: N,
    13: N,
    14: E,
    15: E,
    16: E,
    17: E,
    18: E,
    19: BLKIF_RSP_OKAY,
  });
  assert.equal(responses.find((x) => x.id === 12)!.operation, 200, "the operation is echoed");
  assert.equal(r.back.stopped, false);
  assert.equal(r.mapper.mapped, 1, "failed requests leave nothing mapped");
});

Deno.test("blkback: a read-only disk answers writes with errors; ops not offered EOPNOTSUPP", async () => {
  const readOnly = new MemoryBackend(new SharedArrayBuffer(64 * 512), true);
  const r = rig({ backend: readOnly, maxIndirectSegments: 0 });
  r.grantPages(1, 2);
  r.front.put({ operation: BLKIF_OP_WRITE, id: 1, sector: 0, segments: r.segs(1, 1) });
  r.front.put({ operation: BLKIF_OP_DISCARD, id: 2, sector: 0, sectors: 1 });
  r.front.put({ operation: BLKIF_OP_READ, id: 3, sector: 0, segments: r.segs(2, 1) });
  r.front.put({
    operation: BLKIF_OP_INDIRECT,
    id: 4,
    sector: 0,
    indirectOp: BLKIF_OP_READ,
    indirectSegments: 1,
    indirectGrefs: [101],
  });
  const responses = await r.kick();
  assert.deepEqual(responses.sort((a, b) => a.id - b.id).map((x) => x.status), [
    BLKIF_RSP_ERROR,
    BLKIF_RSP_ERROR,
    BLKIF_RSP_OKAY,
    BLKIF_RSP_EOPNOTSUPP,
  ]);
});

Deno.test("blkback: indirect requests carry 64 segments each way", async () => {
  const r = rig();
  r.grantPages(100, 64, true);
  r.grantPages(180, 64);
  r.front.grant(50, 60); // indirect page for the write
  r.front.grant(51, 61); // and for the read
  fill(r.bytes.subarray(100 * 4096, 164 * 4096), 3);
  r.front.writeIndirectPage(60, r.segs(100, 64));
  r.front.writeIndirectPage(61, r.segs(180, 64));
  r.front.put({
    operation: BLKIF_OP_INDIRECT,
    id: 1,
    sector: 8,
    indirectOp: BLKIF_OP_WRITE,
    indirectSegments: 64,
    indirectGrefs: [50],
  });
  assert.deepEqual((await r.kick()).map((x) => [x.id, x.operation, x.status]), [[1, 6, 0]]);
  r.front.put({
    operation: BLKIF_OP_INDIRECT,
    id: 2,
    sector: 8,
    indirectOp: BLKIF_OP_READ,
    indirectSegments: 64,
    indirectGrefs: [51],
  });
  assert.deepEqual((await r.kick()).map((x) => x.status), [0]);
  assert.deepEqual(r.bytes.slice(180 * 4096, 244 * 4096), r.bytes.slice(100 * 4096, 164 * 4096));
  assert.equal(r.back.metrics.indirect, 2);
});

/** A memory disk whose operations take the time a test says, logging start and end. */
class SlowDisk implements BlockBackend {
  readonly inner = new MemoryBackend(new SharedArrayBuffer(4096 * 512));
  readonly info = this.inner.info;
  readonly log: string[] = [];
  delays = new Map<number, number>();

  #delay(sector: number): Promise<void> {
    const ms = this.delays.get(sector) ?? 0;
    return new Promise((r) => setTimeout(r, ms));
  }
  async read(sector: number, into: Uint8Array) {
    this.log.push(`read ${sector}`);
    await this.#delay(sector);
    await this.inner.read(sector, into);
    this.log.push(`read ${sector} done`);
  }
  async write(sector: number, from: Uint8Array) {
    this.log.push(`write ${sector}`);
    await this.#delay(sector);
    await this.inner.write(sector, from);
    this.log.push(`write ${sector} done`);
  }
  async flush() {
    this.log.push("flush");
    await this.#delay(-1);
    this.log.push("flush done");
  }
  discard(sector: number, count: number) {
    return this.inner.discard(sector, count);
  }
  close() {
    return this.inner.close();
  }
}

Deno.test("blkback: a fast request is answered before a slow one issued earlier", async () => {
  const disk = new SlowDisk();
  disk.delays.set(0, 40);
  const r = rig({ backend: disk });
  r.grantPages(1, 2);
  r.front.put({ operation: BLKIF_OP_READ, id: 1, sector: 0, segments: r.segs(1, 1) });
  r.front.put({ operation: BLKIF_OP_READ, id: 2, sector: 8, segments: r.segs(2, 1) });
  r.front.push();
  r.back.onEvent();
  await new Promise((res) => setTimeout(res, 10));
  assert.deepEqual(r.front.takeResponses().map((x) => x.id), [2], "the fast one is back");
  await new Promise((res) => setTimeout(res, 60));
  assert.deepEqual(r.front.takeResponses().map((x) => x.id), [1]);
  assert.equal(r.back.metrics.outOfOrder, 1);
  assert.equal(r.events.notified, 2);
});

Deno.test("blkback: a barrier waits for earlier writes, and later ones wait for it", async () => {
  const disk = new SlowDisk();
  disk.delays.set(0, 30).set(16, 10).set(-1, 10);
  const r = rig({ backend: disk });
  r.grantPages(1, 4);
  r.front.put({ operation: BLKIF_OP_WRITE, id: 1, sector: 0, segments: r.segs(1, 1) });
  r.front.put({ operation: BLKIF_OP_WRITE_BARRIER, id: 2, sector: 16, segments: r.segs(2, 1) });
  r.front.put({ operation: BLKIF_OP_WRITE, id: 3, sector: 32, segments: r.segs(3, 1) });
  r.front.put({ operation: BLKIF_OP_FLUSH_DISKCACHE, id: 4, sector: 0 });
  r.front.push();
  r.back.onEvent();
  await new Promise((res) => setTimeout(res, 150));
  assert.deepEqual(disk.log, [
    "write 0",
    "write 0 done",
    "write 16",
    "write 16 done",
    "flush",
    "flush done",
    "write 32",
    "write 32 done",
    "flush",
    "flush done",
  ]);
  assert.deepEqual(r.front.takeResponses().map((x) => [x.id, x.status]), [
    [1, 0],
    [2, 0],
    [3, 0],
    [4, 0],
  ]);
  assert.equal(r.back.metrics.barriers, 1);
});

Deno.test("blkback: a flush waits for the writes in flight", async () => {
  const disk = new SlowDisk();
  disk.delays.set(0, 30);
  const r = rig({ backend: disk });
  r.grantPages(1, 1);
  r.front.put({ operation: BLKIF_OP_WRITE, id: 1, sector: 0, segments: r.segs(1, 1) });
  r.front.put({ operation: BLKIF_OP_FLUSH_DISKCACHE, id: 2, sector: 0 });
  r.front.push();
  r.back.onEvent();
  await new Promise((res) => setTimeout(res, 80));
  assert.deepEqual(disk.log, ["write 0", "write 0 done", "flush", "flush done"]);
});

Deno.test("blkback: an I/O error fails one request; a backend bug stops the engine", async () => {
  const disk = new SlowDisk();
  let mode: "io" | "bug" | "ok" = "io";
  disk.read = (sector: number, into: Uint8Array) => {
    if (mode === "io") return Promise.reject(new BlockIoError("bad sector"));
    if (mode === "bug") return Promise.reject(new TypeError("undefined is not a function"));
    return disk.inner.read(sector, into);
  };
  const r = rig({ backend: disk });
  r.grantPages(1, 1);
  r.front.put({ operation: BLKIF_OP_READ, id: 1, sector: 0, segments: r.segs(1, 1) });
  assert.deepEqual((await r.kick()).map((x) => x.status), [BLKIF_RSP_ERROR]);
  mode = "ok";
  r.front.put({ operation: BLKIF_OP_READ, id: 2, sector: 0, segments: r.segs(1, 1) });
  assert.deepEqual((await r.kick()).map((x) => x.status), [BLKIF_RSP_OKAY]);
  mode = "bug";
  r.front.put({ operation: BLKIF_OP_READ, id: 3, sector: 0, segments: r.segs(1, 1) });
  assert.deepEqual(await r.kick(), [], "no answer: the frontend resubmits after the restart");
  assert.equal(r.events.fatal.length, 1);
  assert.ok(r.back.stopped);
  assert.equal(r.mapper.mapped, 1);
});

Deno.test("blkback: a producer index beyond repair stops the ring and says why", async () => {
  const r = rig();
  r.front.setRequestProducer(1000);
  r.back.onEvent();
  await r.settle();
  assert.equal(r.events.ringErrors.length, 1);
  assert.match(r.events.ringErrors[0], /overflow/i);
  assert.ok(r.back.stopped);
  r.front.setRequestProducer(1);
  r.back.onEvent();
  assert.equal(r.events.ringErrors.length, 1, "a stopped engine ignores the ring");
  await r.back.disconnect();
  assert.equal(r.mapper.mapped, 0);
});

Deno.test("blkback: garbage slots are answered, never trusted", async () => {
  const r = rig();
  r.grantPages(0, 64);
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 32; i++) {
      const raw = new Uint8Array(112).map(() => random() & 0xff);
      raw[0] = random() % 8; // mostly real operations, with garbage fields
      r.front.putRaw(raw);
    }
    const responses = await r.kick();
    assert.equal(responses.length, 32, `round ${round}: every slot answered`);
  }
  assert.equal(r.back.stopped, false);
  assert.equal(r.mapper.mapped, 1);
});

Deno.test("blkback: disconnect waits for requests in flight and unmaps everything", async () => {
  const disk = new SlowDisk();
  disk.delays.set(0, 20);
  const r = rig({ backend: disk });
  r.grantPages(1, 1);
  r.front.put({ operation: BLKIF_OP_READ, id: 1, sector: 0, segments: r.segs(1, 1) });
  r.front.push();
  r.back.onEvent();
  assert.equal(r.mapper.mapped, 2);
  await r.back.disconnect();
  assert.equal(r.mapper.mapped, 0);
  assert.equal(r.front.takeResponses().length, 0, "answers after a disconnect are dropped");
  const flags = new Uint16Array(r.buffer, (PAGES + 1) * 4096, 2048);
  assert.ok(flags.every((f, i) => i % 4 !== 0 || (f & 0x18) === 0), "no grant left in use");
});

Deno.test("blkback: discard reaches the backend", async () => {
  const r = rig();
  await r.disk.write(10, new Uint8Array(24 * 512).fill(5));
  r.front.put({ operation: BLKIF_OP_DISCARD, id: 1, sector: 10, sectors: 8 });
  assert.deepEqual((await r.kick()).map((x) => x.status), [BLKIF_RSP_OKAY]);
  const out = new Uint8Array(16 * 512);
  await r.disk.read(10, out);
  assert.ok(out.subarray(0, 8 * 512).every((b) => b === 0));
  assert.ok(out.subarray(8 * 512).every((b) => b === 5));
  assert.equal(r.back.metrics.discards, 1);
});

Deno.test("blkback: persistent grants stay mapped across requests, read-only ones do not", async () => {
  const buffer = new SharedArrayBuffer((PAGES + 2) * 4096);
  const foreign = new ForeignMaps(PAGES + 2);
  const source: GrantSource = {
    domid: 7,
    buffer,
    firstFrame: FIRST,
    maxPages: PAGES,
    grantFrameIndex: PAGES + 1,
    grantFrames: 1,
    foreignMaps: foreign.buffer,
  };
  const front = new BlockFrontRing({ buffer, firstFrame: FIRST, grantFrameIndex: PAGES + 1 }, 0);
  front.init();
  front.grant(RING_REF, 0);
  for (let p = 1; p <= 4; p++) front.grant(100 + p, p);
  front.grant(105, 5, true); // read-only: usable for writes, never kept
  const mapper = new GrantMapper(source);
  const disk = new MemoryBackend(new SharedArrayBuffer(64 * 512));
  const back = new Blkback(mapper, buffer, RING_REF, disk, { notify: () => {}, persistent: true });
  const seg = (gref: number) => [{ gref, first: 0, last: 7 }];
  for (let round = 0; round < 3; round++) {
    front.put({ operation: BLKIF_OP_WRITE, id: 1, sector: 0, segments: seg(101) });
    front.put({ operation: BLKIF_OP_READ, id: 2, sector: 0, segments: seg(102) });
    front.put({ operation: BLKIF_OP_WRITE, id: 3, sector: 8, segments: seg(105) });
    front.push();
    back.onEvent();
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(front.takeResponses().map((x) => x.status), [0, 0, 0]);
  }
  assert.equal(back.metrics.persistentGrants, 2);
  assert.equal(mapper.mapped, 3, "the ring and two persistent grants");
  assert.equal(
    mapper.maps,
    1 + 2 + 3,
    "one map per persistent grant; the read-only one each time",
  );
  assert.equal(front.endGrant(101), false, "a persistent grant stays in use");
  await back.disconnect();
  assert.equal(mapper.mapped, 0);
  assert.equal(front.endGrant(101), true);
});

Deno.test("front ring: with mitigation the frontend is notified once half its requests are back", async () => {
  const gates: (() => void)[] = [];
  const disk = new SlowDisk();
  disk.read = () => new Promise<void>((resolve) => gates.push(resolve));
  const r = rig({ backend: disk });
  r.grantPages(1, 8);
  r.front.takeResponses([], true); // nothing outstanding: notify on the next response
  for (let i = 0; i < 8; i++) {
    r.front.put({ operation: BLKIF_OP_READ, id: i, sector: i * 8, segments: r.segs(1 + i, 1) });
  }
  r.front.push();
  r.back.onEvent();
  await r.settle();
  assert.equal(gates.length, 8);
  const release = async (n: number) => {
    for (let i = 0; i < n; i++) gates.shift()!();
    await r.settle();
  };
  await release(1);
  assert.equal(r.events.notified, 1, "the first answer notifies (rsp_event was cons + 1)");
  assert.equal(r.front.takeResponses([], true).length, 1); // 7 outstanding: notify after 3 more
  await release(2);
  assert.equal(r.events.notified, 1, "two more answers: no notification yet");
  await release(1);
  assert.equal(r.events.notified, 2, "the third one notifies");
  assert.equal(r.front.takeResponses([], true).length, 3); // 4 outstanding: after 2 more
  await release(4);
  assert.equal(r.events.notified, 3);
  assert.equal(r.front.takeResponses([], true).length, 4);
});
