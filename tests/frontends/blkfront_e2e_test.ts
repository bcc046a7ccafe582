/**
 * The guest's blkfront against the real block backends: the device supervisor in dom0 starts a
 * blkback worker per disk with only the permissions it needs (`@paravirt/dom0`'s devices), and
 * the PV kernel's disktest writes, reads back and verifies the whole disk through it — a
 * file-backed raw image (checked byte for byte afterwards) and the memory disk; the worker is
 * killed in the middle of the writes and the image still holds every acknowledged write; a
 * hostile frontend's garbage is refused while another guest's disk test goes on.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DeviceSupervisor } from "@paravirt/dom0";
import { SHUTDOWN_poweroff } from "@paravirt/public";
import {
  createGuest,
  type FrontendHost,
  type Guest,
  newHost,
  runGuests,
  type RunOptions,
} from "./_harness.ts";
import { expectedDisktest, firstBadSector } from "./_disk_pattern.ts";

interface DiskSetup {
  host: FrontendHost;
  supervisor: DeviceSupervisor;
  log: string[];
}

function setup(): DiskSetup {
  const host = newHost();
  const log: string[] = [];
  const supervisor = new DeviceSupervisor({
    control: host.control,
    xenstored: host.xenstored,
    log: (line) => log.push(line),
  });
  return { host, supervisor, log };
}

/** Runs the guests; a timeout also shows the supervisor's log. */
async function run(s: DiskSetup, guests: Guest[], options: RunOptions = {}): Promise<void> {
  try {
    await runGuests(s.host, guests, options);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- supervisor log\n${s.log.join("\n")}`);
  }
}

async function finish(s: DiskSetup): Promise<void> {
  await s.supervisor.close();
  await s.host.close();
}

async function tempImage(sectors: number): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".img" });
  await Deno.writeFile(path, new Uint8Array(sectors * 512));
  return path;
}

Deno.test("e2e blkfront: disktest over a file-backed image through the blkback worker", async () => {
  const s = setup();
  const sectors = 4096; // 2 MiB
  const image = await tempImage(sectors);
  try {
    const guest = await createGuest(s.host, "disk-file", "app=disktest chunk=65536 qd=8 seed=21");
    await s.supervisor.attachDisk(
      guest.domain.id,
      `format=raw, vdev=xvda, access=rw, target=${image}`,
    );
    s.host.hv.unpause(guest.domain);
    await run(s, [guest]);
    const out = guest.output();
    assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, `${out}\n${s.log.join("\n")}`);
    assert.match(out, /blkfront 51712: connected: 4096 sectors, sector-size 512, rw flush barrier/);
    assert.ok(out.includes(expectedDisktest(21, sectors)), out);
    assert.equal(firstBadSector(await Deno.readFile(image), 21, sectors), -1);
  } finally {
    await finish(s);
    await Deno.remove(image);
  }
});

Deno.test("e2e blkfront: disktest over the memory disk", async () => {
  const s = setup();
  try {
    const guest = await createGuest(s.host, "disk-mem", "app=disktest chunk=16384 qd=16 seed=4");
    await s.supervisor.attachDisk(guest.domain.id, "vdev=xvdb, backend=memory, size=1M");
    s.host.hv.unpause(guest.domain);
    await run(s, [guest]);
    const out = guest.output();
    assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, `${out}\n${s.log.join("\n")}`);
    assert.ok(out.includes(expectedDisktest(4, 2048)), out);
  } finally {
    await finish(s);
  }
});

Deno.test("e2e blkfront: the blkback worker killed mid-stream; no acknowledged write is lost", async () => {
  const s = setup();
  const sectors = 8192; // 4 MiB
  const seed = 33;
  const image = await tempImage(sectors);
  let killedAt = -1;
  let ackedAtKill = 0;
  try {
    const guest = await createGuest(
      s.host,
      "disk-kill",
      `app=disktest chunk=16384 qd=16 seed=${seed} progress=8`,
    );
    await s.supervisor.attachDisk(
      guest.domain.id,
      `format=raw, vdev=xvda, access=rw, target=${image}`,
    );
    s.host.hv.unpause(guest.domain);
    await run(s, [guest], {
      step: async () => {
        if (killedAt >= 0) return;
        const acked = [...guest.output().matchAll(/disktest: progress acked_sectors=(\d+)\n/g)];
        const last = Number(acked.at(-1)?.[1] ?? 0);
        if (last >= sectors / 4) {
          ackedAtKill = last;
          s.supervisor.killDisk(guest.domain.id, "xvda");
          killedAt = performance.now();
          // Everything acknowledged before the kill is in the image now.
          const bad = firstBadSector(await Deno.readFile(image), seed, ackedAtKill);
          assert.equal(
            bad,
            -1,
            `sector ${bad} of the ${ackedAtKill} acknowledged is not in the image`,
          );
        }
      },
    });
    const out = guest.output();
    assert.ok(killedAt >= 0, "the worker was killed");
    assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, `${out}\n${s.log.join("\n")}`);
    assert.match(out, /blkfront 51712: disconnected \(the backend is closing\)\n/);
    assert.match(
      out,
      /blkfront 51712: reconnected \(connection 2\), resubmitting \d+ request\(s\)\n/,
    );
    assert.match(out, /disktest: reconnects=1 bad_responses=0\n/);
    assert.ok(out.includes(expectedDisktest(seed, sectors)), out);
    assert.equal(firstBadSector(await Deno.readFile(image), seed, sectors), -1);
    assert.equal(s.supervisor.listDisks(guest.domain.id)[0].restarts, 1);
  } finally {
    await finish(s);
    await Deno.remove(image);
  }
});

Deno.test("e2e blkfront: a frontend writing garbage into its ring is refused; another guest's disk goes on", async () => {
  const s = setup();
  try {
    const hostile = await createGuest(s.host, "garbage", "app=ringgarbage");
    const honest = await createGuest(s.host, "honest", "app=disktest chunk=8192 qd=8 seed=9");
    await s.supervisor.attachDisk(hostile.domain.id, "vdev=xvda, backend=memory, size=1M");
    await s.supervisor.attachDisk(honest.domain.id, "vdev=xvda, backend=memory, size=2M");
    s.host.hv.unpause(hostile.domain);
    s.host.hv.unpause(honest.domain);
    await run(s, [hostile, honest]);
    const bad = hostile.output();
    const good = honest.output();
    assert.equal(hostile.domain.shutdownReason, SHUTDOWN_poweroff, `${bad}\n${s.log.join("\n")}`);
    assert.equal(honest.domain.shutdownReason, SHUTDOWN_poweroff, good);
    assert.match(bad, /ringgarbage: baseline good read: status=0 ok\n/);
    assert.match(bad, /ringgarbage: producer index a ring ahead: status=1 disconnected\n/);
    assert.match(bad, /ringgarbage: good read afterwards: status=0 ok\n/);
    assert.match(
      bad,
      /ringgarbage: summary attempts=19 errors=\d+ disconnects=\d+ silent=0 skipped=0 failed=0\n/,
    );
    assert.ok(good.includes(expectedDisktest(9, 4096)), good);
    assert.match(good, /disktest: reconnects=0 bad_responses=0\n/);
  } finally {
    await finish(s);
  }
});
