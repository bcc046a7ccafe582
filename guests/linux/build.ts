/**
 * `deno task linux [--json] [--jobs N]`: builds the Linux guest — an unmodified Linux 6.1 kernel
 * from Debian's `linux-source-6.1` and an initramfs holding our tiny init — and caches both outside
 * the repository. A kernel binary is never committed.
 *
 * - Kernel: `rv32_defconfig` plus `linux.config` (merged over the minimal form of rv32_defconfig
 *   with the kernel's own merge_config.sh, then checked: every line of the fragment must hold in
 *   the final .config), built with
 *   `riscv64-linux-gnu-gcc`, `ARCH=riscv`, `make -j2 Image`. About 7 minutes on 2 cores.
 * - Initramfs: `init.c` compiled against the kernel's `tools/include/nolibc` (static, -nostdlib,
 *   rv32ima/ilp32), packed with /dev/console, /proc, /sys by our newc writer (`cpio.ts`).
 * - QEMU firmware: `qemu_sbi/`, a tiny M-mode SBI of ours (riscv64-unknown-elf-gcc), so that
 *   `qemu-system-riscv32 -M virt -bios qemu_sbi.elf` boots the same kernel and initramfs (Debian
 *   ships no rv32 OpenSBI): the cross-check and the benchmark's reference.
 * - Cache: `$PARAVIRT_CACHE` or `$XDG_CACHE_HOME/paravirt` or `~/.cache/paravirt`, under
 *   `linux/kernel-<key>/` (key: source package version, fragment, recipe) and
 *   `linux/initramfs-<key>/` (key: source package version, init sources, recipe). A build runs only
 *   when its key changes; concurrent builders wait for each other through a lock directory.
 *
 * Prints where the results are; with `--json`, prints `{ image, vmlinux, initramfs, ... }` on stdout
 * and everything else on stderr. Exit status 1 with the reason (and the log's tail) on failure.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { S_IFCHR, S_IFDIR, S_IFREG, writeCpio } from "./cpio.ts";

/** Where the Debian package puts the kernel source. */
export const SOURCE_TARBALL = "/usr/src/linux-source-6.1.tar.xz";
/** The Debian package holding it. */
export const SOURCE_PACKAGE = "linux-source-6.1";
/** The kernel command line the guest boots with. */
export const LINUX_CMDLINE = "console=ttyS0 earlycon=sbi";
/** The shell's prompt, as init.c prints it. */
export const SHELL_PROMPT = "paravirt$ ";

const HERE = dirname(fileURLToPath(import.meta.url));
const FRAGMENT = join(HERE, "linux.config");
const INIT_SOURCES = [join(HERE, "init.c"), join(HERE, "nolibc_rv32.h")];
const QEMU_SBI_SOURCES = ["start.S", "sbi.c", "link.ld"].map((f) => join(HERE, "qemu_sbi", f));
const QEMU_SBI_FLAGS = [
  "-march=rv32ima",
  "-misa-spec=2.2",
  "-mabi=ilp32",
  "-mcmodel=medany",
  "-ffreestanding",
  "-nostdlib",
  "-O2",
  "-Wall",
  "-Werror",
  "-Wl,--no-warn-rwx-segments",
];
const CROSS = "riscv64-linux-gnu-";
const MAKE_VARS = [
  "ARCH=riscv",
  `CROSS_COMPILE=${CROSS}`,
  "KBUILD_BUILD_USER=paravirt",
  "KBUILD_BUILD_HOST=paravirt",
  "KBUILD_BUILD_TIMESTAMP=2024-01-01",
];
const INIT_FLAGS = [
  "-march=rv32ima",
  "-mabi=ilp32",
  "-static",
  "-nostdlib",
  "-Os",
  "-Wall",
  "-Werror",
  "-fno-asynchronous-unwind-tables",
  "-fno-ident",
  "-fno-stack-protector",
];
/** Each recipe changes whenever the way we build that piece changes, so its cache key does too. */
const KERNEL_RECIPE = `kernel v1: rv32_defconfig, savedefconfig + merge_config + olddefconfig, ` +
  `make Image; ${MAKE_VARS.join(" ")}`;
