/**
 * Helpers for the PV kernel's end-to-end tests: boot `guests/bin/pvkernel.elf` natively on the
 * board under its SBI firmware, or as PV guests under the hypervisor, and collect the console;
 * plus independent TypeScript computations of what the applications must print.
 *
 * Rules of use: native boots use the instruction clock (reproducible); PV boots run the
 * hypervisor until every given domain has shut down, with a wall-clock guard.
 *
 * @module
 */

import { Board, type RunOutcome } from "@paravirt/board";
import { type Domain, Hypervisor } from "@paravirt/hypervisor";
import { guestImagePath } from "@paravirt/guests";

/** The kernel image under test. */
export async function pvKernel(): Promise<Uint8Array> {
  return await Deno.readFile(guestImagePath("pvkernel"));
}

/** The result of a native boot. */
export interface NativeRun {
  /** Everything printed on the console (the SBI console). */
  output: string;
  /** "pass" for an SRST shutdown, "fail" for one with the failure reason. */
  outcome: RunOutcome;
  /** Instructions retired. */
  instructions: number;
}

/** Options of {@link bootNative}. */
export interface NativeOptions {
  /** Stop after this many instructions (default 400 M). */
  maxInstructions?: number;
  /** Changes RAM after the kernel and device tree are loaded, before it starts. */
  patch?: (board: Board, fdtAddress: number) => void;
}

/** Boots the kernel on the board with `cmdline` as /chosen/bootargs. */
export async function bootNative(cmdline: string, options: NativeOptions = {}): Promise<NativeRun> {
  const board = new Board({ clock: "instructions" });
  const chunks: Uint8Array[] = [];
  board.onOutput = (bytes) => chunks.push(bytes.slice());
  const layout = board.loadKernel(await pvKernel(), { cmdline });
  options.patch?.(board, layout.fdtAddress);
  const result = await board.run({ maxInstructions: options.maxInstructions ?? 400e6 });
  const decoder = new TextDecoder();
  const output = chunks.map((c) => decoder.decode(c, { stream: true })).join("");
  return { output, outcome: result.outcome, instructions: result.instructions };
}

/** A PV domain being run, and its console so far. */
export interface PvGuest {
  /** The domain. */
  domain: Domain;
  /** Console output decoded so far. */
  output(): string;
}

/** Collects a domain's console. */
export function watch(domain: Domain): PvGuest {
  const decoder = new TextDecoder();
  let text = "";
  domain.console.listen((bytes) => text += decoder.decode(bytes, { stream: true }));
  return { domain, output: () => text };
}

/** Creates (paused) a PV domain running the kernel with `cmdline`. */
export async function createPv(
  hv: Hypervisor,
  name: string,
  cmdline: string,
  memory: { memoryMiB?: number; maxMemoryMiB?: number } = {},
): Promise<PvGuest> {
  const domain = hv.createDomain(
    { name, memoryMiB: memory.memoryMiB ?? 8, maxMemoryMiB: memory.maxMemoryMiB, cmdline },
    await pvKernel(),
  );
  return watch(domain);
}

/** Runs `hv` until every domain in `guests` has shut down; throws after `timeoutMs`. */
export async function runToShutdown(
  hv: Hypervisor,
  guests: readonly PvGuest[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const done = () => guests.every((g) => g.domain.shutdownReason !== undefined);
  while (!done()) {
    if (performance.now() > deadline) {
      throw new Error(
        `Timed out; consoles so far:\n${guests.map((g) => g.output()).join("\n---\n")}`,
      );
    }
    const result = hv.run(5e6);
    if (result.kind === "idle" && !done()) {
      const waitMs = Number.isFinite(result.until)
        ? Math.min(5, Math.max(0, (result.until - hv.clock.now()) / 1e6))
        : 1;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** Boots one PV guest to shutdown; returns its console and shutdown reason. */
export async function bootPv(
  cmdline: string,
  memory: { memoryMiB?: number; maxMemoryMiB?: number } = {},
): Promise<{ output: string; reason: number | undefined }> {
  const hv = new Hypervisor();
  const guest = await createPv(hv, "pv", cmdline, memory);
  hv.unpause(guest.domain);
  await runToShutdown(hv, [guest]);
  return { output: guest.output(), reason: guest.domain.shutdownReason };
}

const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;

function fnv(hash: number, value: number): number {
  return Math.imul((hash ^ value) >>> 0, FNV_PRIME) >>> 0;
}

function hex(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, "0")}`;
}

/** The closing line `hello` must print (FNV-1a of its greeting). */
export function expectedHello(): string {
  let hash = FNV_OFFSET;
  for (const ch of new TextEncoder().encode("hello from a U-mode application")) {
    hash = fnv(hash, ch);
  }
  return `app hello: done checksum=${hex(hash)}`;
}

/** The lines `primes n=<n>` must print: the count and the closing line. */
export function expectedPrimes(n: number): { count: number; line: string } {
  const sieve = new Uint8Array(n);
  let count = 0;
  let hash = FNV_OFFSET;
  for (let k = 2; k < n; k++) {
    if (sieve[k]) continue;
    count++;
    hash = fnv(hash, k);
    for (let m = k * k; m < n; m += k) sieve[m] = 1;
  }
  return { count, line: `app primes: done checksum=${hex(hash ^ count)}` };
}

/** The closing line of `memtest pages=<pages> rounds=<rounds>` (FNV-1a of every pattern word). */
export function expectedMemtest(pages: number, rounds: number): string {
  const base = 0x4000_0000;
  let hash = FNV_OFFSET;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < pages * 1024; i++) {
      let x = ((base + 4 * i) ^ Math.imul(r, 0x9e3779b9)) >>> 0;
      x = (x ^ (x >>> 15)) >>> 0;
      x = Math.imul(x, 0x2c1b3c6d) >>> 0;
      x = (x ^ (x >>> 12)) >>> 0;
      hash = fnv(hash, x);
    }
  }
  return `app memtest: done checksum=${hex(hash)}`;
}
