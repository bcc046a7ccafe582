/**
 * A host for end-to-end tests of `xl`: a temporary directory the CLI is run from (configs, kernel
 * images, disk images), the real `deno task xl` CLI as subprocesses, and the daemon it starts on a
 * temporary socket (`PARAVIRT_XL_SOCKET`), stopped (every domain destroyed) at the end.
 *
 * Rules of use: `withHost(body, options)`; the directory and the daemon are gone afterwards. The
 * daemon is started by the first `xl create`, with `options.env` (e.g. `PARAVIRT_XL_IMAGES`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { probeGuest } from "@paravirt/hypervisor";

/** The repository root. */
export const ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** What a command did. */
export interface Run {
  /** Exit status. */
  code: number;
  /** Its standard output. */
  stdout: string;
  /** Its standard error. */
  stderr: string;
}

/** A temporary host (see the module doc). */
export class Host {
  /** The directory `xl` runs in. */
  readonly dir: string;
  /** The daemon's socket. */
  readonly socket: string;
  /** Extra environment for every `xl`. */
  readonly env: Record<string, string>;

  /** A host in `dir`. */
  constructor(dir: string, env: Record<string, string> = {}) {
    this.dir = dir;
    this.socket = join(dir, "run", "xl.sock");
    this.env = env;
  }

  /** Runs `deno task xl <args>` from the host's directory. */
  async xl(args: string[], stdin?: Uint8Array | "null"): Promise<Run> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "--cwd", ROOT, "xl", ...args],
      cwd: this.dir,
      // deno task sets INIT_CWD to where it was run, unless it is set already (as it is when
      // these tests run under `deno task ok`): set it the way a user's shell would have it.
      env: { PARAVIRT_XL_SOCKET: this.socket, INIT_CWD: this.dir, ...this.env },
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

  /** Runs xl and asserts it succeeded; returns its output. */
  async ok(args: string[], stdin?: Uint8Array): Promise<string> {
    const run = await this.xl(args, stdin);
    assert.equal(run.code, 0, `xl ${args.join(" ")} failed:\n${run.stderr}`);
    return run.stdout;
  }

  /** Runs xl and asserts it failed with status `code`; returns its stderr. */
  async fails(args: string[], code = 1): Promise<string> {
    const run = await this.xl(args);
    assert.equal(run.code, code, `xl ${args.join(" ")}: ${run.stdout}${run.stderr}`);
    return run.stderr;
  }

  /** Writes `<name>.cfg`; returns its name. */
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

  /** The id of domain `name`. */
  async id(name: string): Promise<number> {
    const row = (await this.list()).get(name);
    assert.ok(row, `no domain ${name}`);
    return Number(row[0]);
  }

  /** Polls `check` every 100 ms until it holds; throws after `timeoutMs`. */
  async waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Runs `body` on a fresh host (with the probe kernel as `probe.elf`), then stops its daemon. */
export async function withHost(
  body: (host: Host) => Promise<void>,
  options: { env?: (dir: string) => Record<string, string> } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "xl-e2e-" });
  const host = new Host(dir, options.env?.(dir) ?? {});
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

/** A probe-kernel guest's config. */
export const GUEST = (name: string, cmdline: string, extra = ""): string =>
  `# a test guest\nname = "${name}"\nmemory = 4\nkernel = "probe.elf"\ncmdline = "${cmdline}"\n${extra}`;
