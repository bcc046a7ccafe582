/**
 * `deno task difftest`: differential test of our RV32 hart against QEMU from the command line.
 *
 * ```
 * deno task difftest                          # seeds 0..1999, 100 per image
 * deno task difftest --first 5000 --count 300 # another range
 * deno task difftest --seed 1234              # replay one seed: mismatches only
 * deno task difftest --seed 1234 --verbose    # ... plus the stream listing, the first group after
 *                                             # which the machines disagree, and a scratch dump
 * deno task difftest --bisect                 # range run that also locates each mismatch
 * ```
 *
 * Other flags: `--batch N` seeds per image (a replay must use the batch size of the run it
 * replays), `--length N` instructions per stream, `--no-minstret`, `--no-ram-edge` (no misaligned
 * accesses straddling the end of RAM), `--no-quirks` (report QEMU's
 * known deviations too), `--ours-qemu CPU` (check the harness itself: put a second QEMU with this
 * `-cpu` value in our board's place, e.g. the default with `h=true`, which must show mismatches).
 * Exit code 1 when any seed mismatched.
 *
 * @module
 */

import { formatInstruction } from "@paravirt/cpu";
import { describeLocated, formatMismatch, type Mismatch } from "./compare.ts";
import { listStream, locate, type Stream } from "./generator.ts";
import { boardMachine } from "./our_machine.ts";
import { QemuMissingError, runQemu } from "./qemu.ts";
import {
  type BisectResult,
  bisectSeed,
  type DifftestOptions,
  type Machine,
  runBatch,
} from "./runner.ts";
import type { ParsedOutput, Signature } from "./signature.ts";

/** Parsed command-line flags of the `difftest` task. */
export interface CliFlags {
  /** Replay this seed instead of running a range. */
  readonly seed?: number;
  /** First seed of a range. */
  readonly first: number;
  /** Seeds in a range. */
  readonly count: number;
  /** Seeds per image. */
  readonly batch: number;
  /** Instructions per stream. */
  readonly length: number;
  /** Include minstret differences. */
  readonly minstret: boolean;
  /** Tolerate known QEMU deviations. */
  readonly quirks: boolean;
  /** Print listings and bisect. */
  readonly verbose: boolean;
  /** Bisect every mismatching seed of a range. */
  readonly bisect: boolean;
  /** Include misaligned accesses straddling the end of RAM. */
  readonly ramEdge: boolean;
  /** Run a second QEMU with this `-cpu` value instead of our board. */
  readonly oursQemu?: string;
}

/** Parses the task's arguments. */
export function parseFlags(args: readonly string[]): CliFlags {
  const numbers = new Map<string, number>();
  const switches = new Set<string>();
  let oursQemu: string | undefined;
  for (let k = 0; k < args.length; k++) {
    const arg = args[k];
    if (arg === "--ours-qemu") {
      oursQemu = args[++k];
      if (oursQemu === undefined) throw new RangeError("--ours-qemu needs a -cpu value");
    } else if (["--seed", "--first", "--count", "--batch", "--length"].includes(arg)) {
      const value = Number(args[++k]);
      if (!Number.isInteger(value) || value < 0) {
        throw new RangeError(`${arg} needs a non-negative integer, got "${args[k]}"`);
      }
      numbers.set(arg, value);
    } else if (
      ["--verbose", "--no-minstret", "--no-quirks", "--bisect", "--no-ram-edge"].includes(arg)
    ) {
      switches.add(arg);
    } else {
      throw new RangeError(`Unknown argument "${arg}"`);
    }
  }
  return {
    seed: numbers.get("--seed"),
    first: numbers.get("--first") ?? 0,
    count: numbers.get("--count") ?? 2000,
    batch: Math.max(1, numbers.get("--batch") ?? 100),
    length: numbers.get("--length") ?? 200,
    minstret: !switches.has("--no-minstret"),
    quirks: !switches.has("--no-quirks"),
    verbose: switches.has("--verbose"),
    bisect: switches.has("--bisect"),
    ramEdge: !switches.has("--no-ram-edge"),
    oursQemu,
  };
}

