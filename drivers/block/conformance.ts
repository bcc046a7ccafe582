/**
 * The conformance suite every block backend runs: call {@link blockBackendConformance} from the
 * implementation's test file with a harness that makes a fresh disk; it registers one `Deno.test`
 * per rule of the {@link BlockBackend} contract (see `backend.ts`), driving the backend through
 * its module's `open` exactly as the disk's worker does.
 *
 * ```ts
 * import { blockBackendConformance } from "@paravirt/drivers";
 * import * as memory from "./memory_backend.ts";
 * blockBackendConformance({
 *   name: "memory",
 *   create: () => Promise.resolve({ module: memory, params: { size: "1M" }, cleanup: async () => {} }),
 * });
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type BlockBackend,
  type BlockBackendModule,
  BlockIoError,
  type BlockOpenOptions,
  SECTOR,
} from "./backend.ts";

/** A fresh disk for one test. */
export interface ConformanceDisk {
  /** The backend module under test. */
  readonly module: BlockBackendModule;
  /** The disk line's target, if the backend uses one. */
  readonly target?: string;
  /** The disk line's other parameters. */
  readonly params?: Readonly<Record<string, string>>;
  /** Removes what {@link ConformanceHarness.create} made. */
  cleanup(): Promise<void>;
}

/** How the suite gets disks of one implementation. */
export interface ConformanceHarness {
  /** Names the tests. */
  readonly name: string;
  /** Makes a fresh disk (small: at most 64 Ki sectors). */
  create(): Promise<ConformanceDisk>;
}

/** One disk under test, reopenable with the buffers it retained. */
class Subject {
  readonly retained: SharedArrayBuffer[] = [];
  constructor(readonly disk: ConformanceDisk) {}

  open(readOnly: boolean): Promise<BlockBackend> {
    const options: BlockOpenOptions = {
      target: this.disk.target,
      readOnly,
      params: this.disk.params ?? {},
      retained: [...this.retained],
      retain: (buffer) => this.retained.push(buffer),
    };
    return this.disk.module.open(options);
  }
}

