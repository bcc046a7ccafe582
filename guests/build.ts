/**
 * Builds every guest image into `guests/bin/<name>.elf` (`deno task guests`), or into
 * another directory with `--out <dir>`: the native test programs from `native/` and the PV
 * kernel from `pv/` (its U-mode applications first, then the kernel that embeds them).
 *
 * Rules of use: the build is reproducible — the same bytes on every run and from any
 * checkout path — because it compiles without debug information, from `native/` or `pv/` as
 * the working directory with relative source names (the only file names an ELF keeps), with
 * `-ffile-prefix-map` for anything else, and links without a build ID. The committed images
 * are checked against a fresh build by `build_test.ts`; rebuild and commit them together
 * with any change to `native/` or `pv/`. `deno task guests` (not `--out`) also regenerates
 * `pv/include/paravirt_abi.h` from `@paravirt/public`; `pv_header_test.ts` checks the
 * committed header is current.
 *
 * @module
 */

import { generateCHeader } from "@paravirt/public";
import { GUEST_IMAGE_NAMES, type GuestImageName, PV_APP_NAMES } from "./mod.ts";

/** The cross compiler: Debian's bare-metal RISC-V GCC (multilib, 32- and 64-bit). */
export const COMPILER = "riscv64-unknown-elf-gcc";

/** The Debian package that provides {@linkcode COMPILER}. */
export const COMPILER_PACKAGE = "gcc-riscv64-unknown-elf";

/** What to tell a user who lacks the compiler. */
export const MISSING_COMPILER_MESSAGE =
  `${COMPILER} was not found: install the Debian package ${COMPILER_PACKAGE} ` +
  `(sudo apt-get install ${COMPILER_PACKAGE})`;

/**
 * Code-generation flags. `-march=rv32ima` with `-misa-spec=2.2` keeps the CSR and fence.i
 * instructions in the base ISA and selects the rv32ia/ilp32 multilib for libgcc; spelling
 * out `_zicsr_zifencei` instead would pick the wrong (default rv64) multilib.
 */
export const ARCH_FLAGS: readonly string[] = [
  "-march=rv32ima",
  "-misa-spec=2.2",
  "-mabi=ilp32",
  "-mcmodel=medany",
];

const COMPILE_FLAGS: readonly string[] = [
  ...ARCH_FLAGS,
  "-ffreestanding",
  "-nostdlib",
  "-static",
  "-O2",
  "-Wall",
  "-Wextra",
  "-fno-common",
];

const LINK_FLAGS: readonly string[] = [
  "-T",
  "common/link.ld",
  "-Wl,--build-id=none",
  "-Wl,--strip-debug",
  "-Wl,--no-warn-rwx-segments",
];

/** Sources every image links: entry, traps, mode switching, console, checks, mem*. */
const COMMON_SOURCES: readonly string[] = [
  "common/crt0.S",
  "common/trap.S",
  "common/mode.S",
  "common/console.c",
  "common/test.c",
  "common/mem.c",
  "common/trap_default.c",
];

/** The program sources of each native image, relative to `native/`. */
const PROGRAM_SOURCES: Readonly<Record<Exclude<GuestImageName, "pvkernel">, readonly string[]>> = {
  hello: ["hello.c"],
  traps: ["traps.c"],
  sv32: ["sv32.c"],
  timer: ["timer.c"],
  htif: ["htif.c"],
  demo: ["demo.c"],
  cpubench: ["cpubench.c", "cpubench_rv.c"],
};

/** Options of {@linkcode buildImages}. */
export interface BuildOptions {
  /** Directory to write `<name>.elf` into; created if missing. Defaults to `guests/bin`. */
  outDir?: string;
  /** Images to build; defaults to all of {@linkcode GUEST_IMAGE_NAMES}. */
  images?: readonly GuestImageName[];
  /** Called with one line per built image; defaults to no output. */
  log?: (line: string) => void;
}

/** Thrown by {@linkcode buildImages} when {@linkcode COMPILER} is not installed. */
export class CompilerMissingError extends Error {
  /** Creates the error with {@linkcode MISSING_COMPILER_MESSAGE}. */
  constructor() {
    super(MISSING_COMPILER_MESSAGE);
    this.name = "CompilerMissingError";
  }
}

