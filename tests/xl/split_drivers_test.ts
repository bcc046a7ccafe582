/**
 * End to end: the split drivers wired into the toolstack — the real `deno task xl` CLI, its daemon
 * (the hypervisor in the pCPU worker, dom0 on the daemon's main thread, every backend in its own
 * restricted worker) and the PV kernel (`guests/bin/pvkernel.elf`) whose blkfront, netfront and
 * console frontend find the devices `xl` attached in xenstore:
 *
 * - a guest with a disk line runs `disktest` against a file image; the image holds the pattern
 *   afterwards (checked here, independently); its console is the ring (`console=auto`);
 * - a disk hot-plugged into a paused guest is used once it runs; a running guest gets a disk
 *   attached, listed and detached, and its console input goes to the ring;
 * - two guests with vifs on one bridge exchange frames; a rules file's filter blocks one flow,
 *   a signatures file's detector counts frames; destroying them removes every node and the bridge.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { guestImagePath } from "@paravirt/guests";
import type { Host } from "./_xl_host.ts";
import { ROOT, withHost } from "./_xl_host.ts";

/** Word `word` of sector `sector` of disktest's pattern under `seed` (its header's formula). */
function patternWord(seed: number, sector: number, word: number): number {
  let x = (Math.imul(sector, 0x9e3779b1) ^ Math.imul(word, 0xc2b2ae3d) ^
    Math.imul(seed, 0x27d4eb2f)) >>> 0; // sectors here are below 2^32: the high term is 0
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x2c1b3c6d) >>> 0;
  return (x ^ (x >>> 12)) >>> 0;
}

/** disktest's closing checksum over sectors 0..count-1. */
function disktestChecksum(seed: number, count: number): string {
  let sum = 0;
  for (let s = 0; s < count; s++) {
    sum = (sum + Math.imul((patternWord(seed, s, 0) ^ s) >>> 0, 16777619)) >>> 0;
  }
  return `0x${sum.toString(16).padStart(8, "0")}`;
}

/** The sectors of `image` (0..count-1) that do not hold the pattern. */
function badSectors(image: Uint8Array, seed: number, count: number): number[] {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const bad: number[] = [];
  for (let s = 0; s < count; s++) {
    for (let w = 0; w < 128; w++) {
      if (view.getUint32(s * 512 + w * 4, true) !== patternWord(seed, s, w)) {
        bad.push(s);
        break;
      }
    }
  }
  return bad;
}

const env = (dir: string) => ({ PARAVIRT_XL_IMAGES: join(dir, "images") });

async function prepare(host: Host): Promise<void> {
  await Deno.writeFile(join(host.dir, "pvk.elf"), await Deno.readFile(guestImagePath("pvkernel")));
  await Deno.mkdir(join(host.dir, "images"));
}

const PV = (name: string, cmdline: string, extra = "") =>
  `name = "${name}"\nmemory = 8\nmaxmem = 12\nkernel = "pvk.elf"\ncmdline = "${cmdline}"\n` +
  `on_poweroff = "preserve"\non_crash = "preserve"\n${extra}`;

async function shutDown(host: Host, name: string): Promise<string> {
  await host.waitFor(
    `${name} to shut down`,
    async () => (await host.list()).get(name)?.[3].includes("s") ?? false,
    90_000,
  );
  return (await host.list()).get(name)![3];
}

