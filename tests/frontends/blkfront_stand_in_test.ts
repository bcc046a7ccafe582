/**
 * The guest's blkfront against a stand-in backend (`_stand_in_blkback.ts`): the disk test over
 * a memory disk with direct and indirect requests, completions in reverse order, responses a
 * correct backend never sends, and a backend crash in the middle of the writes, after which the
 * frontend reconnects and resubmits what was not acknowledged.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SHUTDOWN_crash, SHUTDOWN_poweroff } from "@paravirt/public";
import { createGuest, newHost, runGuests } from "./_harness.ts";
import { StandInBlkback } from "./_stand_in_blkback.ts";
import { expectedDisktest, firstBadSector } from "./_disk_pattern.ts";

const SECTORS = 2048; // 1 MiB

async function diskGuest(
  cmdline: string,
  options: ConstructorParameters<typeof StandInBlkback>[2],
) {
  const host = newHost();
  let backend: StandInBlkback | undefined;
  const guest = await createGuest(host, "disk", cmdline, {
    beforeConnect: (domain) => {
      backend = new StandInBlkback(host, domain, options);
      backend.attach();
    },
  });
  return { host, guest, backend: backend! };
}

Deno.test("blkfront: disktest verifies the whole disk through indirect requests, answered in reverse", async () => {
  const { host, guest, backend } = await diskGuest("app=disktest chunk=65536 qd=8 seed=7", {
    sectors: SECTORS,
    indirect: 32,
    reverse: true,
  });
  host.hv.unpause(guest.domain);
  await runGuests(host, [guest], { step: () => backend.step() });
  await host.close();
  const out = guest.output();
  assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, out);
  assert.match(
    out,
    /disktest: disk dev=0 devid=768 sectors=2048 sector_size=512 max_bytes=131072 features=0xf queue=32\n/,
  );
  assert.ok(out.includes(expectedDisktest(7, SECTORS)), out);
  assert.equal(firstBadSector(backend.disk, 7, SECTORS), -1);
  assert.ok((backend.served.indirect ?? 0) >= 2 * SECTORS / 128, JSON.stringify(backend.served));
  assert.equal(backend.served.flush, 1);
  assert.equal(backend.served.barrier ?? 0, 0, "a 64 KiB barrier would need indirect segments");
});

Deno.test("blkfront: without indirect segments a request carries at most 11 pages", async () => {
  const { host, guest, backend } = await diskGuest("app=disktest chunk=65536 qd=4 seed=3", {
    sectors: 512,
    features: false,
  });
  host.hv.unpause(guest.domain);
  await runGuests(host, [guest], { step: () => backend.step() });
  await host.close();
  const out = guest.output();
  assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, out);
  assert.match(out, /max_bytes=45056 features=0x0/);
  assert.match(out, /disktest: wrote sectors=512 chunk=45056 qd=4 /);
  assert.ok(out.includes(expectedDisktest(3, 512)), out);
  assert.equal(backend.served.indirect ?? 0, 0);
  assert.equal(backend.served.flush ?? 0, 0);
  assert.equal(backend.served.barrier ?? 0, 0);
});

Deno.test("blkfront: a backend crash mid-stream: reconnect, resubmit, no acknowledged write lost", async () => {
  const { host, guest, backend } = await diskGuest("app=disktest chunk=8192 qd=8 seed=11", {
    sectors: SECTORS,
    indirect: 32,
  });
  let phase = "writing";
  let heldAt = 0;
  host.hv.unpause(guest.domain);
  await runGuests(host, [guest], {
    step: async () => {
      if (phase === "writing" && (backend.served.write ?? 0) >= 40) {
        // From now on requests are carried out but not answered: they are in flight when the
        // backend dies, some already on the disk.
        backend.holdResponses = true;
        heldAt = backend.served.write;
        phase = "holding";
      } else if (phase === "holding" && backend.served.write >= heldAt + 6) {
        await backend.crash();
        backend.holdResponses = false;
        phase = "crashed";
      }
      await backend.step();
    },
  });
  await host.close();
  const out = guest.output();
  assert.equal(phase, "crashed");
  assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, out);
  assert.match(out, /blkfront 768: disconnected \(the backend is closing\)\n/);
  assert.match(
    out,
    /blkfront 768: reconnected \(connection 2\), resubmitting [1-8] request\(s\)\n/,
  );
  assert.match(out, /disktest: reconnects=1 bad_responses=0\n/);
  assert.ok(out.includes(expectedDisktest(11, SECTORS)), out);
  assert.equal(firstBadSector(backend.disk, 11, SECTORS), -1);
  assert.equal(backend.connections, 2);
  assert.equal(backend.served.barrier, 1);
});

Deno.test("blkfront: responses a backend must never send are ignored or end the connection", async () => {
  const { host, guest, backend } = await diskGuest("app=disktest chunk=4096 qd=4 seed=5", {
    sectors: 256,
  });
  let stage = 0;
  let at = 0;
  host.hv.unpause(guest.domain);
  await runGuests(host, [guest], {
    timeoutMs: 60_000,
    step: async () => {
      const writes = backend.served.write ?? 0;
      if (stage === 0 && writes >= 10) {
        backend.inject = "bogus-id"; // ignored; its request hangs until the next connection
        stage = 1;
        at = writes;
      } else if (stage === 1 && writes >= at + 4) {
        await backend.crash();
        stage = 2;
      } else if (stage === 2 && backend.connections === 2 && (backend.served.read ?? 0) >= 8) {
        backend.inject = "producer-ahead"; // the frontend disconnects and comes back
        stage = 3;
      }
      await backend.step();
    },
  });
  await host.close();
  const out = guest.output();
  assert.equal(stage, 3);
  assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, out);
  assert.match(
    out,
    /blkfront 768: disconnected \(the backend published responses to requests we never made\)/,
  );
  assert.match(out, /disktest: reconnects=2 bad_responses=1\n/);
  assert.ok(out.includes(expectedDisktest(5, 256)), out);
  assert.equal(firstBadSector(backend.disk, 5, 256), -1);
});

Deno.test("blkfront: a guest without a vbd gets -ENODEV", async () => {
  const host = newHost();
  const guest = await createGuest(host, "nodisk", "app=disktest");
  host.hv.unpause(guest.domain);
  await runGuests(host, [guest]);
  await host.close();
  assert.equal(guest.domain.shutdownReason, SHUTDOWN_crash);
  assert.match(guest.output(), /app disktest: FAIL device 0: error -19\n/);
});

Deno.test("blkfront: pages under a request stay mapped; exiting waits for requests in flight", async () => {
  const { host, guest, backend } = await diskGuest("app=disktest mode=exit qd=6 chunk=8192", {
    sectors: 512,
  });
  backend.holdResponses = true;
  let exitSeenWhileHeld = false;
  let released = false;
  host.hv.unpause(guest.domain);
  await runGuests(host, [guest], {
    step: async () => {
      const out = guest.output();
      if (!released && out.includes("disktest: exiting with 6 request(s) in flight")) {
        // Give the kernel time to (wrongly) finish the process, then answer.
        for (let i = 0; i < 20; i++) {
          host.hv.run(2e6);
          await new Promise((r) => setTimeout(r, 1));
        }
        exitSeenWhileHeld = guest.output().includes("pvkernel: job disktest");
        backend.release();
        released = true;
      }
      await backend.step();
    },
  });
  await host.close();
  const out = guest.output();
  assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, out);
  assert.equal(exitSeenWhileHeld, false, "the process ended while its requests were in flight");
  assert.equal(backend.served.read, 6);
  assert.match(out, /pvkernel: job disktest \(pid 1\) exited with status 0\n/);
  assert.doesNotMatch(out, /giving back/);
});

Deno.test("blkfront: discard reaches the backend when it offers it", async () => {
  const { host, guest, backend } = await diskGuest(
    "app=disktest chunk=4096 qd=4 seed=2 discard=1",
    {
      sectors: 128,
    },
  );
  host.hv.unpause(guest.domain);
  await runGuests(host, [guest], { step: () => backend.step() });
  await host.close();
  const out = guest.output();
  assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, out);
  assert.match(out, /disktest: discarded sectors=128\n/);
  assert.equal(backend.served.discard, 1);
  assert.ok(backend.disk.every((b) => b === 0), "the stand-in zeroes what is discarded");
});
