/**
 * Isolation: a backend module runs in a worker with only its disk's permissions. A hostile one
 * tries to read files outside them, write its read-only image, open sockets, read the environment,
 * run programs, load native code, and read another domain's memory; every attempt fails, and the
 * guest reads the evidence through the device itself. The same rules hold for a well-behaved
 * backend: its worker can read its image and nothing else.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { blockRig } from "../block/rig.ts";

const here = dirname(fileURLToPath(import.meta.url));

Deno.test("isolation: a hostile backend module can touch nothing but its own image", async () => {
  const rig = blockRig();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const accepting = (async () => {
    for await (const conn of listener) {
      connections++;
      conn.close();
    }
  })();
  try {
    const victim = rig.guest("victim");
    const marker = `TOP-SECRET-${crypto.randomUUID()}`;
    const victimView = rig.hv.foreignView(victim);
    new Uint8Array(victimView.buffer).set(new TextEncoder().encode(marker), 100 * 4096);
    const attacker = rig.guest("attacker");
    const secret = await rig.image(512, (b) => b.set(new TextEncoder().encode("the secret")));
    const image = await rig.image(1 << 20);
    const port = (listener.addr as Deno.NetAddr).port;
    await rig.supervisor.attachDisk(
      attacker.id,
      `vdev=xvda, access=ro, target=${image}, backend=./fixtures/evil_block.ts, ` +
        `secret=${secret}, port=${port}, marker=${marker}`,
      { baseDir: here },
    );
    const front = await rig.frontend(attacker, 51712, { slots: 2 });
    const report = new TextDecoder().decode(await front.read(0, 8)).replace(/\0+$/, "");
    const lines = Object.fromEntries(
      report.trim().split("\n").map((line) => line.split(": ") as [string, string]),
    );
    assert.equal(lines["read own target"], "ALLOWED", `the control case\n${report}`);
    for (
      const attack of [
        "read secret",
        "read secret via node:fs",
        "read /etc/passwd",
        "list /",
        "write own target",
        "write /tmp",
        "connect tcp",
        "listen tcp",
        "fetch",
        "env",
        "run",
        "ffi",
        "read /proc/self/mem",
        "read /proc/self/maps",
      ]
    ) {
      assert.match(
        lines[attack] ?? "missing",
        /^denied \((NotCapable|PermissionDenied)\)$/,
        `${attack}\n${report}`,
      );
    }
    const scan = /^found (\d+) times in (\d+) bytes$/.exec(lines["other domain's marker"]);
    assert.ok(scan, report);
    assert.equal(Number(scan[1]), 0, "the marker is nowhere the backend can reach");
    const ownRegion = rig.hv.foreignView(attacker).buffer.byteLength;
    assert.ok(Number(scan[2]) >= ownRegion, `it did scan its own domain's memory\n${report}`);
    assert.equal(connections, 0, "no connection reached the listener");
    await assert.rejects(Deno.stat("/tmp/evil-block-was-here"), Deno.errors.NotFound);
    // The marker is really there, in the victim's memory only.
    const found = new TextDecoder("latin1").decode(new Uint8Array(victimView.buffer)).includes(
      marker,
    );
    assert.ok(found);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    await rig.cleanup();
  }
});

Deno.test("isolation: a read-only disk's worker cannot write its image; a writable one can", async () => {
  const rig = blockRig();
  try {
    const guest = rig.guest("modes", 8);
    const image = await rig.image(1 << 20);
    // The file backend opens a read-only disk read-only; with access=rw it opens read-write. The
    // worker's permissions follow the line, so a backend that tried otherwise would be refused
    // (the hostile test above shows the refusal).
    await rig.supervisor.attachDisk(guest.id, `vdev=xvda, access=ro, target=${image}`);
    await rig.supervisor.attachDisk(guest.id, `vdev=xvdb, access=rw, target=${image}`);
    const ro = await rig.frontend(guest, 51712, { slots: 2 });
    const rw = await rig.frontend(guest, 51728, { slots: 2, firstPage: 300, firstGref: 300 });
    assert.equal(ro.readOnly, true);
    await rw.write(0, new Uint8Array(512).fill(7));
    assert.equal((await ro.read(0, 1))[0], 7, "both see the same file");
    await assert.rejects(ro.write(0, new Uint8Array(512)));
  } finally {
    await rig.cleanup();
  }
});