/** Thrown by {@linkcode buildImages} when the compiler rejects a program. */
export class BuildError extends Error {
  /** Creates the error for `image` with the compiler's diagnostics. */
  constructor(image: string, diagnostics: string) {
    super(`Building guest image "${image}" failed:\n${diagnostics}`);
    this.name = "BuildError";
  }
}

const NATIVE_DIR = decodeURIComponent(new URL("./native", import.meta.url).pathname);
const PV_DIR = decodeURIComponent(new URL("./pv", import.meta.url).pathname);
const DEFAULT_OUT_DIR = decodeURIComponent(new URL("./bin", import.meta.url).pathname);

/** Where the generated ABI header lives, relative to `pv/`. */
export const PV_HEADER = "include/paravirt_abi.h";

/**
 * Flags of all PV code on top of {@linkcode COMPILE_FLAGS}: the include directories, no loop
 * rewriting into calls to memset/memcpy (which are themselves such loops), and no jump tables
 * (their absolute addresses would be wrong in the kernel code that runs before paging is on).
 */
const PV_FLAGS: readonly string[] = [
  "-Iinclude",
  "-Icommon",
  "-fno-tree-loop-distribute-patterns",
  "-fno-jump-tables",
];

/** Sources every PV binary links (kernel and applications), relative to `pv/`. */
const PV_COMMON_SOURCES: readonly string[] = [
  "common/format.c",
  "common/string.c",
  "common/args.c",
];

/** The kernel's sources, relative to `pv/`: `kernel/entry.S` first (the ELF entry). */
const PV_KERNEL_SOURCES: readonly string[] = [
  "kernel/entry.S",
  "kernel/trap.S",
  "kernel/switch.S",
  "kernel/fixup.S",
  "kernel/apps.S",
  "kernel/boot_native.c",
  "kernel/fdt.c",
  "kernel/boot_pv.c",
  "kernel/main.c",
  "kernel/console.c",
  "kernel/pvops.c",
  "kernel/pvops_native.c",
  "kernel/pvops_xen.c",
  "kernel/frame.c",
  "kernel/paging.c",
  "kernel/trap.c",
  "kernel/thread.c",
  "kernel/timer.c",
  "kernel/events.c",
  "kernel/elf.c",
  "kernel/process.c",
  "kernel/syscall.c",
  "kernel/apps.c",
  "kernel/hostile.c",
  "kernel/gnttab.c",
  "kernel/xenbus.c",
  "kernel/blkfront.c",
  "kernel/netfront.c",
  "kernel/consfront.c",
  "kernel/xstest.c",
  "kernel/ringgarbage.c",
];

/** Sources every application links, relative to `pv/`: `apps/crt0.S` first. */
const PV_APP_RUNTIME: readonly string[] = ["apps/crt0.S", "apps/ulib.c"];

/**
 * Whether {@linkcode COMPILER} can be run.
 *
 * @returns `true` if `riscv64-unknown-elf-gcc --version` succeeds.
 */
