/**
 * `deno task bench:block`: the block path measured against raw Deno file I/O on the same file, in
 * the same run.
 *
 * The path: a frontend in a guest domain's memory → the shared ring and grants → the block worker
 * the device supervisor started (file backend, read and write permission on the image only) →
 * `pread`/`pwrite` on the image → back. The reference: the same requests as synchronous positioned
 * reads and writes (`node:fs`, the fastest raw Deno file I/O measured on this machine) on the same
 * file, from one thread.
 *
 * 1. Sequential read and write, 4 KiB and 64 KiB requests, queue depth 32: MB/s, ratio to raw
 *    (target at 64 KiB: ≥ 70 %).
 * 2. 4 KiB random reads at queue depth 32: IOPS, ratio to raw.
 * 3. Notifications per request at depth 32 (frontend → backend and back; batching
 *    effectiveness), and the largest batch blkback took in one pass.
 * 4. Event round trip frontend → backend → frontend: a request blkback answers without I/O
 *    (a reserved operation), one at a time; median and 99th percentile. Also 4 KiB reads at
 *    depth 1.
 *
 * The frontend today is TypeScript on the main thread (`TsBlkfront`, which speaks the protocol
 * exactly as a guest's blkfront does, with persistent grants), because the PV guest's blkfront is
 * not there yet; the output says so. The page cache holds the image, so both sides measure the
 * software path, not the disk. Usage: `deno task bench:block [--quick] [--scatter]` (`--scatter`
 * interleaves each request's pages so blkback copies through bounce buffers).
 *
 * @module
 */

import * as fs from "node:fs";
import { blockRig } from "@paravirt/tests";

const quick = Deno.args.includes("--quick");
const scatter = Deno.args.includes("--scatter");
const FILE_BYTES = (quick ? 32 : 64) << 20;
/** Each measurement runs whole passes over the file for at least this long. */
const MIN_SECONDS = quick ? 0.3 : 1;
const DEPTH = 32;
const rig = blockRig();
const guest = rig.guest("bench", 8);
const image = await rig.image(FILE_BYTES, (b) => {
  for (let i = 0; i < b.length; i += 4096) b[i] = i >>> 12;
});
await rig.supervisor.attachDisk(guest.id, `format=raw, vdev=xvda, access=rw, target=${image}`);
const front = await rig.frontend(guest, 51712, { pagesPerSlot: 16, slots: DEPTH, scatter });

/** Runs `count` requests at queue depth `depth`; `request(i)` starts the i-th. */
async function atDepth(
  count: number,
  depth: number,
  request: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < count) await request(next++);
  };
  await Promise.all(Array.from({ length: depth }, lane));
  return (performance.now() - started) / 1000;
}

/** Runs `pass` (moving `units` each) until `MIN_SECONDS` have gone by; returns units/s. */
async function sustained(units: number, pass: () => Promise<void> | void): Promise<number> {
  let done = 0;
  const started = performance.now();
  do {
    await pass();
    done += units;
  } while (performance.now() - started < MIN_SECONDS * 1000);
  return done / ((performance.now() - started) / 1000);
}

/**
 * Raw positioned I/O from this thread, `size` bytes at each of `offsets`, rotating through
 * `buffers` buffers (1: the simplest loop; DEPTH: the memory a guest at that queue depth uses).
 */
function rawIo(write: boolean, size: number, offsets: Float64Array, buffers: number) {
  const fd = fs.openSync(image, "r+");
  const pool = Array.from({ length: buffers }, () => new Uint8Array(size));
  return sustained(offsets.length, () => {
    for (let i = 0; i < offsets.length; i++) {
      const buffer = pool[i % buffers];
      if (write) fs.writeSync(fd, buffer, 0, size, offsets[i]);
      else fs.readSync(fd, buffer, 0, size, offsets[i]);
    }
  }).finally(() => fs.closeSync(fd));
}

/** The same requests through the block path at queue depth DEPTH. */
function pathIo(write: boolean, size: number, offsets: Float64Array) {
  const sectors = size / 512;
  return sustained(offsets.length, async () => {
    await atDepth(offsets.length, DEPTH, (i) => front.transfer(write, offsets[i] / 512, sectors));
  });
}

function sequentialOffsets(size: number): Float64Array {
  return Float64Array.from({ length: FILE_BYTES / size }, (_, i) => i * size);
}

function randomOffsets(n: number): Float64Array {
  const blocks = FILE_BYTES / 4096;
  const out = new Float64Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = (x % blocks) * 4096;
  }
  return out;
}

function median(sorted: number[]): number {
  return sorted[Math.floor(sorted.length / 2)];
}

function pct(a: number, b: number): string {
  return `${(100 * a / b).toFixed(0)} %`;
}

