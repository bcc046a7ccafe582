/**
 * `deno task bench:hypervisor`: the hypervisor's measurements, each a ratio or share against a
 * reference taken in the same run.
 *
 * 1. Null hypercall round trip against a plain ecall from U-mode handled by the guest kernel
 *    (the trap cost with no hypervisor involved), both timed inside one guest.
 * 2. Event-channel ping-pong round trip between two guests.
 * 3. Domain create → first guest instruction, and → the guest's `main` (ms).
 * 4. How many idle guests (1 MiB each) can be created and reach `main` in 10 s.
 * 5. Scheduler fairness: three CPU-bound guests with weights 256/512/256 over 10 s (goal: within
 *    2 points of 25/50/25), and a guest capped at 20 % beside an uncapped one (goal: ≤ 20 %).
 * 6. PV overhead: the PV kernel's CPU-bound application (`app=primes`) as a PV guest against the
 *    same kernel and application binaries booted natively on the board (goal: within 3 %), timed
 *    by the application itself with the `time` CSR (10 MHz on both).
 *
 * Guests are the hypervisor's probe test kernel (`hypervisor/test_guests/`). Usage:
 * `deno task bench:hypervisor [--quick]` (`--quick` shortens 4 and 5 to 2 s each).
 *
 * @module
 */

import { type Domain, Hypervisor, probeGuest } from "@paravirt/hypervisor";
import { Board } from "@paravirt/board";
import { guestImagePath } from "@paravirt/guests";

const quick = Deno.args.includes("--quick");
const WINDOW_NS = (quick ? 2 : 10) * 1e9;
const kernel = await probeGuest();
const decoder = new TextDecoder();

function capture(domain: Domain): () => string {
  let text = "";
  domain.console.listen((bytes) => text += decoder.decode(bytes, { stream: true }));
  return () => text;
}

async function runUntil(hv: Hypervisor, done: () => boolean, limitMs = 60_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error("Benchmark guests did not finish");
    const result = hv.run(5e6);
    if (result.kind === "idle" && !done()) {
      const ms = Number.isFinite(result.until)
        ? Math.max(0, (result.until - hv.clock.now()) / 1e6)
        : 1;
      await new Promise((r) => setTimeout(r, Math.min(ms, 5)));
    }
  }
}

function field(text: string, pattern: RegExp): number {
  const match = text.match(pattern);
  if (!match) throw new Error(`Benchmark output lacks ${pattern}:\n${text}`);
  return Number(match[1]);
}

console.log("paravirt hypervisor benchmarks (probe guests)\n");

// 1. Null calls.
{
  const hv = new Hypervisor();
  const dom = hv.createDomain(
    { name: "nullcall", memoryMiB: 4, cmdline: "test=nullcall n=300000" },
    kernel,
  );
  const out = capture(dom);
  hv.unpause(dom);
  await runUntil(hv, () => dom.shutdownReason !== undefined);
  const hypercall = field(out(), /hypercall (\d+) ns/);
  const ecall = field(out(), /guest ecall (\d+) ns/);
  console.log(
    `null hypercall round trip   ${hypercall} ns   vs guest-handled ecall ${ecall} ns   ` +
      `ratio ${(hypercall / ecall).toFixed(2)}x`,
  );
}

// 2. Ping-pong.
{
  const hv = new Hypervisor();
  const ping = hv.allocateDomain({ name: "ping", memoryMiB: 4 });
  const pong = hv.allocateDomain({ name: "pong", memoryMiB: 4 });
  const a = ping.events.allocUnbound(pong.id);
  const b = pong.events.bindInterdomain(ping.id, a);
  hv.buildDomain(ping, kernel, { cmdline: `test=pingpong role=ping port=${a} rounds=20000` });
  hv.buildDomain(pong, kernel, { cmdline: `test=pingpong role=pong port=${b} rounds=20000` });
  const out = capture(ping);
  hv.unpause(pong);
  hv.unpause(ping);
  await runUntil(hv, () => ping.shutdownReason !== undefined && pong.shutdownReason !== undefined);
  const ns = field(out(), /(\d+) ns per round trip/);
  console.log(`event ping-pong round trip  ${(ns / 1000).toFixed(2)} µs (20000 rounds, 2 guests)`);
}

