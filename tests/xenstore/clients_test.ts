/**
 * End-to-end test of xenstored against Debian's real clients (`xenstore-utils`: xenstore-write,
 * -read, -ls, -list, -exists, -rm, -chmod, -watch, built on Xen's libxenstore): the daemon runs
 * as `deno task xenstored --socket <temp path>` in a child process, and each client runs with
 * `XENSTORED_PATH` naming that socket, so libxenstore connects there instead of looking for a
 * running Xen. `scripts/setup.ts` installs the package.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";

const CLI = new URL("../../dom0/xenstore/cli.ts", import.meta.url).pathname;
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

interface Daemon {
  path: string;
  child: Deno.ChildProcess;
  stop(): Promise<number>;
}

async function startDaemon(): Promise<Daemon> {
  const dir = await Deno.makeTempDir({ prefix: "xenstored-" });
  const path = join(dir, "socket");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-net", CLI, "--socket", path],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let out = "";
  while (!out.includes("listening on")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`xenstored exited before listening: ${out}`);
    out += decode(value);
  }
  reader.releaseLock();
  return {
    path,
    child,
    async stop() {
      child.kill("SIGTERM");
      const { code } = await child.status;
      await child.stdout.cancel();
      await Deno.remove(dir, { recursive: true });
      return code;
    },
  };
}

interface Result {
  code: number;
  out: string;
  err: string;
}

async function xs(daemon: Daemon, tool: string, ...args: string[]): Promise<Result> {
  const { code, stdout, stderr } = await new Deno.Command(tool, {
    args,
    env: { XENSTORED_PATH: daemon.path },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, out: decode(stdout), err: decode(stderr) };
}

async function ok(daemon: Daemon, tool: string, ...args: string[]): Promise<string> {
  const result = await xs(daemon, tool, ...args);
  assert.equal(result.code, 0, `${tool} ${args.join(" ")}: ${result.err}`);
  return result.out;
}

Deno.test("Debian's xenstore clients work against our xenstored", async (t) => {
  const daemon = await startDaemon();
  try {
    await t.step("write, read, exists, list", async () => {
      await ok(daemon, "xenstore-write", "/local/domain/0/name", "Domain-0", "/vm/1/name", "a b");
      assert.equal(
        await ok(daemon, "xenstore-read", "/local/domain/0/name", "/vm/1/name"),
        "Domain-0\na b\n",
      );
      const missing = await xs(daemon, "xenstore-read", "/vm/2");
      assert.equal(missing.code, 1);
      assert.match(missing.err, /couldn't read path \/vm\/2/);
      assert.equal((await xs(daemon, "xenstore-exists", "/vm/1")).code, 0);
      assert.equal((await xs(daemon, "xenstore-exists", "/vm/2")).code, 1);
      assert.equal(await ok(daemon, "xenstore-list", "/"), "local\nvm\n");
      const bad = await xs(daemon, "xenstore-write", "/bad//path", "x");
      assert.notEqual(bad.code, 0, "an invalid path is refused");
    });

    await t.step("ls prints the tree, with permissions", async () => {
      assert.equal(
        await ok(daemon, "xenstore-ls", "/local"),
        'domain = ""\n 0 = ""\n  name = "Domain-0"\n',
      );
      assert.equal(
        await ok(daemon, "xenstore-ls", "-f", "/vm"),
        '/vm/1 = ""\n/vm/1/name = "a b"\n',
      );
      assert.match(
        await ok(daemon, "xenstore-ls", "-f", "-p", "/vm"),
        /\/vm\/1\/name = "a b" +\(n0\)/,
      );
    });

    await t.step("chmod sets Xen permissions, recursively with -r", async () => {
      await ok(daemon, "xenstore-chmod", "/vm/1/name", "n0", "r5", "b7");
      assert.match(
        await ok(daemon, "xenstore-ls", "-f", "-p", "/vm"),
        /name = "a b" +\(n0,r5,b7\)/,
      );
      await ok(daemon, "xenstore-chmod", "-r", "/vm", "b3");
      const listing = await ok(daemon, "xenstore-ls", "-f", "-p", "/vm");
      assert.equal(listing.match(/\(b3\)/g)?.length, 2, listing);
      const bad = await xs(daemon, "xenstore-chmod", "/vm", "q1");
      assert.notEqual(bad.code, 0);
    });

    await t.step("rm removes a subtree", async () => {
      await ok(daemon, "xenstore-rm", "/vm/1");
      assert.equal((await xs(daemon, "xenstore-exists", "/vm/1/name")).code, 1);
      assert.equal(await ok(daemon, "xenstore-list", "/vm"), "");
    });

    await t.step("watch reports the initial event and each change below the path", async () => {
      const watcher = new Deno.Command("xenstore-watch", {
        args: ["-n", "4", "/local/domain"],
        env: { XENSTORED_PATH: daemon.path },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // The first line is the registration event: after it, the watch is in place.
      const reader = watcher.stdout.getReader();
      let out = "";
      while (!out.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        out += decode(value);
      }
      await ok(daemon, "xenstore-write", "/local/domain/3/name", "guest");
      await ok(daemon, "xenstore-write", "/local/other", "not watched");
      await ok(daemon, "xenstore-chmod", "/local/domain/3", "n3");
      await ok(daemon, "xenstore-rm", "/local/domain/3");
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out += decode(value);
      }
      const { code } = await watcher.status;
      await watcher.stderr.cancel();
      assert.equal(code, 0);
      assert.equal(
        out,
        "/local/domain\n/local/domain/3/name\n/local/domain/3\n/local/domain/3\n",
      );
    });

    await t.step("long directories go through DIRECTORY_PART", async () => {
      const args: string[] = [];
      for (let i = 0; i < 400; i++) args.push(`/big/child-number-${i}`, String(i));
      await ok(daemon, "xenstore-write", ...args);
      const names = (await ok(daemon, "xenstore-list", "/big")).trim().split("\n");
      assert.equal(names.length, 400);
      assert.deepEqual(names.slice(0, 2), ["child-number-0", "child-number-1"]);
      const tree = await ok(daemon, "xenstore-ls", "/big");
      assert.equal(tree.trim().split("\n").length, 400);
    });
  } finally {
    const code = await daemon.stop();
    assert.equal(code, 0, "xenstored stops cleanly on SIGTERM");
  }
});

Deno.test("xenstored refuses a socket another daemon is serving, and replaces a stale one", async () => {
  const first = await startDaemon();
  try {
    const second = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-net", CLI, "--socket", first.path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(second.code, 2);
    assert.match(decode(second.stderr), /another xenstored is listening/);
  } finally {
    await first.stop();
  }
  // A socket file left by a dead daemon: a listener that is closed without removing its file.
  const dir = await Deno.makeTempDir();
  const path = join(dir, "socket");
  const listener = Deno.listen({ transport: "unix", path });
  listener.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-net", CLI, "--socket", path],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assert.match(decode(value!), /listening on/);
  reader.releaseLock();
  const result = await new Deno.Command("xenstore-read", {
    args: ["/"],
    env: { XENSTORED_PATH: path },
  }).output();
  assert.equal(result.code, 0);
  child.kill("SIGTERM");
  await child.status;
  await child.stdout.cancel();
  await child.stderr.cancel();
  await Deno.remove(dir, { recursive: true });
});
