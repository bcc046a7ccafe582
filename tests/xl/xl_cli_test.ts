/**
 * End to end: the real `deno task xl` CLI as subprocesses, against a daemon it starts itself on a
 * temporary socket (`PARAVIRT_XL_SOCKET`), with configs and a kernel image in a temporary
 * directory the CLI is run from. The guest is the hypervisor's probe kernel.
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { probeGuest } from "@paravirt/hypervisor";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

class Host {
  readonly dir: string;
  readonly socket: string;

  constructor(dir: string) {
    this.dir = dir;
    this.socket = join(dir, "run", "xl.sock");
  }

  /** Runs `deno task xl <args>` from the host's directory. */
  async xl(args: string[], stdin?: Uint8Array | "null"): Promise<Run> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "--cwd", ROOT, "xl", ...args],
      cwd: this.dir,
      // deno task sets INIT_CWD to where it was run, unless it is set already (as it is when
      // these tests run under `deno task ok`): set it the way a user's shell would have it.
      env: { PARAVIRT_XL_SOCKET: this.socket, INIT_CWD: this.dir },
      stdin: stdin === undefined || stdin === "null" ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (stdin instanceof Uint8Array) {
      const writer = child.stdin.getWriter();
      await writer.write(stdin);
      await writer.close();
    }
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  }

  /** Runs xl and asserts it succeeded. */
  async ok(args: string[], stdin?: Uint8Array): Promise<string> {
    const run = await this.xl(args, stdin);
    assert.equal(run.code, 0, `xl ${args.join(" ")} failed:\n${run.stderr}`);
    return run.stdout;
  }

  async config(name: string, text: string): Promise<string> {
    await Deno.writeTextFile(join(this.dir, `${name}.cfg`), text);
    return `${name}.cfg`;
  }

  /** The list rows by name: [id, mem, vcpus, state, time]. */
  async list(): Promise<Map<string, string[]>> {
    const lines = (await this.ok(["list"])).trimEnd().split("\n");
    assert.equal(
      lines[0],
      "Name                                        ID   Mem VCPUs\tState\tTime(s)",
    );
    const rows = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const match = /^(\S+) +(\d+) +(\d+) +(\d+) {5}([rbpscd-]{6}) {2} *(\d+\.\d)$/.exec(line);
      assert.ok(match, `a list row in Xen's format: ${JSON.stringify(line)}`);
      assert.equal(line.length, 79, `columns at Xen's widths: ${JSON.stringify(line)}`);
      rows.set(match[1], match.slice(2));
    }
    return rows;
  }

  async waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function withHost(body: (host: Host) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "xl-e2e-" });
  const host = new Host(dir);
  await Deno.writeFile(join(dir, "probe.elf"), await probeGuest());
  try {
    await body(host);
  } finally {
    const stop = await host.xl(["daemon", "stop"]);
    if (stop.code !== 0 && !/not running/.test(stop.stderr)) {
      console.error(`daemon stop failed: ${stop.stderr}`);
    }
    await Deno.remove(dir, { recursive: true });
  }
}

const GUEST = (name: string, cmdline: string, extra = "") =>
  `# a test guest\nname = "${name}"\nmemory = 4\nkernel = "probe.elf"\ncmdline = "${cmdline}"\n${extra}`;