/** The command that replays `seed` with the given flags. */
export function replayCommand(seed: number, flags: Partial<CliFlags> = {}): string {
  const extra = [
    flags.batch !== undefined && flags.batch !== 100 ? `--batch ${flags.batch}` : "",
    flags.length !== undefined && flags.length !== 200 ? `--length ${flags.length}` : "",
    flags.minstret === false ? "--no-minstret" : "",
    flags.ramEdge === false ? "--no-ram-edge" : "",
  ].filter((text) => text !== "");
  return ["deno task difftest --seed", String(seed), ...extra, "--verbose"].join(" ");
}

function hex8(value: number | undefined): string {
  return value === undefined ? "--------" : (value >>> 0).toString(16).padStart(8, "0");
}

function signatureOf(output: ParsedOutput, seed: number): Signature | undefined {
  return output.signatures.find((sig) => sig.seed === seed);
}

/** Register-by-register view of what the culprit group did on each machine. */
function describeGroupEffect(result: BisectResult): string[] {
  const lines: string[] = [];
  const seed = result.seed;
  const after = result.after;
  if (after === undefined) return lines;
  const refAfter = signatureOf(after.reference, seed);
  const ourAfter = signatureOf(after.ours, seed);
  const refBefore = result.before === undefined
    ? undefined
    : signatureOf(result.before.reference, seed);
  const ourBefore = result.before === undefined ? undefined : signatureOf(result.before.ours, seed);
  lines.push("  register  before(both)  after(qemu)  after(ours)");
  for (let reg = 1; reg < 32; reg++) {
    const b = refBefore?.registers[reg];
    const q = refAfter?.registers[reg];
    const o = ourAfter?.registers[reg];
    if (q !== o || q !== b) {
      const mark = q !== o ? "   <-- differs" : "";
      lines.push(`  x${String(reg).padEnd(8)} ${hex8(b)}      ${hex8(q)}     ${hex8(o)}${mark}`);
    }
  }
  if (refAfter?.checksum !== ourAfter?.checksum || refBefore?.checksum !== refAfter?.checksum) {
    lines.push(
      `  scratch   ${hex8(refBefore?.checksum)}      ${hex8(refAfter?.checksum)}     ` +
        `${hex8(ourAfter?.checksum)}`,
    );
  }
  const newTraps = (sig: Signature | undefined, from: number) => sig?.traps.slice(from) ?? [];
  const start = Math.min(refBefore?.traps.length ?? 0, ourBefore?.traps.length ?? 0);
  for (const [name, sig] of [["qemu", refAfter], ["ours", ourAfter]] as const) {
    for (const trap of newTraps(sig, start)) {
      lines.push(
        `  trap (${name}): mcause=${hex8(trap.cause)} mtval=${hex8(trap.tval)} epc=+0x${
          trap.epc.toString(16)
        }`,
      );
    }
  }
  return lines;
}

/** Prints the bisect result of one seed. */
function printBisect(result: BisectResult, stream: Stream): void {
  if (result.group === undefined) {
    console.log(`  bisect: the full stream agrees (${result.runs} runs)`);
    return;
  }
  if (result.group < 0) {
    console.log(`  bisect: the machines already disagree before the first group (stream set-up)`);
    return;
  }
  const group = stream.groups[result.group];
  console.log(
    `  bisect: first disagreement after group g${result.group} (${group.kind}), ${result.runs} runs:`,
  );
  let offset = 0;
  for (let g = 0; g < result.group; g++) offset += stream.groups[g].insns.length * 4;
  for (const item of group.insns) {
    const located = locate(stream, offset);
    console.log(
      `    ${located === undefined ? formatInstruction(item.insn) : describeLocated(located)}`,
    );
    offset += 4;
  }
  for (const line of describeGroupEffect(result)) console.log(line);
}