Deno.test("xl + PV kernel: a disk line, disktest against a file image, the image checked", async () => {
  await withHost(async (host) => {
    await prepare(host);
    const image = join(host.dir, "images", "disk.img");
    await Deno.writeFile(image, new Uint8Array(1 << 20));
    const cfg = await host.config(
      "disk",
      PV(
        "disk",
        "app=disktest seed=7 console=auto",
        "disk = [ 'format=raw, vdev=xvda, access=rw, target=images/disk.img' ]\n",
      ),
    );
    // -c: the console from the start, through the ring once the guest switches to it.
    const run = await host.xl(["create", "-c", cfg]);
    assert.equal(run.code, 0, run.stderr);
    const out = run.stdout;
    assert.match(
      out,
      /pvkernel: console: switching to the console ring \(port \d+\)\npvkernel: console: on the ring\n/,
    );
    assert.match(
      out,
      /pvkernel: blkfront 51712: connected: 2048 sectors, sector-size 512, rw flush barrier/,
    );
    assert.match(out, /disktest: verified sectors=2048 /);
    assert.match(out, new RegExp(`app disktest: done checksum=${disktestChecksum(7, 2048)}\n`));
    assert.match(out, /pvkernel: all 1 app\(s\) done, powering off\n$/, "the last ring bytes too");
    assert.equal(await shutDown(host, "disk"), "---s--");
    assert.deepEqual(badSectors(await Deno.readFile(image), 7, 2048), []);

    // The frontend's connection as libxl reads it: Connected, its event channel and ring.
    const id = await host.id("disk");
    const row = (await host.ok(["block-list", "disk"])).split("\n")[1];
    const fields = row.split(/ +/);
    assert.deepEqual(fields.slice(0, 4), ["51712", "0", String(id), "4"]);
    assert.ok(Number(fields[4]) > 0 && Number(fields[5]) >= 8, row);
    assert.equal(fields[6], `/local/domain/0/backend/vbd/${id}/51712`);
    // Detaching from a guest that has shut down does not wait for it.
    const t0 = performance.now();
    await host.ok(["block-detach", "disk", "xvda"]);
    assert.ok(performance.now() - t0 < 5000);
    assert.equal((await host.ok(["block-list", "disk"])).split("\n").length, 2, "the header only");
  }, { env });
});

Deno.test("xl + PV kernel: hot-plug into a paused guest; detach a connected disk, attach, list, detach on a running one; ring console input", async () => {
  await withHost(async (host) => {
    await prepare(host);
    await Deno.writeFile(join(host.dir, "images", "late.img"), new Uint8Array(256 << 10));
    await Deno.writeFile(join(host.dir, "images", "spare.img"), new Uint8Array(64 << 10));
    // Created paused, given a disk, then run: its blkfront finds the disk at boot.
    await host.ok(["create", "-p", await host.config("late", PV("late", "app=disktest seed=3"))]);
    await host.ok(["block-attach", "late", "vdev=xvda, target=images/late.img"]);
    await host.ok(["unpause", "late"]);
    assert.equal(await shutDown(host, "late"), "---s--");
    const late = await host.ok(["console", "late"]);
    assert.match(late, new RegExp(`app disktest: done checksum=${disktestChecksum(3, 512)}\n`));
    assert.deepEqual(
      badSectors(await Deno.readFile(join(host.dir, "images", "late.img")), 3, 512),
      [],
    );

    // A running guest: disktest on its disk, and echo waiting for a console line (on the ring).
    await Deno.writeFile(join(host.dir, "images", "live.img"), new Uint8Array(128 << 10));
    await host.ok([
      "create",
      await host.config(
        "echo",
        PV(
          "echo",
          "app=disktest,echo seed=5 lines=1 timeout_ms=60000 console=auto",
          "disk = [ 'vdev=xvda, target=images/live.img' ]\n",
        ),
      ),
    ]);
    await host.waitFor(
      "disktest to finish while echo waits",
      async () =>
        /app disktest: done/.test(await host.ok(["console", "echo"], new Uint8Array([0x1d]))),
      60_000,
    );
    assert.match((await host.ok(["block-list", "echo"])).split("\n")[1], /^51712 0 +\d+ +4 /);
    // Detaching a connected disk: the backend closes, the guest's blkfront closes too.
    const t0 = performance.now();
    await host.ok(["block-detach", "echo", "xvda"]);
    assert.ok(performance.now() - t0 < 8000, "the frontend closed (no forced detach)");
    const log = await Deno.readTextFile(join(dirname(host.socket), "xld.log"));
    assert.doesNotMatch(log, /did not close/);
    assert.match(log, /vbd\/\d+\/51712: connected/);
    assert.equal((await host.ok(["block-list", "echo"])).split("\n").length, 2);
    await host.ok(["block-attach", "echo", "vdev=xvdb", "access=ro", "target=images/spare.img"]);
    const id = await host.id("echo");
    assert.match(
      await host.ok(["block-list", "echo"]),
      new RegExp(`^51728 0   ${id} +1 +-1 +-1 +/local/domain/0/backend/vbd/${id}/51728 *$`, "m"),
    );
    await host.ok(["block-detach", "echo", "51728"]);
    assert.equal((await host.ok(["block-list", "echo"])).split("\n").length, 2);
    // Typed input reaches the guest through the console ring; it answers there.
    const echoed = await host.xl(["console", "echo"], new TextEncoder().encode("hello ring\n"));
    assert.equal(echoed.code, 0, echoed.stderr);
    await shutDown(host, "echo");
    assert.match(await host.ok(["console", "echo"]), /echo: hello ring\n/);
  }, { env });
});