// 3 and 4. Creation latency and idle guests.
{
  const hv = new Hypervisor();
  const began = hv.clock.now();
  const created: { dom: Domain; at: number; out: () => string }[] = [];
  let firstInstruction = 0;
  let toMain = 0;
  while (hv.clock.now() - began < WINDOW_NS) {
    const at = hv.clock.now();
    let dom: Domain;
    try {
      dom = hv.createDomain(
        { name: `idle${created.length}`, memoryMiB: 1, cmdline: "test=idle" },
        kernel,
      );
    } catch (error) {
      console.log(`idle guests: creation stopped: ${(error as Error).message}`);
      break;
    }
    const out = capture(dom);
    hv.unpause(dom);
    created.push({ dom, at, out });
    await runUntil(hv, () => out().includes("main at"));
    if (created.length === 1) {
      firstInstruction = (dom.firstRunAt - at) / 1e6;
      toMain = (field(out(), /main at (\d+) us/) * 1000 - at) / 1e6;
    }
  }
  const seconds = (hv.clock.now() - began) / 1e9;
  console.log(
    `domain create → first instruction ${firstInstruction.toFixed(2)} ms, → main ${
      toMain.toFixed(2)
    } ms`,
  );
  console.log(
    `idle guests booted to main in ${seconds.toFixed(1)} s: ${created.length} ` +
      `(${(created.length / seconds).toFixed(0)}/s, 1 MiB each, all still alive)`,
  );
}

// 5. Fairness and caps.
async function shares(
  configs: { name: string; weight?: number; cap?: number }[],
): Promise<number[]> {
  const hv = new Hypervisor();
  const doms = configs.map((c) =>
    hv.createDomain({ ...c, memoryMiB: 4, cmdline: "test=spin n=2000000000" }, kernel)
  );
  for (const dom of doms) hv.unpause(dom);
  const start = hv.clock.now();
  const cpu0 = doms.map((d) => d.vcpus[0].cpuTime(start));
  await runUntil(hv, () => hv.clock.now() - start >= WINDOW_NS, WINDOW_NS / 1e6 + 10_000);
  const end = hv.clock.now();
  const used = doms.map((d, i) => d.vcpus[0].cpuTime(end) - cpu0[i]);
  const total = end - start;
  return used.map((u) => (100 * u) / total);
}

{
  const weighted = await shares([
    { name: "w256a" },
    { name: "w512", weight: 512 },
    { name: "w256b" },
  ]);
  const expected = [25, 50, 25];
  const worst = Math.max(...weighted.map((s, i) => Math.abs(s - expected[i])));
  console.log(
    `fairness 256/512/256 over ${WINDOW_NS / 1e9} s: ${
      weighted.map((s) => s.toFixed(1)).join(" / ")
    } %  (worst deviation ${worst.toFixed(1)} points; goal ≤ 2)`,
  );
  const capped = await shares([{ name: "capped", cap: 20 }, { name: "free" }]);
  console.log(
    `cap 20 beside an uncapped guest: ${capped[0].toFixed(2)} % (goal ≤ 20), the other ${
      capped[1].toFixed(1)
    } %`,
  );
  const alone = await shares([{ name: "alone", cap: 20 }]);
  console.log(`cap 20 alone on an idle CPU: ${alone[0].toFixed(2)} % (goal ≤ 20)`);
}

// 6. PV overhead.
{
  const pvkernel = await Deno.readFile(guestImagePath("pvkernel"));
  const cmdline = `app=primes n=${quick ? 300000 : 1000000}`;
  const ticks = (text: string) => field(text, /primes: n=\d+ count=\d+ ticks=(\d+)/);
  const runs = quick ? 1 : 3;
  let native = Infinity;
  let pv = Infinity;
  for (let i = 0; i < runs; i++) {
    const board = new Board({ clock: "realtime" });
    let text = "";
    board.onOutput = (bytes) => text += decoder.decode(bytes, { stream: true });
    board.loadKernel(pvkernel, { cmdline });
    await board.run({ maxInstructions: 4e9 });
    native = Math.min(native, ticks(text));
    const hv = new Hypervisor();
    const dom = hv.createDomain({ name: "primes", memoryMiB: 16, cmdline }, pvkernel);
    const out = capture(dom);
    hv.unpause(dom);
    await runUntil(hv, () => dom.shutdownReason !== undefined, 120_000);
    pv = Math.min(pv, ticks(out()));
  }
  console.log(
    `PV overhead (${cmdline}, best of ${runs}): native ${(native / 1e4).toFixed(1)} ms, PV ${
      (pv / 1e4).toFixed(1)
    } ms, PV/native ${(pv / native).toFixed(3)} (goal ≤ 1.03)`,
  );
}
