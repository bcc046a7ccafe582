/**
 * Runs the differential test: builds an image for a batch of seeds, runs it on the reference (QEMU)
 * and on our machine concurrently, and compares the signatures. Also narrows a mismatching seed
 * down to the first group of instructions after which the two machines disagree.
 *
 * Batches are aligned: seed `s` always runs in the batch starting at `s - s % batchSize`, right after
 * the seeds before it in that batch, so its code sits at the same address in CI and in a replay
 * (values such as `auipc` results and link addresses depend on it).
 *
 * @module
 */

import { type CompareOptions, compareOutputs, type Comparison, type Mismatch } from "./compare.ts";
import { generateStream, type Stream, type StreamOptions, truncateStream } from "./generator.ts";
import { buildImage } from "./image.ts";
import { runQemu } from "./qemu.ts";
import { type ParsedOutput, parseOutput } from "./signature.ts";

/** What a machine returns for an image: its console output and exit code. */
export interface MachineRun {
  /** Everything printed on the UART. */
  readonly output: string;
  /** 0 when the image passed through the test device. */
  readonly exitCode: number;
}

/** A machine that runs a difftest image. */
export type Machine = (image: Uint8Array) => Promise<MachineRun>;

/** QEMU as a {@link Machine}; throws `QemuMissingError` when QEMU is not installed. */
export async function qemuMachine(image: Uint8Array): Promise<MachineRun> {
  const result = await runQemu(image);
  if (result.timedOut) throw new Error("QEMU timed out running a difftest image");
  return { output: result.output, exitCode: result.exitCode };
}

/** Options shared by {@link runBatch} and {@link bisectSeed}. */
export interface DifftestOptions {
  /** Our machine. */
  readonly ours: Machine;
  /** The reference; default {@link qemuMachine}. */
  readonly reference?: Machine;
  /** How streams are generated (must match between a run and its replay). */
  readonly stream?: StreamOptions;
  /** Seeds per image; default 100. */
  readonly batchSize?: number;
  /** Print the whole scratch area in signatures. */
  readonly dumpScratch?: boolean;
  /** Comparison options (quirks). */
  readonly compare?: Omit<CompareOptions, "streams">;
}

/** The result of one batch. */
export interface BatchResult {
  /** The seeds run, in order. */
  readonly seeds: readonly number[];
  /** Their streams. */
  readonly streams: readonly Stream[];
  /** Parsed reference output. */
  readonly reference: ParsedOutput;
  /** Parsed output of our machine. */
  readonly ours: ParsedOutput;
  /** Exit codes, reference and ours. */
  readonly exitCodes: readonly [number, number];
  /** Differences found. */
  readonly comparison: Comparison;
  /** Milliseconds spent: building, in the reference, in our machine (both run concurrently). */
  readonly timings: { readonly build: number; readonly reference: number; readonly ours: number };
}

/** The first seed of the aligned batch that holds `seed`. */
export function batchStart(seed: number, batchSize = 100): number {
  return seed - (seed % batchSize);
}

async function timed(machine: Machine, image: Uint8Array): Promise<[MachineRun, number]> {
  const start = performance.now();
  const run = await machine(image);
  return [run, performance.now() - start];
}

/** Runs the streams of `seeds` (in this order, in one image) on both machines and compares them. */
export async function runStreams(
  streams: readonly Stream[],
  options: DifftestOptions,
): Promise<BatchResult> {
  const buildStart = performance.now();
  const { elf, bodies } = buildImage(streams, { dumpScratch: options.dumpScratch });
  const build = performance.now() - buildStart;
  const [[referenceRun, referenceMs], [oursRun, oursMs]] = await Promise.all([
    timed(options.reference ?? qemuMachine, elf),
    timed(options.ours, elf),
  ]);
  const reference = parseOutput(referenceRun.output);
  const ours = parseOutput(oursRun.output);
  const compared = compareOutputs(reference, ours, { ...options.compare, streams, bodies });
  const exit: Mismatch[] = oursRun.exitCode === referenceRun.exitCode ? [] : [{
    seed: -1,
    what: "exit code",
    ours: String(oursRun.exitCode),
    reference: String(referenceRun.exitCode),
  }];
  const comparison = { ...compared, mismatches: [...compared.mismatches, ...exit] };
  return {
    seeds: streams.map((stream) => stream.seed),
    streams,
    reference,
    ours,
    exitCodes: [referenceRun.exitCode, oursRun.exitCode],
    comparison,
    timings: { build, reference: referenceMs, ours: oursMs },
  };
}

/** Generates and runs `count` seeds starting at `first` as one image. */
export function runBatch(
  first: number,
  count: number,
  options: DifftestOptions,
): Promise<BatchResult> {
  const streams = Array.from(
    { length: count },
    (_, k) => generateStream(first + k, options.stream),
  );
  return runStreams(streams, options);
}

/** Where a seed's two runs first disagree. */
export interface BisectResult {
  /** The seed. */
  readonly seed: number;
  /**
   * Index of the first group after which the machines disagree, or -1 when they already disagree
   * with no group at all (the stream set-up), or undefined when the full stream agrees.
   */
  readonly group: number | undefined;
  /** The stream (full length). */
  readonly stream: Stream;
  /** Mismatches of the stream cut right after the culprit group. */
  readonly mismatches: readonly Mismatch[];
  /** Both machines' signatures with the stream cut before the culprit group, then right after it. */
  readonly before?: { readonly reference: ParsedOutput; readonly ours: ParsedOutput };
  /** See {@link BisectResult.before}. */
  readonly after?: { readonly reference: ParsedOutput; readonly ours: ParsedOutput };
  /** Images run while bisecting. */
  readonly runs: number;
}

/**
 * Finds the first group of `seed`'s stream after which our machine and the reference disagree, by
 * binary search over truncated copies of the stream (placed where the stream sits in its batch).
 */
export async function bisectSeed(seed: number, options: DifftestOptions): Promise<BisectResult> {
  const batchSize = options.batchSize ?? 100;
  const first = batchStart(seed, batchSize);
  const before = Array.from(
    { length: seed - first },
    (_, k) => generateStream(first + k, options.stream),
  );
  const stream = generateStream(seed, options.stream);
  let runs = 0;
  const cache = new Map<number, BatchResult>();
  const attempt = async (groups: number): Promise<BatchResult> => {
    const known = cache.get(groups);
    if (known !== undefined) return known;
    runs++;
    const result = await runStreams([...before, truncateStream(stream, groups)], options);
    cache.set(groups, result);
    return result;
  };
  const differs = (result: BatchResult): Mismatch[] =>
    result.comparison.mismatches.filter((m) => m.seed === seed || m.seed === -1);
  const full = stream.groups.length;
  if (differs(await attempt(full)).length === 0) {
    return { seed, group: undefined, stream, mismatches: [], runs };
  }
  // Invariant: the stream cut after `good` groups agrees (or good = -1), cut after `bad` disagrees.
  let good = -1;
  let bad = full;
  if (differs(await attempt(0)).length > 0) bad = 0;
  else good = 0;
  while (bad - good > 1) {
    const middle = (good + bad) >>> 1;
    if (differs(await attempt(middle)).length > 0) bad = middle;
    else good = middle;
  }
  const after = await attempt(bad);
  const prior = good >= 0 ? await attempt(good) : undefined;
  const view = (r: BatchResult) => ({ reference: r.reference, ours: r.ours });
  return {
    seed,
    group: bad - 1,
    stream,
    mismatches: differs(after),
    before: prior === undefined ? undefined : view(prior),
    after: view(after),
    runs,
  };
}