Deno.test("xl: create, list, console, dmesg, info, destroy; the daemon runs least-privileged", async () => {
  await withHost(async (host) => {
    const notYet = await host.xl(["list"]);
    assert.equal(notYet.code, 1);
    assert.match(notYet.stderr, /daemon is not running.*"deno task xl create <cfg>" starts it/);

    const cfg = await host.config(
      "hello",
      GUEST("hello", "test=hello", 'on_poweroff = "preserve"\n'),
    );
    const created = await host.xl(["create", cfg]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, new RegExp(`Parsing config from ${join(host.dir, "hello.cfg")}`));

    await host.waitFor(
      "hello to shut down",
      async () => (await host.list()).get("hello")?.[3] === "---s--",
    );
    const rows = await host.list();
    assert.deepEqual([...rows.keys()], ["Domain-0", "hello"]);
    assert.deepEqual(rows.get("Domain-0")!.slice(0, 4), [
      "0",
      rows.get("Domain-0")![1],
      "1",
      "r-----",
    ]);
    assert.deepEqual(rows.get("hello")!.slice(0, 4), ["1", "4", "1", "---s--"]);

    const console = await host.ok(["console", "hello"]);
    assert.match(console, /^hello from a PV test guest: test=hello\n[\s\S]*result: 0 failed\n$/);

    assert.match(await host.ok(["dmesg"]), /\(XEN\) \[[0-9.]+\] d1 "hello" shut down \(reason 0\)/);
    const info = await host.ok(["info"]);
    assert.match(info, /^xen_scheduler {10}: credit$/m);
    assert.match(info, /^xen_version {12}: 4\.17-paravirt$/m);
    assert.match(info, /^total_memory {11}: \d+$/m);

    // The daemon's own permissions: its socket directory, the socket, the worker's modules.
    const status = await host.ok(["daemon", "status"]);
    const pid = Number(/^pid (\d+)/.exec(status)![1]);
    const argv = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0");
    const flags = argv.filter((a) => a.startsWith("--allow") || a === "-A");
    const runDir = dirname(host.socket);
    assert.deepEqual(flags, [
      `--allow-read=${runDir},${
        ["hypervisor", "public", "mmu", "cpu", "elf", "events"].map((p) => join(ROOT, p)).join(",")
      }`,
      `--allow-write=${runDir}`,
      `--allow-net=unix:${host.socket},unix:${host.socket}.xenstored`,
    ]);
    assert.equal((await Deno.stat(runDir)).mode! & 0o777, 0o700);

    await host.ok(["destroy", "hello"]);
    assert.deepEqual([...(await host.list()).keys()], ["Domain-0"]);
    const again = await host.xl(["destroy", "hello"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^xl: Domain "hello" does not exist\n$/);
  });
});

Deno.test("xl: guests get their xenstore nodes and ring; Debian's clients see them", async () => {
  await withHost(async (host) => {
    const cfg = await host.config(
      "xs",
      GUEST("xs", "test=xenstore", 'on_poweroff = "preserve"\n'),
    );
    await host.ok(["create", cfg]);
    await host.waitFor("xs to finish", async () => (await host.list()).get("xs")?.[3] === "---s--");
    const console = await host.ok(["console", "xs"]);
    assert.match(console, /my name in xenstore: xs\n/);
    assert.doesNotMatch(console, /FAIL/);
    const client = async (tool: string, ...args: string[]) => {
      const out = await new Deno.Command(tool, {
        args,
        env: { XENSTORED_PATH: `${host.socket}.xenstored` },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return new TextDecoder().decode(out.stdout);
    };
    assert.equal(await client("xenstore-read", "/local/domain/1/name"), "xs\n");
    assert.equal(
      await client("xenstore-read", "/local/domain/1/data/greeting"),
      "hello from the ring\n",
    );
    await host.ok(["destroy", "xs"]);
    const gone = await new Deno.Command("xenstore-read", {
      args: ["/local/domain/1/name"],
      env: { XENSTORED_PATH: `${host.socket}.xenstored` },
      stdout: "null",
      stderr: "null",
    }).output();
    assert.notEqual(gone.code, 0, "a destroyed domain's nodes are gone");
  });
});

Deno.test("xl: pause, unpause, sched-credit get and set, shutdown", async () => {
  await withHost(async (host) => {
    await host.ok(["create", await host.config("spin", GUEST("spin", "test=spin n=2000000000"))]);
    await host.waitFor(
      "spin to run",
      async () => (await host.list()).get("spin")?.[3] === "r-----",
    );
    await host.ok(["pause", "spin"]);
    const paused = (await host.list()).get("spin")!;
    assert.equal(paused[3], "--p---");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await host.list()).get("spin")![4], paused[4], "no CPU time while paused");
    await host.ok(["unpause", "1"]);
    await host.waitFor(
      "CPU time to grow",
      async () => Number((await host.list()).get("spin")![4]) > Number(paused[4]),
    );

    assert.equal(await host.ok(["sched-credit", "-d", "spin", "-w", "512", "-c", "20"]), "");
    assert.equal(
      await host.ok(["sched-credit", "-d", "spin"]),
      "Name                                ID Weight  Cap\n" +
        "spin                                 1    512   20\n",
    );
    assert.equal(
      await host.ok(["sched-credit"]),
      "Cpupool Pool-0: tslice=30ms ratelimit=1000us migration-delay=0us\n" +
        "Name                                ID Weight  Cap\n" +
        "Domain-0                             0    256    0\n" +
        "spin                                 1    512   20\n",
    );
    const badCap = await host.xl(["sched-credit", "-d", "spin", "-c", "150"]);
    assert.equal(badCap.code, 1);
    assert.match(badCap.stderr, /Cap 150 is outside 0\.\.100/);
    const noDomain = await host.xl(["sched-credit", "-w", "5"]);
    assert.equal(noDomain.code, 2);
    assert.match(noDomain.stderr, /-w and -c need -d <domain>/);

    const down = await host.xl(["shutdown", "spin"]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stderr, /Shutting down domain 1/);
    // on_poweroff defaults to destroy.
    await host.waitFor("spin to go", async () => !(await host.list()).has("spin"));
  });
});

Deno.test("xl: on_crash policies (preserve, restart with a limit, destroy)", async () => {
  await withHost(async (host) => {
    await host.ok([
      "create",
      await host.config("kept", GUEST("kept", "test=crash", 'on_crash = "preserve"\n')),
    ]);
    await host.ok([
      "create",
      await host.config("again", GUEST("again", "test=crash", 'on_crash = "restart"\n')),
    ]);
    await host.ok(["create", await host.config("gone", GUEST("gone", "test=crash"))]);
    // "again" crashes, is restarted five times (a new domain each time), then kept.
    const crashes = async () =>
      (await host.ok(["dmesg"])).match(/"again" shut down \(reason 3\)/g)?.length ?? 0;
    await host.waitFor("six crashes of again", async () => (await crashes()) >= 6);
    await host.waitFor("the crash policies to settle", async () => {
      const rows = await host.list();
      return rows.get("kept")?.[3] === "---sc-" && !rows.has("gone") &&
        rows.get("again")?.[3] === "---sc-";
    });
    const rows = await host.list();
    assert.equal(rows.get("kept")![0], "1");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await crashes(), 6, "no restart after the limit");
    const dmesg = await host.ok(["dmesg"]);
    assert.equal(dmesg.match(/d\d+ "again": 1024 pages/g)?.length, 6);
    assert.match(dmesg, new RegExp(`d${rows.get("again")![0]} "again" shut down \\(reason 3\\)`));
  });
});

