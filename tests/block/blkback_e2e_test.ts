/**
 * End to end, through the whole path: a TypeScript blkfront in a guest domain's memory → the ring
 * and grants → a block worker started by the device supervisor (with only its image's
 * permissions) → the backend module → the image file; the xenbus handshake through xenstore.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_ERROR, XenbusStateConnected } from "@paravirt/public";
import { blockRig } from "./rig.ts";
import type { BlockRequestError } from "./ts_blkfront.ts";

function pattern(sector: number, count: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(count * 512);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = ((sector * 512 + i) * 2654435761 + seed * 97) >>> 24;
  }
  return bytes;
}

Deno.test("block e2e: writes and reads reach the image file, direct and indirect", async () => {
  const rig = blockRig();
  try {
    const guest = rig.guest("writer");
    const image = await rig.image(8 << 20);
    const info = await rig.supervisor.attachDisk(
      guest.id,
      `format=raw, vdev=xvda, access=rw, target=${image}`,
    );
    assert.equal(info.devid, 51712);
    const front = await rig.frontend(guest, info.devid);
    assert.equal(front.sectors, 16384);
    assert.equal(front.readOnly, false);
    assert.equal(front.maxIndirect, 256);
    assert.equal(rig.supervisor.listDisks(guest.id)[0].state, XenbusStateConnected);
    // One sector, one page, 11 pages (the direct limit), 16 pages (indirect), a barrier write.
    const writes: [number, number][] = [[0, 1], [8, 8], [100, 88], [1000, 128], [16384 - 3, 3]];
    await Promise.all(writes.map(([s, n]) => front.write(s, pattern(s, n))));
    await front.write(5000, pattern(5000, 16), true);
    await front.flush();
    const file = await Deno.readFile(image);
    for (const [s, n] of [...writes, [5000, 16]]) {
      assert.deepEqual(file.subarray(s * 512, (s + n) * 512), pattern(s, n), `file at ${s}`);
    }
    for (const [s, n] of writes) assert.deepEqual(await front.read(s, n), pattern(s, n));
    const metrics = (await rig.supervisor.diskMetrics(guest.id, "xvda"))!;
    assert.equal(metrics.indirect, 2, "the 128-sector write and read");
    assert.equal(metrics.barriers, 1);
    assert.equal(metrics.flushes, 1);
    assert.equal(metrics.errors, 0);
    assert.equal(metrics.bytesWritten, (1 + 8 + 88 + 128 + 3 + 16) * 512);
    // A raw image cannot discard: the request is answered EOPNOTSUPP.
    await assert.rejects(
      front.discard(0, 8),
      (e: BlockRequestError) => e.status === BLKIF_RSP_EOPNOTSUPP,
    );
    // Reading past the end is an error, and the device goes on.
    await assert.rejects(front.read(16384 - 2, 8), (e: BlockRequestError) => e.status === -1);
    assert.deepEqual(await front.read(0, 1), pattern(0, 1));
  } finally {
    await rig.cleanup();
  }
});

Deno.test("block e2e: a read-only disk is read-only to the guest", async () => {
  const rig = blockRig();
  try {
    const guest = rig.guest("reader");
    const image = await rig.image(1 << 20, (b) => b.set(pattern(0, 8)));
    await rig.supervisor.attachDisk(guest.id, `${image},raw,xvdb,ro`);
    const front = await rig.frontend(guest, 51728);
    assert.equal(front.readOnly, true);
    assert.deepEqual(await front.read(0, 8), pattern(0, 8));
    await assert.rejects(
      front.write(0, pattern(0, 1, 9)),
      (e: BlockRequestError) => e.status === BLKIF_RSP_ERROR,
    );
    assert.deepEqual((await Deno.readFile(image)).subarray(0, 4096), pattern(0, 8));
  } finally {
    await rig.cleanup();
  }
});

Deno.test("block e2e: memory, overlay and a module named by path serve the same protocol", async () => {
  const rig = blockRig();
  try {
    const guest = rig.guest("many", 8);
    const base = await rig.image(1 << 20, (b) => b.fill(0x42));
    await rig.supervisor.attachDisk(guest.id, "vdev=xvda, backend=memory, size=2M");
    await rig.supervisor.attachDisk(guest.id, `vdev=xvdb, backend=overlay, target=${base}`);
    const here = dirname(fileURLToPath(import.meta.url));
    await rig.supervisor.attachDisk(guest.id, "vdev=xvdc, backend=./fixtures/my_block.ts", {
      baseDir: here,
    });
    const memory = await rig.frontend(guest, 51712, { firstPage: 16, slots: 4 });
    const overlay = await rig.frontend(guest, 51728, { firstPage: 200, firstGref: 200, slots: 4 });
    const custom = await rig.frontend(guest, 51744, { firstPage: 400, firstGref: 400, slots: 4 });
    assert.equal(memory.sectors, 4096);
    await memory.write(10, pattern(10, 24));
    assert.deepEqual(await memory.read(10, 24), pattern(10, 24));
    await memory.discard(10, 8);
    assert.ok((await memory.read(10, 8)).every((b) => b === 0), "memory discard zeroes");
    assert.deepEqual(await memory.read(18, 16), pattern(10, 24).subarray(8 * 512));
    assert.equal(overlay.sectors, 2048);
    await overlay.write(1, pattern(1, 2));
    assert.deepEqual(
      await overlay.read(0, 4),
      new Uint8Array([
        ...new Uint8Array(512).fill(0x42),
        ...pattern(1, 2),
        ...new Uint8Array(512).fill(0x42),
      ]),
    );
    assert.ok((await Deno.readFile(base)).every((b) => b === 0x42), "the base is untouched");
    const label = new TextDecoder().decode((await custom.read(7, 1)).subarray(0, 8));
    assert.equal(label, "sector 7");
    const types = rig.supervisor.listDisks(guest.id).map((d) => d.backend);
    assert.deepEqual(types, ["memory", "overlay", "./fixtures/my_block.ts"]);
  } finally {
    await rig.cleanup();
  }
});

Deno.test("block e2e: 32 requests at once travel with few notifications", async () => {
  const rig = blockRig();
  try {
    const guest = rig.guest("batch");
    const image = await rig.image(4 << 20);
    await rig.supervisor.attachDisk(guest.id, `vdev=xvda, target=${image}`);
    const front = await rig.frontend(guest, 51712);
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 32 }, (_, i) => front.transfer(false, i * 8, 8)));
    }
    const metrics = (await rig.supervisor.diskMetrics(guest.id, "xvda"))!;
    assert.equal(metrics.reads, 640);
    const perRequest = (front.notificationsSent + metrics.notificationsOut) / 640;
    assert.ok(perRequest < 0.25, `notifications per request ${perRequest}`);
    assert.ok(metrics.maxBatch >= 16, `largest batch ${metrics.maxBatch}`);
  } finally {
    await rig.cleanup();
  }
});

Deno.test("block e2e: detaching a connected disk closes the frontend and removes the nodes", async () => {
  const rig = blockRig();
  try {
    const guest = rig.guest("unplug");
    const image = await rig.image(1 << 20);
    const info = await rig.supervisor.attachDisk(guest.id, `vdev=xvda, target=${image}`);
    const front = await rig.frontend(guest, 51712);
    await front.write(0, pattern(0, 8));
    const detached = rig.supervisor.detachDisk(guest.id, "xvda");
    // Our frontend follows the backend to Closed; then the device goes.
    await detached;
    assert.deepEqual(rig.supervisor.listDisks(), []);
    assert.throws(() => rig.dom0.read(info.backendPath), /ENOENT/);
    assert.throws(() => rig.dom0.read(info.frontendPath), /ENOENT/);
    // Attach again (hot-plug) and the data is there.
    await rig.supervisor.attachDisk(guest.id, `vdev=xvdb, target=${image}`);
    const again = await rig.frontend(guest, 51728, { firstPage: 700, firstGref: 700, slots: 2 });
    assert.deepEqual(await again.read(0, 8), pattern(0, 8));
  } finally {
    await rig.cleanup();
  }
});