export async function hasCompiler(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(COMPILER, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function compile(name: string, cwd: string, args: readonly string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command(COMPILER, {
    args: [...args],
    cwd,
    stdout: "inherit",
    stderr: "piped",
  }).output();
  const diagnostics = new TextDecoder().decode(stderr);
  if (!success) throw new BuildError(name, diagnostics);
  if (diagnostics.trim() !== "") {
    // Warnings are not fatal, but they are shown.
    console.error(diagnostics.trimEnd());
  }
}

async function buildNative(name: Exclude<GuestImageName, "pvkernel">, outFile: string) {
  await compile(name, NATIVE_DIR, [
    ...COMPILE_FLAGS,
    `-ffile-prefix-map=${NATIVE_DIR}=.`,
    ...LINK_FLAGS,
    "-o",
    outFile,
    ...COMMON_SOURCES,
    ...PROGRAM_SOURCES[name],
    "-lgcc",
  ]);
}

const PV_LINK_FLAGS: readonly string[] = [
  "-Wl,--build-id=none",
  "-Wl,--strip-debug",
  "-Wl,--no-warn-rwx-segments",
];

/**
 * Builds the PV kernel: each application into a temporary directory, then the kernel, whose
 * `kernel/apps.S` embeds them with `.incbin` (the assembler finds them through `-Wa,-I`; the
 * directory's name does not end up in any output).
 */
async function buildPvKernel(outFile: string): Promise<void> {
  const appDir = await Deno.makeTempDir({ prefix: "pv-apps-" });
  try {
    await Promise.all(PV_APP_NAMES.map((app) =>
      compile(`pv app ${app}`, PV_DIR, [
        ...COMPILE_FLAGS,
        ...PV_FLAGS,
        `-ffile-prefix-map=${PV_DIR}=.`,
        "-T",
        "apps/link.ld",
        ...PV_LINK_FLAGS,
        "-o",
        `${appDir}/${app}.elf`,
        ...PV_APP_RUNTIME,
        ...PV_COMMON_SOURCES,
        `apps/${app}.c`,
        "-lgcc",
      ])
    ));
    await compile("pvkernel", PV_DIR, [
      ...COMPILE_FLAGS,
      ...PV_FLAGS,
      "-Ikernel",
      `-Wa,-I${appDir}`,
      `-ffile-prefix-map=${PV_DIR}=.`,
      "-T",
      "kernel/link.ld",
      ...PV_LINK_FLAGS,
      "-o",
      outFile,
      ...PV_KERNEL_SOURCES,
      ...PV_COMMON_SOURCES,
      "-lgcc",
    ]);
  } finally {
    await Deno.remove(appDir, { recursive: true });
  }
}

async function buildOne(name: GuestImageName, outFile: string): Promise<void> {
  if (name === "pvkernel") {
    await buildPvKernel(outFile);
  } else {
    await buildNative(name, outFile);
  }
}

/**
 * Writes `pv/include/paravirt_abi.h` from `@paravirt/public` if it differs.
 *
 * @returns Whether the file changed.
 */
export async function writePvHeader(): Promise<boolean> {
  const path = `${PV_DIR}/${PV_HEADER}`;
  const text = generateCHeader();
  let old: string | undefined;
  try {
    old = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (old === text) return false;
  await Deno.writeTextFile(path, text);
  return true;
}

/**
 * Builds guest images with {@linkcode COMPILER}.
 *
 * @param options Output directory, image subset and logger.
 * @returns The paths of the written images, in build order.
 * @throws {CompilerMissingError} If the compiler is not installed.
 * @throws {BuildError} If a program does not compile or link.
 */
export async function buildImages(options: BuildOptions = {}): Promise<string[]> {
  if (!(await hasCompiler())) throw new CompilerMissingError();
  const outDir = options.outDir ?? DEFAULT_OUT_DIR;
  await Deno.mkdir(outDir, { recursive: true });
  const absOut = outDir.startsWith("/") ? outDir : `${Deno.cwd()}/${outDir}`;
  const images = options.images ?? GUEST_IMAGE_NAMES;
  const outputs = images.map((name) => `${absOut}/${name}.elf`);
  await Promise.all(images.map((name, i) => buildOne(name, outputs[i])));
  for (const output of outputs) {
    const { size } = await Deno.stat(output);
    options.log?.(`built ${output} (${size} bytes)`);
  }
  return outputs;
}

function parseArgs(args: readonly string[]): { outDir?: string } {
  let outDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--out" && i + 1 < args.length) {
      outDir = args[++i];
    } else if (arg.startsWith("--out=")) {
      outDir = arg.slice("--out=".length);
    } else {
      throw new TypeError(`Unknown argument "${arg}": usage: build.ts [--out <dir>]`);
    }
  }
  return { outDir };
}

if (import.meta.main) {
  try {
    const { outDir } = parseArgs(Deno.args);
    if (outDir === undefined && await writePvHeader()) {
      console.log(`regenerated guests/pv/${PV_HEADER} from @paravirt/public`);
    }
    await buildImages({ outDir, log: (line) => console.log(line) });
  } catch (error) {
    if (error instanceof CompilerMissingError || error instanceof BuildError) {
      console.error(error.message);
      Deno.exit(1);
    }
    if (error instanceof TypeError) {
      console.error(error.message);
      Deno.exit(2);
    }
    throw error;
  }
}
