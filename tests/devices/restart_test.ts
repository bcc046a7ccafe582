/**
 * Recovery: a block worker that is killed mid-stream, that throws, that hangs (a promise that
 * never settles, or a thread that never returns) is restarted by the supervisor; the TypeScript
 * frontend reconnects through xenstore and resubmits what was unanswered; no acknowledged write
 * is lost (the image file is checked, including at the moment of the kill).
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { blockRig } from "../block/rig.ts";

const here = dirname(fileURLToPath(import.meta.url));
const BLOCKS = 1536; // 4 KiB blocks: 6 MiB

function block(i: number): Uint8Array {
  const bytes = new Uint8Array(4096);
  const view = new DataView(bytes.buffer);
  for (let w = 0; w < 1024; w++) view.setUint32(w * 4, (i * 0x9e3779b1 + w * 7919) >>> 0, true);
  return bytes;
}

function checkFile(file: Uint8Array, blocks: Iterable<number>, when: string): void {
  for (const i of blocks) {
    const got = file.subarray(i * 4096, (i + 1) * 4096);
    const want = block(i);
    assert.ok(
      got.every((b, k) => b === want[k]),
      `block ${i} (acknowledged) is not in the image ${when}`,
    );
  }
}

let ackedSoFar = new Set<number>();

/** Writes every block at queue depth 32; calls `midway` once `trigger` writes are acknowledged. */
async function writeAll(
  front: { write(sector: number, data: Uint8Array): Promise<void> },
  trigger: number,
  midway: () => Promise<void> | void,
): Promise<Set<number>> {
  const acked = ackedSoFar = new Set<number>();
  let next = 0;
  let fired = false;
  const worker = async () => {
    while (next < BLOCKS) {
      const i = next++;
      await front.write(i * 8, block(i));
      acked.add(i);
      if (!fired && acked.size >= trigger) {
        fired = true;
        await midway();
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return acked;
}

Deno.test("recovery: killing the block worker mid-stream loses no acknowledged write", async () => {
  const rig = blockRig();
  try {
    const guest = rig.guest("killed");
    const image = await rig.image(BLOCKS * 4096);
    await rig.supervisor.attachDisk(guest.id, `vdev=xvda, target=${image}`);
    const front = await rig.frontend(guest, 51712, { pagesPerSlot: 1 });
    let inflightAtKill = 0;
    const acked = await writeAll(front, 500, async () => {
      // Let the other writers put their next requests on the ring, then kill the worker.
      while (front.inflight === 0) await new Promise((r) => setTimeout(r, 0));
      inflightAtKill = front.inflight;
      const ackedAtKill = new Set(ackedSoFar);
      rig.supervisor.killDisk(guest.id, "xvda");
      // Right now, before any reconnect: everything acknowledged is in the file.
      checkFile(await Deno.readFile(image), ackedAtKill, "right after the kill");
    });
    assert.equal(acked.size, BLOCKS);
    checkFile(await Deno.readFile(image), acked, "at the end");
    assert.ok(inflightAtKill > 0, "requests were in flight at the kill");
    assert.equal(front.reconnects, 1);
    // (Whether any were still unanswered when the worker died depends on timing; the faulty
    // backends below always leave one unanswered, and the frontend resubmits it.)
    const [disk] = rig.supervisor.listDisks(guest.id);
    assert.equal(disk.restarts, 1);
    assert.equal(disk.stateName, "Connected");
  } finally {
    await rig.cleanup();
  }
});

for (const fault of ["throw", "hang", "spin"]) {
  Deno.test(`recovery: a backend that ${fault}s is restarted and the stream completes`, async () => {
    const rig = blockRig({ watchdog: { intervalMs: 50, timeoutMs: 800 } });
    try {
      const guest = rig.guest(`faulty-${fault}`);
      const image = await rig.image(BLOCKS * 4096);
      await rig.supervisor.attachDisk(
        guest.id,
        `vdev=xvda, target=${image}, backend=./fixtures/faulty_block.ts, fault=${fault}, at=300`,
        { baseDir: here },
      );
      const front = await rig.frontend(guest, 51712, { pagesPerSlot: 1 });
      const acked = await writeAll(front, BLOCKS, () => {});
      checkFile(await Deno.readFile(image), acked, "at the end");
      const [disk] = rig.supervisor.listDisks(guest.id);
      assert.equal(disk.restarts, 1, rig.log.join("\n"));
      const reason = fault === "throw" ? /backend failed: TypeError: injected bug/ : /hung/;
      assert.ok(rig.log.some((line) => reason.test(line)), rig.log.join("\n"));
      assert.equal(front.reconnects, 1);
      assert.ok(front.resubmitted >= 1, "the unanswered write was resubmitted");
    } finally {
      await rig.cleanup();
    }
  });
}

Deno.test("recovery: a backend that always fails is given up on, with the reason", async () => {
  const rig = blockRig({ restarts: { max: 2, windowMs: 60_000 } });
  try {
    const guest = rig.guest("hopeless");
    const image = await rig.image(1 << 20);
    await rig.supervisor.attachDisk(
      guest.id,
      `vdev=xvda, target=${image}, backend=./fixtures/faulty_block.ts, fault=always`,
      { baseDir: here },
    );
    const front = await rig.frontend(guest, 51712, { pagesPerSlot: 1 });
    const write = front.write(0, block(0)).catch((e) => e);
    await rig.until("giving up", () => rig.supervisor.listDisks()[0].error !== undefined);
    const [disk] = rig.supervisor.listDisks();
    assert.match(disk.error!, /gave up after 3 failures/);
    assert.equal(disk.restarts, 3);
    assert.match(
      rig.dom0.read(`/local/domain/0/error${disk.backendPath}/error`),
      /always-failing backend/,
    );
    await front.close();
    assert.match(String(await write), /frontend closed/);
  } finally {
    await rig.cleanup();
  }
});