Deno.test("xl: console input, create -c, and Ctrl-] detaches", async () => {
  await withHost(async (host) => {
    const attached = await host.xl([
      "create",
      "-c",
      await host.config("hi", GUEST("hi", "test=hello")),
    ]);
    assert.equal(attached.code, 0, attached.stderr);
    assert.match(attached.stdout, /^hello from a PV test guest[\s\S]*result: 0 failed\n$/);

    await host.ok(["create", await host.config("echo", GUEST("echo", "test=console"))]);
    const echoed = await host.xl(["console", "echo"], new TextEncoder().encode("abc q"));
    assert.equal(echoed.code, 0, echoed.stderr);
    assert.match(echoed.stdout, /echo ready\nabc q/);

    await host.ok(["create", await host.config("echo2", GUEST("echo2", "test=console"))]);
    const detached = await host.xl(["console", "echo2"], new Uint8Array([0x78, 0x1d, 0x79]));
    assert.equal(detached.code, 0, detached.stderr);
    const rows = await host.list();
    assert.equal(rows.get("echo2")?.[3].includes("s"), false, "detaching leaves it running");
  });
});

Deno.test("xl: bad configs and bad commands fail clearly", async () => {
  await withHost(async (host) => {
    const cfg = await host.config("bad", 'name = "bad"\nkernel = "probe.elf"\nmemory = "lots"\n');
    const bad = await host.xl(["create", cfg]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      new RegExp(
        `xl: ${join(host.dir, "bad.cfg")}:3: memory: expected an integer, found the string "lots"`,
      ),
    );
    const typo = await host.xl([
      "create",
      await host.config("typo", GUEST("t", "x") + "vpcus = 2\n"),
    ]);
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /typo\.cfg:6: vpcus: unknown key/);
    const missing = await host.xl([
      "create",
      await host.config("nok", 'name = "n"\nkernel = "no.elf"\n'),
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nok\.cfg:2: kernel: cannot read .*no\.elf: no such file/);
    assert.equal((await host.xl(["create", "absent.cfg"])).code, 1);
    // None of that started a daemon.
    assert.match((await host.xl(["list"])).stderr, /not running/);

    await Deno.writeFile(join(host.dir, "junk.elf"), new Uint8Array(4096).fill(7));
    const junk = await host.xl([
      "create",
      await host.config("junk", 'name = "junk"\nkernel = "junk.elf"\n'),
    ]);
    assert.equal(junk.code, 1);
    assert.match(junk.stderr, /xl: Kernel image/);
    assert.deepEqual([...(await host.list()).keys()], ["Domain-0"], "nothing half-built is left");

    assert.equal((await host.xl(["frobnicate"])).code, 2);
    assert.equal((await host.xl(["pause"])).code, 2);
    assert.match((await host.xl(["list", "--bogus"])).stderr, /Unknown option '--bogus'/);
    const unknown = await host.xl(["console", "nobody"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Domain "nobody" does not exist/);
  });
});

Deno.test("xl: the example configs boot the PV kernel", async () => {
  await withHost(async (host) => {
    const examples = join(ROOT, "dom0", "xl", "examples");
    await host.ok(["create", join(examples, "hello.cfg")]);
    await host.ok(["create", join(examples, "memtest.cfg")]);
    await host.ok(["create", "-p", join(examples, "primes.cfg")]);
    assert.equal((await host.list()).get("primes")?.[3], "--p---");
    await host.ok(["sched-credit", "-d", "primes", "-c", "20"]);
    await host.ok(["unpause", "primes"]);
    await host.waitFor("hello and memtest to finish", async () => {
      const rows = await host.list();
      return rows.get("hello")?.[3] === "---s--" && rows.get("memtest")?.[3] === "---s--";
    });
    const rows = await host.list();
    assert.equal(rows.get("memtest")![1], "8", "memtest gave its extra pages back");
    assert.match(await host.ok(["console", "hello"]), /app hello: done checksum=0x[0-9a-f]{8}\n/);
    assert.match(await host.ok(["console", "memtest"]), /app memtest: done/);
    // Capped at 20%, primes gets at most a fifth of the wall clock.
    const before = Number((await host.list()).get("primes")![4]);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 1500));
    const used = Number((await host.list()).get("primes")![4]) - before;
    const elapsed = (performance.now() - t0) / 1000;
    assert.ok(used <= 0.2 * elapsed + 0.15, `capped primes used ${used} s of ${elapsed} s`);
    await host.ok(["destroy", "primes"]);
  });
});