console.log(
  `block path vs raw Deno file I/O, ${FILE_BYTES >> 20} MiB image in the page cache` +
    (scatter ? ", scattered request pages (bounce buffers)" : ""),
);
console.log(
  "frontend: TypeScript blkfront on the main thread (the PV guest's blkfront is not there yet)\n",
);

// Warm up both sides (page cache, JIT, the worker's first requests).
await rawIo(false, 65536, sequentialOffsets(65536), 1);
await pathIo(false, 65536, sequentialOffsets(65536));
await pathIo(true, 4096, sequentialOffsets(4096));

const rows: Record<string, string>[] = [];
const results: Record<string, number> = {};
const random = randomOffsets(quick ? 20_000 : 60_000);
for (
  const [name, write, size, offsets] of [
    ["seq read 4 KiB", false, 4096, sequentialOffsets(4096)],
    ["seq read 64 KiB", false, 65536, sequentialOffsets(65536)],
    ["seq write 4 KiB", true, 4096, sequentialOffsets(4096)],
    ["seq write 64 KiB", true, 65536, sequentialOffsets(65536)],
    ["rand read 4 KiB", false, 4096, random],
  ] as const
) {
  // Best of a few runs each, alternating, so no side wins by the moment it ran.
  let ours = 0;
  let raw = 0;
  let raw32 = 0;
  for (let run = 0; run < (quick ? 2 : 3); run++) {
    raw = Math.max(raw, await rawIo(write, size, offsets, 1));
    raw32 = Math.max(raw32, await rawIo(write, size, offsets, DEPTH));
    ours = Math.max(ours, await pathIo(write, size, offsets));
  }
  results[name] = ours / raw;
  results[`${name} (${DEPTH} buffers)`] = ours / raw32;
  const unit = offsets === random
    ? (v: number) => `${v.toFixed(0)} IOPS`
    : (v: number) => `${(v * size / 1e6).toFixed(0)} MB/s`;
  rows.push({
    what: `${name}${offsets === random ? ` QD${DEPTH}` : ""}`,
    path: unit(ours),
    "raw, 1 buffer": unit(raw),
    "path/raw": pct(ours, raw),
    [`raw, ${DEPTH} buffers`]: unit(raw32),
    [`path/raw${DEPTH}`]: pct(ours, raw32),
  });
}
console.table(rows);

{
  const n = random.length;
  const before = (await rig.supervisor.diskMetrics(guest.id, "xvda"))!;
  const sentBefore = front.notificationsSent;
  await atDepth(n, DEPTH, (i) => front.transfer(false, random[i] / 512, 8));
  const after = (await rig.supervisor.diskMetrics(guest.id, "xvda"))!;
  const toBackend = front.notificationsSent - sentBefore;
  const toFrontend = after.notificationsOut - before.notificationsOut;
  results.notifications = (toBackend + toFrontend) / n;
  console.log(
    `\nnotifications per request, 4 KiB random reads at depth ${DEPTH}: ` +
      `${results.notifications.toFixed(3)} (${(toBackend / n).toFixed(3)} to the backend, ` +
      `${(toFrontend / n).toFixed(3)} back); passes over the ring: ` +
      `${after.batches - before.batches} for ${n} requests`,
  );
}

{
  const rounds = quick ? 1000 : 3000;
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await front.ping();
    times.push((performance.now() - started) * 1000);
  }
  times.sort((a, b) => a - b);
  const reads: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await front.transfer(false, (i % 1000) * 8, 8);
    reads.push((performance.now() - started) * 1000);
  }
  reads.sort((a, b) => a - b);
  console.log(
    `event round trip frontend → backend → frontend: median ${median(times).toFixed(0)} µs, ` +
      `p99 ${times[Math.floor(times.length * 0.99)].toFixed(0)} µs (${rounds} requests answered ` +
      `without I/O)`,
  );
  console.log(
    `4 KiB read at depth 1: median ${median(reads).toFixed(0)} µs, ` +
      `p99 ${reads[Math.floor(reads.length * 0.99)].toFixed(0)} µs`,
  );
}

const verdict = (suffix: string) => {
  const read = results[`seq read 64 KiB${suffix}`];
  const write = results[`seq write 64 KiB${suffix}`];
  return `read ${pct(read, 1)}, write ${pct(write, 1)} — ` +
    (read >= 0.7 && write >= 0.7 ? "met" : "NOT met");
};
console.log(`\ntarget, 64 KiB ≥ 70 % of raw: against one buffer ${verdict("")}`);
console.log(
  `  (against ${DEPTH} buffers, the memory the guest's requests use: ${
    verdict(` (${DEPTH} buffers)`)
  })`,
);
await rig.cleanup();