function summarize(mismatches: readonly Mismatch[]): Map<number, Mismatch[]> {
  const bySeed = new Map<number, Mismatch[]>();
  for (const m of mismatches) bySeed.set(m.seed, [...(bySeed.get(m.seed) ?? []), m]);
  return bySeed;
}

async function replay(flags: CliFlags, options: DifftestOptions): Promise<number> {
  const seed = flags.seed ?? 0;
  const first = seed - (seed % flags.batch);
  const verbose = flags.verbose;
  const result = await runBatch(first, seed - first + 1, { ...options, dumpScratch: verbose });
  const stream = result.streams[result.streams.length - 1];
  const mine = result.comparison.mismatches.filter((m) => m.seed === seed || m.seed === -1);
  if (verbose) console.log(listStream(stream));
  for (const m of mine) console.log(formatMismatch(m));
  for (const [name, count] of result.comparison.tolerated) {
    console.log(`(tolerated ${count}× ${name})`);
  }
  if (mine.length === 0) {
    console.log(`seed ${seed}: ours and QEMU agree`);
    return 0;
  }
  if (verbose) printBisect(await bisectSeed(seed, options), stream);
  return 1;
}

async function range(flags: CliFlags, options: DifftestOptions): Promise<number> {
  const start = performance.now();
  const all: Mismatch[] = [];
  const tolerated = new Map<string, number>();
  let qemuMs = 0;
  let oursMs = 0;
  for (let first = flags.first; first < flags.first + flags.count; first += flags.batch) {
    const count = Math.min(flags.batch, flags.first + flags.count - first);
    const result = await runBatch(first, count, options);
    qemuMs += result.timings.reference;
    oursMs += result.timings.ours;
    all.push(...result.comparison.mismatches);
    for (const [name, n] of result.comparison.tolerated) {
      tolerated.set(name, (tolerated.get(name) ?? 0) + n);
    }
    if (flags.verbose) {
      console.log(
        `seeds ${first}..${first + count - 1}: ${result.comparison.mismatches.length} mismatches ` +
          `(qemu ${result.timings.reference.toFixed(0)} ms, ours ${
            result.timings.ours.toFixed(0)
          } ms)`,
      );
    }
  }
  const bySeed = summarize(all);
  for (const [seed, list] of bySeed) {
    for (const m of list) console.log(formatMismatch(m));
    if (seed >= 0) {
      console.log(`  replay: ${replayCommand(seed, flags)}`);
      if (flags.bisect) {
        const result = await bisectSeed(seed, options);
        printBisect(result, result.stream);
      }
    }
  }
  for (const [name, count] of tolerated) console.log(`(tolerated ${count}× ${name})`);
  const seconds = ((performance.now() - start) / 1000).toFixed(1);
  console.log(
    `${flags.count} seeds in ${seconds} s (qemu ${(qemuMs / 1000).toFixed(1)} s, ours ` +
      `${(oursMs / 1000).toFixed(1)} s): ${[...bySeed.keys()].filter((s) => s >= 0).length} ` +
      `mismatching seeds`,
  );
  return bySeed.size === 0 ? 0 : 1;
}

/** Runs the task with the given arguments; returns the process exit code. */
export async function main(args: readonly string[]): Promise<number> {
  const flags = parseFlags(args);
  const cpu = flags.oursQemu;
  const ours: Machine = cpu === undefined ? boardMachine() : async (image) => {
    const result = await runQemu(image, { cpu });
    return { output: result.output, exitCode: result.exitCode };
  };
  const options: DifftestOptions = {
    ours,
    stream: { length: flags.length, minstret: flags.minstret, ramEdge: flags.ramEdge },
    batchSize: flags.batch,
    compare: { quirks: flags.quirks },
  };
  try {
    return flags.seed !== undefined ? await replay(flags, options) : await range(flags, options);
  } catch (error) {
    if (error instanceof QemuMissingError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
