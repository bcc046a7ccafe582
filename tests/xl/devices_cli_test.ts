/**
 * End to end: devices through the real `deno task xl` CLI and its daemon — disk and vif lines in
 * a config, `block-attach`/`-detach`/`-list` and `network-attach`/`-detach`/`-list` on a running
 * guest, what xenstore holds (read with Debian's `xenstore-*` clients), the daemon's permission
 * flags with an image directory, refusals with clear errors, and destroy removing every node. The
 * guest is the probe kernel (it has no frontends: devices stay at the handshake's start, which is
 * what `-list` shows); the PV kernel's frontends use them in `split_drivers_test.ts`.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { GUEST, type Host, ROOT, withHost } from "./_xl_host.ts";

const BLOCK_HEADER = "Vdev  BE  handle state evt-ch ring-ref BE-path                       ";
const NET_HEADER =
  "Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path                       ";

async function xenstore(host: Host, tool: string, ...args: string[]) {
  const out = await new Deno.Command(tool, {
    args,
    env: { XENSTORED_PATH: `${host.socket}.xenstored` },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

const images = (dir: string) => ({ PARAVIRT_XL_IMAGES: join(dir, "images") });
const imagesAndModules = (dir: string) => ({
  PARAVIRT_XL_IMAGES: join(dir, "images"),
  PARAVIRT_XL_MODULES: join(dir, "modules"),
});
/** A block backend module outside the repository (it imports `@paravirt/drivers` by name). */
const MODULE = join(ROOT, "tests", "block", "fixtures", "my_block.ts");

