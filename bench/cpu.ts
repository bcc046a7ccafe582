/**
 * `deno task bench`: the CPU benchmark. Runs the `cpubench` guest image (about 1.5 G RV32
 * instructions: integer loop, CRC32, matrix multiply, heapsort) on our machine and on QEMU,
 * and the same C source built natively with the host's `gcc -O2`, then prints wall time,
 * MIPS and ratios, checks that every run printed the same checksums, and checks that our
 * instruction count equals QEMU's exact one.
 *
 * Measures, per machine:
 * - ours: `runElf` from `@paravirt/board` (instruction clock), in this process;
 * - QEMU TCG: `qemu-system-riscv32 -M virt` without `-icount`, the speed figure;
 * - QEMU TCG `-icount shift=0`: slower, but its minstret is exact, the reference count;
 * - native x86-64: no RV32 instructions at all, so its "MIPS" is the guest's instruction
 *   count divided by its wall time — the rate at which it gets the same work done.
 *
 * Usage: `deno task bench [--runs N]`; each machine runs N times (default 1) and the fastest
 * run counts. Exits 1 if the checksums disagree or the instruction counts differ. A missing
 * `qemu-system-riscv32` (Debian: qemu-system-misc) or `gcc` skips that machine with a note.
 *
 * @module
 */

import { runElf } from "@paravirt/board";
import { cpubenchHostSources, guestImagePath } from "@paravirt/guests";

/** QEMU's CPU trimmed to our hart (as tests/difftest uses it): RV32IMA + S/U, no C/F/D/H/B. */
const QEMU_CPU = "rv32,c=false,f=false,d=false,h=false,zba=false,zbb=false,zbc=false," +
  "zbs=false,mvendorid=0,marchid=0,mimpid=0";
const QEMU_BINARY = "qemu-system-riscv32";
const QEMU_PACKAGE = "qemu-system-misc";
const HOST_CC = "gcc";
const TIMEOUT_MS = 300_000;
/** A guard far above the ~1.5 G instructions the benchmark needs. */
const MAX_INSTRUCTIONS = 4_000_000_000;

/** One machine's result. */
interface Measurement {
  /** Row label. */
  readonly label: string;
  /** Fastest wall time over the runs, in seconds. */
  readonly seconds: number;
  /** Console output of the fastest run. */
  readonly output: string;
  /** Exit status (0 = the guest passed). */
  readonly exitCode: number;
  /** Instructions the machine itself counted, if it reports them. */
  readonly machineInstructions?: number;
}

function parseArgs(args: readonly string[]): { runs: number } {
  let runs = 1;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = arg === "--runs" ? args[++i] : arg.startsWith("--runs=") ? arg.slice(7) : null;
    if (value === null || value === undefined) {
      throw new TypeError(`Unknown argument "${arg}": usage: deno task bench [--runs N]`);
    }
    runs = Number(value);
    if (!Number.isInteger(runs) || runs < 1) {
      throw new RangeError(`Run count "${value}" is not a positive integer`);
    }
  }
  return { runs };
}

/** The `<part> checksum 0x…` lines, in order. */
function checksums(output: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of output.matchAll(/^(\w+) checksum (0x[0-9a-f]{8})$/gm)) {
    found.set(match[1], match[2]);
  }
  return found;
}

/** The guest's own count, the `instret N` line (absent on the host build). */
function guestInstret(output: string): number | undefined {
  const match = output.match(/^instret (\d+)$/m);
  return match ? Number(match[1]) : undefined;
}