const INIT_RECIPE = `initramfs v1: ${INIT_FLAGS.join(" ")}`;
const QEMU_SBI_RECIPE = `qemu-sbi v1: ${QEMU_SBI_FLAGS.join(" ")}`;

/** Paths of a finished build. */
export interface LinuxBuild {
  /** The kernel `Image` (what the board and QEMU boot). */
  readonly image: string;
  /** The kernel ELF with symbols (for debugging). */
  readonly vmlinux: string;
  /** The initramfs (newc cpio). */
  readonly initramfs: string;
  /** The kernel's final .config. */
  readonly config: string;
  /** Our M-mode SBI shim that lets QEMU's virt machine boot the same kernel (`-bios`). */
  readonly qemuFirmware: string;
  /** Version of the source package built. */
  readonly sourceVersion: string;
  /** Whether the kernel came from the cache. */
  readonly kernelCached: boolean;
  /** Whether the initramfs came from the cache. */
  readonly initramfsCached: boolean;
}

/** Options of {@link buildLinux}. */
export interface BuildLinuxOptions {
  /** Parallel make jobs (default 2). */
  jobs?: number;
  /** Progress messages (default: stderr). */
  log?: (message: string) => void;
}

/** The cache directory for Linux builds. */
export function linuxCacheDir(): string {
  const explicit = Deno.env.get("PARAVIRT_CACHE");
  if (explicit) return join(explicit, "linux");
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  const home = Deno.env.get("HOME");
  if (!xdg && !home) throw new Error("Neither PARAVIRT_CACHE, XDG_CACHE_HOME nor HOME is set");
  return join(xdg ?? join(home!, ".cache"), "paravirt", "linux");
}

/**
 * Runs a command and returns its stdout. With `logFile`, both streams are appended to the log as
 * they come (so progress can be followed); on failure the error carries the output's tail.
 */
async function run(
  command: string,
  args: string[],
  options: { cwd?: string; logFile?: string } = {},
): Promise<string> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args,
      cwd: options.cwd,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error(`Cannot run ${command}: ${(error as Error).message}`);
  }
  const log = options.logFile
    ? await Deno.open(options.logFile, { append: true, create: true })
    : undefined;
  const decoder = new TextDecoder();
  let stdout = "";
  let combined = "";
  const pump = async (stream: ReadableStream<Uint8Array>, isStdout: boolean) => {
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      if (isStdout) stdout += text;
      combined = (combined + text).slice(-20_000);
      if (log) await log.write(chunk);
    }
  };
  const [, , status] = await Promise.all([
    pump(child.stdout, true),
    pump(child.stderr, false),
    child.status,
  ]);
  log?.close();
  if (!status.success) {
    const tail = combined.trim().split("\n").slice(-25).join("\n");
    throw new Error(`${command} ${args.join(" ")} failed:\n${tail}`);
  }
  return stdout;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function sha256(parts: (string | Uint8Array)[]): Promise<string> {
  const encoder = new TextEncoder();
  const chunks = parts.map((p) => typeof p === "string" ? encoder.encode(p) : p);
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length + 1, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length + 1; // a zero byte between parts keeps them apart
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 16);
}

/** The installed version of the source package (dpkg's), or a clear error. */
async function sourceVersion(): Promise<string> {
  if (!(await exists(SOURCE_TARBALL))) {
    throw new Error(`${SOURCE_TARBALL} is missing: install ${SOURCE_PACKAGE} (deno task setup)`);
  }
  const version = (await run("dpkg-query", ["-W", "-f=${Version}", SOURCE_PACKAGE])).trim();
  if (!version) throw new Error(`dpkg does not know ${SOURCE_PACKAGE}'s version`);
  return version;
}