Deno.test("xl devices: config disks and vifs, hot-plug on a running guest, lists, destroy", async () => {
  await withHost(async (host) => {
    await Deno.mkdir(join(host.dir, "images"));
    await Deno.mkdir(join(host.dir, "modules"));
    await Deno.copyFile(MODULE, join(host.dir, "modules", "my_block.ts"));
    await Deno.writeFile(join(host.dir, "images", "a.img"), new Uint8Array(1 << 20));
    await Deno.writeFile(join(host.dir, "images", "b.img"), new Uint8Array(1 << 20));
    await Deno.writeTextFile(join(host.dir, "lab.rules"), "deny proto=udp dport=9\n");
    await Deno.writeTextFile(join(host.dir, "other.rules"), "deny proto=tcp\n");
    const cfg = await host.config(
      "dev",
      GUEST(
        "dev",
        "test=spin n=2000000000",
        "disk = [ 'format=raw, vdev=xvda, access=rw, target=images/a.img' ]\n" +
          "vif = [ 'mac=00:16:3e:00:00:01',\n" +
          "        'mac=00:16:3e:00:00:02, bridge=lab, filter=lab.rules, ip=10.0.0.2' ]\n",
      ),
    );
    await host.ok(["create", cfg]);
    const id = await host.id("dev");
    await host.waitFor("dev to run", async () => (await host.list()).get("dev")?.[3] === "r-----");

    assert.equal(
      await host.ok(["block-list", "dev"]),
      `${BLOCK_HEADER}\n` +
        `51712 0   ${
          String(id).padEnd(6)
        } 1     -1     -1       /local/domain/0/backend/vbd/${id}/51712\n`,
    );
    assert.equal(
      await host.ok(["network-list", String(id)]),
      `${NET_HEADER}\n` +
        `0   0  00:16:3e:00:00:01     0     1     -1    -1/-1          /local/domain/0/backend/vif/${id}/0\n` +
        `1   0  00:16:3e:00:00:02     1     1     -1    -1/-1          /local/domain/0/backend/vif/${id}/1\n`,
    );
    // xenstore as Debian's clients see it: the backends wait for a frontend (InitWait = 2).
    const read = async (path: string) => (await xenstore(host, "xenstore-read", path)).stdout;
    assert.equal(await read(`/local/domain/0/backend/vbd/${id}/51712/state`), "2\n");
    assert.equal(
      await read(`/local/domain/0/backend/vbd/${id}/51712/params`),
      `${join(host.dir, "images", "a.img")}\n`,
    );
    assert.equal(await read(`/local/domain/0/backend/vif/${id}/1/bridge`), "lab\n");
    assert.equal(await read(`/local/domain/0/backend/vif/${id}/1/ip`), "10.0.0.2\n");
    assert.equal(await read(`/local/domain/${id}/device/vif/0/mac`), "00:16:3e:00:00:01\n");
    assert.equal(await read(`/local/domain/0/backend/console/${id}/0/state`), "4\n");
    assert.equal(await read(`/local/domain/${id}/console/type`), "xenconsoled\n");

    // Hot-plug on the running guest; the disk line may come in several arguments, as in xl.
    await host.ok(["block-attach", "dev", "vdev=xvdb", "access=ro", "target=images/b.img"]);
    assert.match(
      await host.ok(["block-list", "dev"]),
      new RegExp(`^51728 0   ${id} +1 +-1 +-1 +/local/domain/0/backend/vbd/${id}/51728$`, "m"),
    );
    assert.equal(await read(`/local/domain/0/backend/vbd/${id}/51728/mode`), "r\n");
    // Other backends: a built-in one with a parameter, and a module from PARAVIRT_XL_MODULES.
    await host.ok(["block-attach", "dev", "vdev=xvdc, backend=memory, size=1M"]);
    await host.ok(["block-attach", "dev", "vdev=xvdd, backend=./modules/my_block.ts"]);
    assert.equal(await read(`/local/domain/0/backend/vbd/${id}/51744/type`), "memory\n");
    assert.equal(
      await read(`/local/domain/0/backend/vbd/${id}/51760/type`),
      "./modules/my_block.ts\n",
    );
    assert.equal(await read(`/local/domain/0/backend/vbd/${id}/51760/state`), "2\n", "it opened");
    await host.ok(["block-detach", "dev", "xvdc"]);
    await host.ok(["block-detach", "dev", "xvdd"]);
    await host.ok(["network-attach", "dev", "bridge=lab", "devid=5"]);
    const stderr = await host.fails(["network-attach", "dev", "bridge=lab, filter=other.rules"]);
    assert.match(stderr, /Bridge lab already runs with other filters \(set by vif \d+\/1\)/);
    assert.match(
      await host.ok(["network-list", "dev"]),
      new RegExp(`^5   0  00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}     5     1 `, "m"),
    );

    await host.ok(["block-detach", "dev", "xvdb"]);
    await host.ok(["network-detach", "dev", "00:16:3e:00:00:02"]);
    await host.ok(["network-detach", "dev", "5"]);
    assert.equal(
      (await host.ok(["block-list", "dev"])).split("\n").length,
      3,
      "the header and xvda",
    );
    assert.deepEqual(
      (await host.ok(["network-list", "dev"])).trimEnd().split("\n").slice(1).map((l) => l[0]),
      ["0"],
    );
    assert.notEqual(
      (await xenstore(host, "xenstore-read", `/local/domain/${id}/device/vif/1/mac`)).code,
      0,
    );
    assert.notEqual(
      (await xenstore(host, "xenstore-read", `/local/domain/0/backend/vbd/${id}/51728/state`))
        .code,
      0,
    );

    // Errors: unknown domain or device, a bad line (naming the key), a target outside the images.
    assert.match(await host.fails(["block-list", "nobody"]), /Domain "nobody" does not exist/);
    assert.match(await host.fails(["block-detach", "dev", "xvdq"]), /has no disk "xvdq"/);
    assert.match(await host.fails(["network-detach", "dev", "7"]), /has no vif "7"/);
    assert.match(
      await host.fails(["network-attach", "dev", "mac=00:16:3e:00:00:09, colour=red"]),
      /Vif line "mac=00:16:3e:00:00:09, colour=red": unknown key "colour"/,
    );
    assert.match(
      await host.fails(["block-attach", "dev", "vdev=xvdc, target=probe.elf"]),
      /Disk xvdc: the toolstack daemon may not read and write .*probe\.elf; disk images must be under a directory of PARAVIRT_XL_IMAGES/,
    );
    assert.match(await host.fails(["block-attach", "dev"], 2), /expected a domain and a disk line/);

    // The daemon may read and write the image directory (and no other of this host's files).
    const status = await host.ok(["daemon", "status"]);
    assert.match(status, new RegExp(`^images: ${join(host.dir, "images")}$`, "m"));
    assert.match(status, new RegExp(`^modules: ${join(host.dir, "modules")}$`, "m"));
    const pid = Number(/^pid (\d+)/.exec(status)![1]);
    const argv = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0");
    const runDir = dirname(host.socket);
    const packages = ["hypervisor", "public", "mmu", "cpu", "elf", "events", "drivers"]
      .map((p) => join(ROOT, p));
    assert.deepEqual(argv.filter((a) => a.startsWith("--allow") || a === "-A"), [
      `--allow-read=${
        [runDir, ...packages, join(host.dir, "images"), join(host.dir, "modules")].join(",")
      }`,
      `--allow-write=${runDir},${join(host.dir, "images")}`,
      `--allow-net=unix:${host.socket},unix:${host.socket}.xenstored`,
    ]);

    // Destroying the domain ends its devices: no backend node is left.
    await host.ok(["destroy", "dev"]);
    for (const kind of ["vbd", "vif", "console"]) {
      const ls = await xenstore(host, "xenstore-ls", `/local/domain/0/backend/${kind}`);
      assert.ok(ls.code !== 0 || ls.stdout.trim() === "", `${kind}: ${ls.stdout}`);
    }
    assert.notEqual((await xenstore(host, "xenstore-read", `/local/domain/${id}/name`)).code, 0);
  }, { env: imagesAndModules });
});