function pattern(sector: number, count: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(count * SECTOR);
  let x = (sector * 2654435761 + seed * 40503) >>> 0 || 1;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

async function whole(backend: BlockBackend): Promise<Uint8Array> {
  const bytes = new Uint8Array(backend.info.sectors * SECTOR);
  await backend.read(0, bytes);
  return bytes;
}

async function rejectsWith(
  promise: () => Promise<unknown>,
  type: typeof RangeError | typeof BlockIoError,
  what: string,
): Promise<void> {
  let result: Promise<unknown>;
  try {
    result = promise();
  } catch (error) {
    assert.fail(`${what}: threw synchronously (${error}) instead of rejecting`);
  }
  await assert.rejects(result, type, what);
}

/** Registers the conformance tests for one implementation. */
export function blockBackendConformance(harness: ConformanceHarness): void {
  const test = (rule: string, body: (subject: Subject) => Promise<void>) =>
    Deno.test(`${harness.name} block backend: ${rule}`, async () => {
      const disk = await harness.create();
      try {
        await body(new Subject(disk));
      } finally {
        await disk.cleanup();
      }
    });

  test("reports a size in sectors and its mode", async (subject) => {
    const backend = await subject.open(false);
    assert.ok(Number.isSafeInteger(backend.info.sectors) && backend.info.sectors > 0);
    assert.ok(backend.info.sectors <= 65536, "harness disks are small");
    assert.equal(backend.info.readOnly, false);
    assert.equal(typeof backend.info.discard, "boolean");
    await backend.close();
  });

  test("reads back what it wrote, and nothing else changes", async (subject) => {
    const backend = await subject.open(false);
    const last = backend.info.sectors - 1;
    const before = await whole(backend);
    const writes: [number, number][] = [[0, 1], [last, 1], [Math.min(1001, last - 40), 37]];
    for (const [sector, count] of writes) {
      await backend.write(sector, pattern(sector, count, 1));
    }
    for (const [sector, count] of writes) {
      const out = new Uint8Array(count * SECTOR);
      await backend.read(sector, out);
      assert.deepEqual(out, pattern(sector, count, 1), `sectors ${sector}+${count}`);
    }
    const after = await whole(backend);
    for (const [sector, count] of writes) {
      before.set(pattern(sector, count, 1), sector * SECTOR);
    }
    assert.ok(after.every((b, i) => b === before[i]), "only the written sectors changed");
    await backend.close();
  });

  test("rejects bad ranges with RangeError and changes nothing", async (subject) => {
    const backend = await subject.open(false);
    const n = backend.info.sectors;
    const before = await whole(backend);
    const one = new Uint8Array(SECTOR);
    await rejectsWith(() => backend.read(n, one), RangeError, "read past the end");
    await rejectsWith(() => backend.read(n - 1, new Uint8Array(2 * SECTOR)), RangeError, "tail");
    await rejectsWith(() => backend.read(-1, one), RangeError, "negative sector");
    await rejectsWith(() => backend.read(0.5, one), RangeError, "fractional sector");
    await rejectsWith(() => backend.read(0, new Uint8Array(0)), RangeError, "empty transfer");
    await rejectsWith(() => backend.read(0, new Uint8Array(100)), RangeError, "partial sector");
    await rejectsWith(() => backend.write(n, pattern(0, 1, 2)), RangeError, "write past the end");
    await rejectsWith(
      () => backend.write(n - 1, pattern(0, 2, 2)),
      RangeError,
      "write over the end",
    );
    await rejectsWith(() => backend.write(0, new Uint8Array(7)), RangeError, "partial write");
    assert.deepEqual(await whole(backend), before);
    await backend.close();
  });

  test("operations outstanding at once all complete, each on its own sectors", async (subject) => {
    const backend = await subject.open(false);
    const span = Math.floor(backend.info.sectors / 64);
    const writes = [];
    for (let i = 0; i < 64; i++) writes.push(backend.write(i * span, pattern(i * span, 3, 3)));
    const reads = [];
    for (let i = 0; i < 8; i++) reads.push(backend.read(i * span + 5, new Uint8Array(SECTOR)));
    await Promise.all([...writes, ...reads]);
    for (let i = 0; i < 64; i++) {
      const out = new Uint8Array(3 * SECTOR);
      await backend.read(i * span, out);
      assert.deepEqual(out, pattern(i * span, 3, 3), `write ${i}`);
    }
    await backend.close();
  });

  test("reads into and writes from shared memory views", async (subject) => {
    const backend = await subject.open(false);
    const guest = new Uint8Array(new SharedArrayBuffer(4 * 4096));
    guest.set(pattern(9, 8, 4), 4096);
    await backend.write(9, guest.subarray(4096, 8192));
    await backend.read(9, guest.subarray(3 * 4096, 4 * 4096));
    assert.deepEqual(guest.slice(3 * 4096), pattern(9, 8, 4));
    await backend.close();
  });

  test("flushed writes survive close and reopen (with retained buffers)", async (subject) => {
    const first = await subject.open(false);
    await first.write(17, pattern(17, 9, 5));
    await first.flush();
    await first.close();
    const second = await subject.open(false);
    const out = new Uint8Array(9 * SECTOR);
    await second.read(17, out);
    assert.deepEqual(out, pattern(17, 9, 5));
    await second.close();
  });

  test("discard forgets only its sectors (or is refused when not offered)", async (subject) => {
    const backend = await subject.open(false);
    await backend.write(100, pattern(100, 30, 6));
    if (!backend.info.discard) {
      await rejectsWith(() => backend.discard(100, 10), BlockIoError, "discard not offered");
    } else {
      await backend.discard(110, 10);
      const out = new Uint8Array(30 * SECTOR);
      await backend.read(100, out);
      const expected = pattern(100, 30, 6);
      assert.deepEqual(out.subarray(0, 10 * SECTOR), expected.subarray(0, 10 * SECTOR));
      assert.deepEqual(out.subarray(20 * SECTOR), expected.subarray(20 * SECTOR));
      const n = backend.info.sectors;
      await rejectsWith(() => backend.discard(n - 1, 2), RangeError, "discard over the end");
      await rejectsWith(() => backend.discard(-3, 1), RangeError, "discard before the start");
    }
    await backend.close();
  });

  test("read-only: reads work, writes and discards fail with BlockIoError", async (subject) => {
    const writer = await subject.open(false);
    await writer.write(40, pattern(40, 4, 7));
    await writer.flush();
    await writer.close();
    const reader = await subject.open(true);
    assert.equal(reader.info.readOnly, true);
    const before = await whole(reader);
    assert.deepEqual(before.subarray(40 * SECTOR, 44 * SECTOR), pattern(40, 4, 7));
    await rejectsWith(() => reader.write(40, pattern(40, 1, 8)), BlockIoError, "write");
    await rejectsWith(() => reader.discard(40, 1), BlockIoError, "discard");
    assert.deepEqual(await whole(reader), before);
    await reader.close();
  });

  test("a closed disk rejects every operation", async (subject) => {
    const backend = await subject.open(false);
    await backend.close();
    await rejectsWith(() => backend.read(0, new Uint8Array(SECTOR)), BlockIoError, "read");
    await rejectsWith(() => backend.write(0, new Uint8Array(SECTOR)), BlockIoError, "write");
    await rejectsWith(() => backend.flush(), BlockIoError, "flush");
  });
}