/**
 * Runs `work` holding the lock directory `lock` (created atomically). Waits while another live
 * process holds it; takes over a lock whose owner died.
 */
async function withLock<T>(lock: string, log: (m: string) => void, work: () => Promise<T>) {
  let waited = false;
  for (;;) {
    try {
      await Deno.mkdir(lock);
      await Deno.writeTextFile(join(lock, "pid"), String(Deno.pid));
      break;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      const pid = await Deno.readTextFile(join(lock, "pid")).catch(() => "");
      if (pid !== "" && !(await exists(`/proc/${pid.trim()}`))) {
        log(`linux: removing the stale lock of process ${pid.trim()}`);
        await Deno.remove(lock, { recursive: true }).catch(() => {});
        continue;
      }
      if (!waited) log(`linux: another build holds ${lock}; waiting for it`);
      waited = true;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  try {
    return await work();
  } finally {
    await Deno.remove(lock, { recursive: true }).catch(() => {});
  }
}

/** Extracts the source tarball once per package version; returns the source tree. */
async function sourceTree(root: string, version: string, log: (m: string) => void) {
  const dir = join(root, `src-${version}`);
  const tree = join(dir, "linux-source-6.1");
  if (await exists(join(tree, "Makefile"))) return tree;
  return await withLock(`${dir}.lock`, log, async () => {
    if (await exists(join(tree, "Makefile"))) return tree;
    log(`linux: extracting ${SOURCE_TARBALL} into ${dir}`);
    const temp = `${dir}.tmp`;
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    await Deno.mkdir(temp, { recursive: true });
    await run("tar", ["-xf", SOURCE_TARBALL, "-C", temp, "--no-same-owner"]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.rename(temp, dir);
    return tree;
  });
}

/** Lines of the fragment that the final .config does not honour. */
export function unmetFragmentLines(fragment: string, config: string): string[] {
  const have = new Map<string, string>();
  for (const line of config.split("\n")) {
    const set = line.match(/^(CONFIG_[A-Za-z0-9_]+)=(.*)$/);
    if (set) have.set(set[1], set[2]);
  }
  const unmet: string[] = [];
  for (const line of fragment.split("\n")) {
    const off = line.match(/^# (CONFIG_[A-Za-z0-9_]+) is not set$/);
    const on = line.match(/^(CONFIG_[A-Za-z0-9_]+)=(.*)$/);
    if (off && have.has(off[1])) unmet.push(`${line} (is ${off[1]}=${have.get(off[1])})`);
    if (on && have.get(on[1]) !== on[2]) unmet.push(`${line} (is ${have.get(on[1]) ?? "unset"})`);
  }
  return unmet;
}

async function buildKernel(
  tree: string,
  out: string,
  jobs: number,
  log: (m: string) => void,
): Promise<void> {
  const build = `${out}.build`;
  await Deno.remove(build, { recursive: true }).catch(() => {});
  await Deno.mkdir(build, { recursive: true });
  const logFile = join(build, "build.log");
  const make = (args: string[]) =>
    run("make", [`O=${build}`, ...MAKE_VARS, ...args], {
      cwd: tree,
      logFile,
    });
  log(`linux: configuring (rv32_defconfig + ${FRAGMENT})`);
  // The fragment is merged over rv32_defconfig in its minimal (savedefconfig) form, so options
  // that were only selected by something the fragment turns off fall back to their defaults.
  await make(["rv32_defconfig"]);
  await make(["savedefconfig"]);
  await run(join(tree, "scripts/kconfig/merge_config.sh"), [
    "-m",
    "-O",
    build,
    join(build, "defconfig"),
    FRAGMENT,
  ], { cwd: tree, logFile });
  await make(["olddefconfig"]);
  const unmet = unmetFragmentLines(
    await Deno.readTextFile(FRAGMENT),
    await Deno.readTextFile(join(build, ".config")),
  );
  if (unmet.length > 0) {
    throw new Error(`The kernel configuration does not honour the fragment:\n${unmet.join("\n")}`);
  }
  log(
    `linux: building the kernel with make -j${jobs} (about 7 minutes on 2 cores); log: ${logFile}`,
  );
  const started = performance.now();
  const ticker = setInterval(async () => {
    const text = await Deno.readTextFile(logFile).catch(() => "");
    const last = text.trimEnd().split("\n").at(-1) ?? "";
    log(`linux: ... ${Math.round((performance.now() - started) / 1000)} s: ${last.trim()}`);
  }, 30_000);
  try {
    await make([`-j${jobs}`, "Image"]);
  } finally {
    clearInterval(ticker);
  }
  const temp = `${out}.tmp`;
  await Deno.remove(temp, { recursive: true }).catch(() => {});
  await Deno.mkdir(temp, { recursive: true });
  for (
    const [from, to] of [
      ["arch/riscv/boot/Image", "Image"],
      ["vmlinux", "vmlinux"],
      ["System.map", "System.map"],
      [".config", "config"],
      ["build.log", "build.log"],
    ]
  ) {
    await Deno.copyFile(join(build, from), join(temp, to));
  }
  await Deno.rename(temp, out);
  await Deno.remove(build, { recursive: true });
  log(`linux: kernel built in ${Math.round((performance.now() - started) / 1000)} s`);
}

async function buildInitramfs(tree: string, out: string, log: (m: string) => void) {
  const temp = `${out}.tmp`;
  await Deno.remove(temp, { recursive: true }).catch(() => {});
  await Deno.mkdir(temp, { recursive: true });
  const nolibc = join(tree, "tools/include/nolibc");
  const init = join(temp, "init");
  log("linux: compiling init against nolibc");
  await run(`${CROSS}gcc`, [
    ...INIT_FLAGS,
    "-include",
    INIT_SOURCES[1],
    "-include",
    join(nolibc, "nolibc.h"),
    "-I",
    nolibc,
    "-o",
    init,
    INIT_SOURCES[0],
  ]);
  const archive = writeCpio([
    { name: "dev", mode: S_IFDIR | 0o755 },
    { name: "dev/console", mode: S_IFCHR | 0o600, rdev: { major: 5, minor: 1 } },
    { name: "proc", mode: S_IFDIR | 0o555 },
    { name: "sys", mode: S_IFDIR | 0o555 },
    { name: "root", mode: S_IFDIR | 0o700 },
    { name: "init", mode: S_IFREG | 0o755, data: await Deno.readFile(init) },
  ]);
  await Deno.writeFile(join(temp, "initramfs.cpio"), archive);
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.rename(temp, out);
}

async function buildQemuFirmware(out: string, log: (m: string) => void) {
  const temp = `${out}.tmp`;
  await Deno.remove(temp, { recursive: true }).catch(() => {});
  await Deno.mkdir(temp, { recursive: true });
  log("linux: building the QEMU SBI shim");
  const [start, c, script] = QEMU_SBI_SOURCES;
  await run("riscv64-unknown-elf-gcc", [
    ...QEMU_SBI_FLAGS,
    "-T",
    script,
    "-o",
    join(temp, "qemu_sbi.elf"),
    start,
    c,
    "-lgcc",
  ]);
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.rename(temp, out);
}

/** The cache keys of the three pieces, and the source package version they build from. */
export interface LinuxCacheKeys {
  /** Source package version. */
  readonly sourceVersion: string;
  /** Key of the kernel: version, fragment, recipe. */
  readonly kernel: string;
  /** Key of the initramfs: version (nolibc), init sources, cpio writer, recipe. */
  readonly initramfs: string;
  /** Key of the QEMU shim: its sources and recipe. */
  readonly qemuFirmware: string;
}

/** Computes the cache keys from the installed source package and the files in this directory. */
export async function linuxCacheKeys(): Promise<LinuxCacheKeys> {
  const version = await sourceVersion();
  const read = (paths: string[]) => Promise.all(paths.map((p) => Deno.readFile(p)));
  return {
    sourceVersion: version,
    kernel: await sha256([KERNEL_RECIPE, version, await Deno.readFile(FRAGMENT)]),
    initramfs: await sha256([
      INIT_RECIPE,
      version,
      ...(await read([...INIT_SOURCES, join(HERE, "cpio.ts")])),
    ]),
    qemuFirmware: await sha256([QEMU_SBI_RECIPE, ...(await read(QEMU_SBI_SOURCES))]),
  };
}

/** Builds (or finds in the cache) the kernel and the initramfs; returns their paths. */
export async function buildLinux(options: BuildLinuxOptions = {}): Promise<LinuxBuild> {
  const log = options.log ?? ((m: string) => console.error(m));
  const jobs = options.jobs ?? 2;
  if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`Jobs must be >= 1, not ${jobs}`);
  const root = linuxCacheDir();
  await Deno.mkdir(root, { recursive: true });
  const keys = await linuxCacheKeys();
  const version = keys.sourceVersion;
  const kernelKey = keys.kernel;
  const initramfsKey = keys.initramfs;
  const firmwareKey = keys.qemuFirmware;
  const firmwareDir = join(root, `qemu-sbi-${firmwareKey}`);
  const qemuFirmware = join(firmwareDir, "qemu_sbi.elf");
  if (!(await exists(qemuFirmware))) {
    await withLock(`${firmwareDir}.lock`, log, async () => {
      if (!(await exists(qemuFirmware))) await buildQemuFirmware(firmwareDir, log);
    });
  }
  const kernelDir = join(root, `kernel-${kernelKey}`);
  const initramfsDir = join(root, `initramfs-${initramfsKey}`);
  const image = join(kernelDir, "Image");
  const initramfs = join(initramfsDir, "initramfs.cpio");
  const kernelCached = await exists(image);
  const initramfsCached = await exists(initramfs);
  if (!kernelCached || !initramfsCached) {
    const tree = await sourceTree(root, version, log);
    if (!kernelCached) {
      await withLock(`${kernelDir}.lock`, log, async () => {
        if (!(await exists(image))) await buildKernel(tree, kernelDir, jobs, log);
      });
    }
    if (!initramfsCached) {
      await withLock(`${initramfsDir}.lock`, log, async () => {
        if (!(await exists(initramfs))) await buildInitramfs(tree, initramfsDir, log);
      });
    }
  }
  return {
    image,
    vmlinux: join(kernelDir, "vmlinux"),
    initramfs,
    config: join(kernelDir, "config"),
    qemuFirmware,
    sourceVersion: version,
    kernelCached,
    initramfsCached,
  };
}

if (import.meta.main) {
  const args = [...Deno.args];
  const json = args.includes("--json");
  const jobsAt = args.indexOf("--jobs");
  const jobs = jobsAt >= 0 ? Number(args[jobsAt + 1]) : 2;
  const unknown = args.filter((a, i) => a !== "--json" && a !== "--jobs" && i !== jobsAt + 1);
  if (unknown.length > 0 || (jobsAt >= 0 && !(Number.isInteger(jobs) && jobs > 0))) {
    console.error("usage: deno task linux [--json] [--jobs N]");
    Deno.exit(2);
  }
  try {
    const result = await buildLinux({ jobs });
    if (json) {
      console.log(JSON.stringify({ ...result, cmdline: LINUX_CMDLINE }));
    } else {
      console.log(`kernel:    ${result.image}${result.kernelCached ? " (cached)" : ""}`);
      console.log(`initramfs: ${result.initramfs}${result.initramfsCached ? " (cached)" : ""}`);
      console.log(`source:    ${SOURCE_PACKAGE} ${result.sourceVersion}`);
      console.log(`boot it:   deno task machine --linux`);
    }
  } catch (error) {
    console.error(`linux: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