Deno.test("xl devices: a config whose devices cannot be attached creates nothing", async () => {
  await withHost(async (host) => {
    await Deno.mkdir(join(host.dir, "images"));
    await Deno.writeFile(join(host.dir, "outside.img"), new Uint8Array(4096));
    await Deno.writeFile(join(host.dir, "images", "a.img"), new Uint8Array(4096));
    // Caught by xl before anything is sent: a bad line, a missing image, a missing rules file.
    const bad = await host.config(
      "bad",
      GUEST("bad", "test=hello", "vif = [ 'bridge=xenbr0',\n  'script=vif-bridge' ]\n"),
    );
    assert.match(
      await host.fails(["create", bad]),
      /bad\.cfg:7: vif: Vif line "script=vif-bridge": key "script" is not supported/,
    );
    const missing = await host.config(
      "missing",
      GUEST("missing", "test=hello", "disk = [ 'vdev=xvda, target=images/none.img' ]\n"),
    );
    assert.match(
      await host.fails(["create", missing]),
      /missing\.cfg:6: disk: target .*none\.img: no such file/,
    );
    const norules = await host.config(
      "norules",
      GUEST("norules", "test=hello", "vif = [ 'filter=no.rules' ]\n"),
    );
    assert.match(
      await host.fails(["create", norules]),
      /norules\.cfg:6: vif: cannot read .*no\.rules/,
    );
    // Caught by the daemon: an image outside PARAVIRT_XL_IMAGES; the domain is destroyed again.
    const outside = await host.config(
      "outside",
      GUEST(
        "outside",
        "test=hello",
        "disk = [ 'vdev=xvda, target=images/a.img', 'vdev=xvdb, target=outside.img, access=ro' ]\n" +
          "vif = [ '' ]\n",
      ),
    );
    assert.match(
      await host.fails(["create", outside]),
      /Disk xvdb: the toolstack daemon may not read .*outside\.img; disk images must be under/,
    );
    // A backend module outside PARAVIRT_XL_MODULES (none here) is refused the same way.
    await Deno.copyFile(MODULE, join(host.dir, "my_block.ts"));
    const module = await host.config(
      "module",
      GUEST("module", "test=hello", "disk = [ 'vdev=xvda, backend=./my_block.ts' ]\n"),
    );
    assert.match(
      await host.fails(["create", module]),
      /Disk xvda: the toolstack daemon may not read the backend module .*my_block\.ts; backend modules must be under a directory of PARAVIRT_XL_MODULES/,
    );
    assert.deepEqual([...(await host.list()).keys()], ["Domain-0"]);
    const ls = await xenstore(host, "xenstore-ls", "/local/domain/0/backend");
    assert.ok(ls.code !== 0 || ls.stdout.trim() === "", ls.stdout);
  }, { env: images });
});
