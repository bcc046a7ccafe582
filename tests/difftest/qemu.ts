/**
 * Runs an ELF image on QEMU's `virt` machine as the reference for the differential test.
 *
 * The CPU model is QEMU 7.2's generic `rv32` trimmed to what our hart implements, so that misa and
 * the set of legal encodings agree: no C/F/D/H, no bit-manipulation extensions, and mvendorid,
 * marchid and mimpid forced to 0 (our board's values; QEMU defaults the latter two to its version).
 * `-icount shift=0` makes QEMU's instruction counter exact, so `minstret` differences are
 * deterministic.
 *
 * Needs `qemu-system-riscv32` on PATH (Debian package `qemu-system-misc`) and permission to run it
 * and to write a temporary file.
 *
 * @module
 */

/** The `-cpu` argument used for reference runs. */
export const QEMU_CPU: string =
  "rv32,c=false,f=false,d=false,h=false,zba=false,zbb=false,zbc=false,zbs=false," +
  "mvendorid=0,marchid=0,mimpid=0";

/** Options of {@link runQemu}. */
export interface QemuOptions {
  /** The QEMU binary; default `qemu-system-riscv32`. */
  readonly binary?: string;
  /** Kill QEMU after this many milliseconds; default 60 000. */
  readonly timeoutMs?: number;
  /** The `-cpu` argument; default {@link QEMU_CPU}. */
  readonly cpu?: string;
}

/** What a QEMU run produced. */
export interface QemuResult {
  /** Everything the guest printed on the UART (QEMU's console). */
  readonly output: string;
  /** QEMU's exit code (0 after the guest wrote 0x5555 to the test device). */
  readonly exitCode: number;
  /** True when the run was killed at the timeout. */
  readonly timedOut: boolean;
  /** What QEMU wrote to stderr. */
  readonly stderr: string;
}

/** Thrown when the QEMU binary cannot be found; callers may catch it to skip. */
export class QemuMissingError extends Error {
  /** Creates the error for a binary name. */
  constructor(binary: string) {
    super(
      `${binary} was not found; install the Debian package qemu-system-misc ` +
        `(apt-get install qemu-system-misc)`,
    );
    this.name = "QemuMissingError";
  }
}

/** The full command line for an image file, for messages and replays. */
export function qemuCommand(
  elfPath: string,
  binary = "qemu-system-riscv32",
  cpu: string = QEMU_CPU,
): string[] {
  return [
    binary,
    "-M",
    "virt",
    "-bios",
    "none",
    "-nographic",
    "-cpu",
    cpu,
    "-icount",
    "shift=0",
    "-kernel",
    elfPath,
  ];
}

/**
 * Writes `image` to a temporary file, runs QEMU on it and returns its console output.
 *
 * @throws {QemuMissingError} when the QEMU binary is not installed.
 */
export async function runQemu(image: Uint8Array, options: QemuOptions = {}): Promise<QemuResult> {
  const binary = options.binary ?? "qemu-system-riscv32";
  const path = await Deno.makeTempFile({ prefix: "difftest-", suffix: ".elf" });
  try {
    await Deno.writeFile(path, image);
    const [program, ...args] = qemuCommand(path, binary, options.cpu);
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(program, { args, stdin: "null", stdout: "piped", stderr: "piped" })
        .spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw new QemuMissingError(binary);
      throw error;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    }, options.timeoutMs ?? 60_000);
    try {
      const { code, stdout, stderr } = await child.output();
      const decoder = new TextDecoder();
      return {
        output: decoder.decode(stdout),
        exitCode: code,
        timedOut,
        stderr: decoder.decode(stderr),
      };
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}