Deno.test("xl + PV kernel: two guests on one bridge exchange frames; a rule blocks one flow", async () => {
  await withHost(async (host) => {
    await prepare(host);
    await Deno.writeTextFile(join(host.dir, "lab.rules"), "# the lab\ndeny proto=udp dport=9\n");
    await Deno.writeTextFile(join(host.dir, "lab.sigs"), "signature nettest text PVNT\n");
    const [macA, macB] = ["00:16:3e:00:01:0a", "00:16:3e:00:01:0b"];
    await host.ok([
      "create",
      await host.config(
        "pong",
        PV("pong", "app=nettest role=pong rounds=40", `vif = [ 'mac=${macB}, bridge=lab' ]\n`),
      ),
    ]);
    await host.ok([
      "create",
      await host.config(
        "ping",
        PV(
          "ping",
          `app=nettest role=ping peer=${macB} rounds=40 blocked=5 console=auto`,
          `vif = [ 'mac=${macA}, bridge=lab, filter=lab.rules, ids=lab.sigs' ]\n`,
        ),
      ),
    ]);
    assert.equal(await shutDown(host, "ping"), "---s--");
    assert.equal(await shutDown(host, "pong"), "---s--");
    const ping = await host.ok(["console", "ping"]);
    const pong = await host.ok(["console", "pong"]);
    assert.match(ping, /pvkernel: netfront 0: connected, mac 00:16:3e:00:01:0a/);
    assert.match(ping, /nettest: ping rounds=40 size=64 rtt_avg_ns=\d+ /);
    assert.match(pong, /nettest: pong rounds=40 blocked_seen=0\n/);
    const sums = [ping, pong].map((text) =>
      /app nettest: done checksum=(0x[0-9a-f]+)/.exec(text)?.[1]
    );
    assert.ok(sums[0] && sums[0] === sums[1], `${sums}`);

    // Both vifs Connected, as libxl reads them; the bridge's filter dropped the 5 frames to port 9.
    for (const [name, mac] of [["ping", macA], ["pong", macB]]) {
      const id = await host.id(name);
      assert.match(
        await host.ok(["network-list", name]),
        new RegExp(
          `^0   0  ${mac}     0     4 +\\d+ +\\d+/\\d+ +/local/domain/0/backend/vif/${id}/0`,
          "m",
        ),
      );
    }
    const bridges = await host.ok(["bridge-list", "-l"]);
    assert.match(bridges, /^lab +2 +\d+ +\d+ +5 +\d+ +0 intrusion-detector,packet-filter$/m);
    assert.match(bridges, /filter packet-filter: allowed=\d+ denied=5 defaulted=\d+ rule\.0=5/);
    assert.match(
      bridges,
      /filter intrusion-detector: inspected=\d+ flagged=\d+ .*sig\.nettest=\d+/,
    );
    const flagged = Number(/sig\.nettest=(\d+)/.exec(bridges)![1]);
    assert.ok(flagged >= 2 * 40 + 5, `every nettest frame carries the signature: ${flagged}`);

    await host.ok(["destroy", "ping"]);
    await host.ok(["destroy", "pong"]);
    assert.equal((await host.ok(["bridge-list"])).split("\n").length, 2, "the header only");
  }, { env });
});

Deno.test("xl + PV kernel: the split-driver example configs", async () => {
  await withHost(async (host) => {
    const examples = join(ROOT, "dom0", "xl", "examples");
    const disk = await host.xl(["create", "-c", join(examples, "disktest.cfg")]);
    assert.equal(disk.code, 0, disk.stderr);
    assert.match(disk.stdout, /disktest: verified sectors=8192 /);
    assert.match(
      disk.stdout,
      new RegExp(`app disktest: done checksum=${disktestChecksum(1, 8192)}`),
    );
    await host.ok(["create", join(examples, "ponger.cfg")]);
    const ping = await host.xl(["create", "-c", join(examples, "pinger.cfg")]);
    assert.equal(ping.code, 0, ping.stderr);
    assert.match(ping.stdout, /nettest: ping rounds=100 /);
    assert.equal(await shutDown(host, "ponger"), "---s--");
    assert.match(await host.ok(["console", "ponger"]), /nettest: pong rounds=100 blocked_seen=0/);
    assert.match(await host.ok(["bridge-list", "-l"]), /filter packet-filter: .*rule\.0=5/);
  });
});
