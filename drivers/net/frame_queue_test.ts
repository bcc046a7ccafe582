import assert from "node:assert/strict";
import {
  createFrameQueue,
  FRAME_QUEUE_HEADER,
  FrameQueueError,
  FrameQueueReader,
  FrameQueueWriter,
} from "./frame_queue.ts";
import { NET_QUEUE_MIN_BYTES } from "./params.ts";

const SIZE = NET_QUEUE_MIN_BYTES;

function frame(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (seed + i * 7) & 0xff;
  return bytes;
}

Deno.test("frame queue: frames go through in order, across the wrap, any length", () => {
  const buffer = createFrameQueue(SIZE);
  const writer = new FrameQueueWriter(buffer, 9000);
  const reader = new FrameQueueReader(buffer, 9000);
  const out = new Uint8Array(9000);
  let sent = 0;
  let got = 0;
  // Enough traffic to wrap the data area several times, with odd lengths.
  for (let round = 0; round < 200; round++) {
    const lengths = [0, 1, 3, 60, 1514, 4095, 8999].map((l) => (l + round) % 9001);
    for (const length of lengths) {
      if (!writer.write(frame(length, sent), length)) break;
      sent++;
    }
    assert.equal(reader.peekLength(), -1, "nothing before publish");
    writer.publish();
    for (;;) {
      const length = reader.read(out);
      if (length < 0) break;
      const expected = [0, 1, 3, 60, 1514, 4095, 8999].map((l) => (l + round) % 9001)[got % 7];
      assert.equal(length, expected);
      assert.deepEqual(out.subarray(0, length), frame(length, got));
      got++;
    }
    reader.release();
  }
  assert.equal(got, sent);
  assert.equal(writer.free(), SIZE);
});

Deno.test("frame queue: a full queue refuses, and frees as the reader releases", () => {
  const buffer = createFrameQueue(SIZE);
  const writer = new FrameQueueWriter(buffer, 65535);
  const reader = new FrameQueueReader(buffer, 65535);
  assert.ok(writer.write(frame(65535, 1)));
  assert.equal(writer.write(frame(65535, 2)), false, "the second big frame does not fit");
  assert.ok(writer.fits(SIZE - 65540 - 4));
  writer.publish();
  assert.equal(writer.prepareWait(65535), false, "still no room: the writer may sleep");
  assert.equal(reader.skip(), 65535);
  assert.equal(reader.release(), true, "the writer was waiting: ring it");
  assert.equal(reader.release(), false, "once");
  assert.ok(writer.write(frame(65535, 2)));
  assert.throws(() => writer.write(new Uint8Array(65536)), RangeError);
});

Deno.test("frame queue: notifications are held off until the other side waits", () => {
  const buffer = createFrameQueue(SIZE);
  const writer = new FrameQueueWriter(buffer);
  const reader = new FrameQueueReader(buffer);
  writer.write(frame(10, 0));
  assert.equal(writer.publish(), false, "the reader is not asleep");
  assert.equal(reader.prepareWait(), true, "a frame is there: do not sleep");
  reader.skip();
  reader.release();
  assert.equal(reader.prepareWait(), false, "empty: sleep");
  writer.write(frame(10, 1));
  assert.equal(writer.publish(), true, "the reader sleeps: ring");
  writer.write(frame(10, 2));
  assert.equal(writer.publish(), false, "already rung");
});

Deno.test("frame queue: a lying producer or consumer is caught, never followed", () => {
  const buffer = createFrameQueue(SIZE);
  const words = new Int32Array(buffer, 0, FRAME_QUEUE_HEADER / 4);
  const data = new DataView(buffer, FRAME_QUEUE_HEADER);
  const reader = new FrameQueueReader(buffer, 1514);
  const out = new Uint8Array(1514);
  words[0] = SIZE + 4; // more than the queue holds
  assert.throws(() => reader.read(out), FrameQueueError);
  words[0] = 6; // misaligned
  assert.throws(() => reader.read(out), FrameQueueError);
  words[0] = 8;
  data.setUint32(0, 1515, true); // longer than the cap
  assert.throws(() => reader.read(out), FrameQueueError);
  data.setUint32(0, 100, true); // longer than what was published
  assert.throws(() => reader.read(out), FrameQueueError);
  data.setUint32(0, 0xffff_ffff, true);
  assert.throws(() => reader.peekLength(), FrameQueueError);
  data.setUint32(0, 4, true);
  assert.equal(reader.read(out), 4, "a valid record still reads");
  const writer = new FrameQueueWriter(buffer, 1514);
  words[1] = 1000; // a tail ahead of the head
  assert.throws(() => writer.write(frame(10, 0)), FrameQueueError);
  assert.throws(() => new FrameQueueReader(new SharedArrayBuffer(100)), RangeError);
  assert.throws(() => createFrameQueue(SIZE + 4), RangeError);
});

Deno.test("frame queue: a writer and a reader in two threads move 20k frames intact", async () => {
  const buffer = createFrameQueue(SIZE);
  const source = `
    const { FrameQueueWriter } = await import(${
    JSON.stringify(new URL("./frame_queue.ts", import.meta.url).href)
  });
    self.onmessage = (e) => {
      const writer = new FrameQueueWriter(e.data, 2000);
      const bytes = new Uint8Array(2000);
      for (let n = 0; n < 20000;) {
        const length = (n * 37) % 2000;
        for (let i = 0; i < length; i++) bytes[i] = (n + i) & 0xff;
        if (writer.write(bytes, length)) { n++; if (n % 16 === 0) writer.publish(); }
        else writer.publish();
      }
      writer.publish();
      self.postMessage("done");
    };`;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const done = new Promise((r) => worker.onmessage = r);
  worker.postMessage(buffer);
  const reader = new FrameQueueReader(buffer, 2000);
  const out = new Uint8Array(2000);
  let n = 0;
  const deadline = performance.now() + 20_000;
  while (n < 20000) {
    assert.ok(performance.now() < deadline, `stuck at frame ${n}`);
    const length = reader.read(out);
    if (length < 0) {
      reader.release();
      await new Promise((r) => setTimeout(r, 0));
      continue;
    }
    assert.equal(length, (n * 37) % 2000);
    for (let i = 0; i < length; i++) {
      if (out[i] !== ((n + i) & 0xff)) assert.fail(`frame ${n} byte ${i} differs`);
    }
    n++;
  }
  reader.release();
  await done;
  worker.terminate();
  URL.revokeObjectURL(url);
});