async function commandExists(binary: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(binary, {
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

/** Runs a program `runs` times and keeps the fastest run. */
async function measureCommand(
  label: string,
  binary: string,
  args: readonly string[],
  runs: number,
): Promise<Measurement> {
  let best: Measurement | undefined;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = await new Deno.Command(binary, {
      args: [...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }).output();
    const seconds = (performance.now() - started) / 1000;
    const output = new TextDecoder().decode(result.stdout);
    if (!best || seconds < best.seconds) {
      best = { label, seconds, output, exitCode: result.code };
    }
  }
  return best!;
}

function qemuArgs(elfPath: string, icount: boolean): string[] {
  return [
    "-M",
    "virt",
    "-bios",
    "none",
    "-nographic",
    "-cpu",
    QEMU_CPU,
    ...(icount ? ["-icount", "shift=0"] : []),
    "-kernel",
    elfPath,
  ];
}

async function buildNative(dir: string): Promise<string> {
  const exe = `${dir}/cpubench`;
  const { success, stderr } = await new Deno.Command(HOST_CC, {
    args: ["-O2", "-o", exe, ...cpubenchHostSources()],
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(`Native build failed:\n${new TextDecoder().decode(stderr)}`);
  }
  return exe;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

function padLeft(text: string, width: number): string {
  return text.length >= width ? text : " ".repeat(width - text.length) + text;
}

async function main(runs: number): Promise<number> {
  const elfPath = guestImagePath("cpubench");
  const image = await Deno.readFile(elfPath);
  const measurements: Measurement[] = [];
  const notes: string[] = [];
  console.log(`cpubench: ${elfPath}, ${runs} run(s) per machine, fastest counts\n`);

  // ---- our machine: runElf from @paravirt/board -------------------------------------------
  {
    let best: Measurement | undefined;
    for (let i = 0; i < runs; i++) {
      console.log("running on our machine ...");
      const started = performance.now();
      const result = await runElf(image, { maxInstructions: MAX_INSTRUCTIONS });
      const seconds = (performance.now() - started) / 1000;
      if (!best || seconds < best.seconds) {
        best = {
          label: "ours (paravirt board)",
          seconds,
          output: result.output,
          exitCode: result.exitCode,
          machineInstructions: result.instructions,
        };
      }
    }
    measurements.push(best!);
  }
  // ------------------------------------------------------------------------------------------

  let qemuExact: Measurement | undefined;
  if (await commandExists(QEMU_BINARY)) {
    console.log("running on QEMU TCG ...");
    measurements.push(
      await measureCommand("qemu TCG", QEMU_BINARY, qemuArgs(elfPath, false), runs),
    );
    console.log("running on QEMU TCG -icount shift=0 ...");
    qemuExact = await measureCommand(
      "qemu TCG -icount shift=0",
      QEMU_BINARY,
      qemuArgs(elfPath, true),
      runs,
    );
    measurements.push(qemuExact);
    notes.push(
      "QEMU without -icount reads host CPU ticks from minstret, so its instret is ignored",
    );
  } else {
    notes.push(`QEMU skipped: ${QEMU_BINARY} not found (Debian package ${QEMU_PACKAGE})`);
  }

  if (await commandExists(HOST_CC)) {
    const dir = await Deno.makeTempDir({ prefix: "cpubench-" });
    try {
      console.log("building and running natively (gcc -O2) ...");
      const exe = await buildNative(dir);
      measurements.push(await measureCommand("native x86-64 gcc -O2", exe, [], runs));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    notes.push("native MIPS = the guest's RV32 instruction count / native wall time");
  } else {
    notes.push(`native run skipped: ${HOST_CC} not found (Debian package gcc)`);
  }

  // The work measure: QEMU's exact count if we have it, else ours.
  const ours = measurements[0];
  const reference = qemuExact ?? ours;
  const work = guestInstret(reference.output);
  console.log("");
  if (work === undefined) {
    console.log(`FAIL ${reference.label} printed no instret line:\n${reference.output}`);
    return 1;
  }
  console.log(
    `work: ${work} RV32 instructions (instret printed by the guest on ${reference.label})`,
  );
  console.log(
    `${pad("machine", 26)}${padLeft("wall s", 9)}${padLeft("MIPS", 9)}${padLeft("vs ours", 10)}` +
      `  exit`,
  );
  for (const m of measurements) {
    const mips = work / m.seconds / 1e6;
    const ratio = ours.seconds / m.seconds;
    console.log(
      `${pad(m.label, 26)}${padLeft(m.seconds.toFixed(3), 9)}${padLeft(mips.toFixed(0), 9)}` +
        `${padLeft(`${ratio.toFixed(2)}x`, 10)}  ${m.exitCode}`,
    );
  }
  console.log("(vs ours: how many times faster than our machine; below 1 is slower)");
  for (const note of notes) console.log(`note: ${note}`);

  let ok = true;
  console.log("");
  const expected = checksums(reference.output);
  if (expected.size === 0) {
    console.log(`FAIL ${reference.label} printed no checksums`);
    ok = false;
  }
  for (const m of measurements) {
    const got = checksums(m.output);
    const same = got.size === expected.size &&
      [...expected].every(([part, value]) => got.get(part) === value);
    if (m.exitCode !== 0) {
      console.log(`FAIL ${m.label} exited with ${m.exitCode}`);
      ok = false;
    }
    if (!same) {
      console.log(`FAIL ${m.label} checksums differ: ${JSON.stringify(Object.fromEntries(got))}`);
      ok = false;
    }
  }
  if (ok) {
    console.log(
      `checksums: all ${measurements.length} runs agree (combined ${expected.get("combined")})`,
    );
  }

  const oursCount = guestInstret(ours.output);
  if (qemuExact) {
    const qemuCount = guestInstret(qemuExact.output);
    if (oursCount !== undefined && oursCount === qemuCount) {
      console.log(`instret exact: ours ${oursCount} == qemu -icount ${qemuCount}`);
    } else {
      console.log(`FAIL instret differs: ours ${oursCount} vs qemu -icount ${qemuCount}`);
      ok = false;
    }
  } else {
    console.log("instret exactness not checked: no QEMU");
  }
  console.log(
    `ours retired ${ours.machineInstructions} instructions in all ` +
      `(main's own count ${oursCount}; the rest is crt0 and the exit path)`,
  );
  return ok ? 0 : 1;
}

if (import.meta.main) {
  let runs: number;
  try {
    ({ runs } = parseArgs(Deno.args));
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(2);
  }
  Deno.exit(await main(runs));
}