const hasScript = new Deno.Command("sh", { args: ["-c", "command -v script"], stdout: "null" })
  .outputSync().success;

Deno.test({
  name: "xl: the console on a terminal (a pty from script): raw input, Ctrl-] detaches",
  ignore: !hasScript,
  fn: async () => {
    await withHost(async (host) => {
      await host.ok(["create", await host.config("tty", GUEST("tty", "test=console"))]);
      const command = `'${Deno.execPath()}' task --quiet --cwd '${ROOT}' xl console tty`;
      const child = new Deno.Command("script", {
        args: ["-qfc", command, "/dev/null"],
        cwd: host.dir,
        env: { PARAVIRT_XL_SOCKET: host.socket, INIT_CWD: host.dir },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let seen = "";
      const reading = (async () => {
        for await (const chunk of child.stdout) seen += new TextDecoder().decode(chunk);
      })();
      const writer = child.stdin.getWriter();
      const waitFor = async (text: string) => {
        const deadline = Date.now() + 15_000;
        while (!seen.includes(text)) {
          if (Date.now() > deadline) {
            throw new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(seen)}`);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await waitFor("echo ready");
      // Raw mode: bytes go through one by one, without waiting for a newline.
      await writer.write(new TextEncoder().encode("xy"));
      await waitFor("xy");
      await writer.write(new Uint8Array([0x1d]));
      const status = await child.status;
      await writer.close().catch(() => {});
      await reading;
      assert.equal(status.code, 0, seen);
      assert.equal((await host.list()).get("tty")?.[3].includes("s"), false, "still running");
      assert.match(
        await host.ok(["console", "tty"], new TextEncoder().encode("q")),
        /echo ready\nxyq/,
      );
    });
  },
});
