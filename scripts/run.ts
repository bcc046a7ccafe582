/**
 * `deno task run`, the showcase: several PV guests at once on the paravirtualizing hypervisor.
 *
 * The hypervisor runs in a pCPU worker (no permissions); this thread is domain 0. It boots the PV
 * kernel (`guests/bin/pvkernel.elf`) seven times with different applications — hello, two
 * CPU-bound prime counts with credit-scheduler weights 256 and 512, a pair playing ping-pong over
 * an interdomain event channel, the memory exerciser, and a hostile guest that attacks a prime
 * counter — prints every console line prefixed with its domain, shows an `xl list` table while
 * they run and at the end, checks what each guest reported, and exits 0 only if all is as it
 * should be.
 *
 * @module
 */

import { Pcpu } from "@paravirt/hypervisor";
import type { DomainConfig, DomainSummary } from "@paravirt/hypervisor";
import { guestImagePath } from "@paravirt/guests";
import { dom0CpuTimeNs, formatList, SHUTDOWN_NAMES } from "@paravirt/dom0";
import { SHUTDOWN_poweroff } from "@paravirt/public";

/** The longest the showcase may take before it gives up. */
const DEADLINE_MS = 60_000;
/** How often the `xl list` table is printed while guests run. */
const TABLE_EVERY_MS = 1_500;
/** The prime counters' bound, and the count they must find (pi(2 * 10^6)). */
const PRIMES_N = 2_000_000;
const PRIMES_COUNT = "148933";

const started = performance.now();
const encoder = new TextEncoder();
const write = (text: string) => {
  const bytes = encoder.encode(text);
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
};
const say = (text: string) => write(`[run] ${text}\n`);

const kernelPath = guestImagePath("pvkernel");
const kernel = await Deno.readFile(kernelPath);
const pcpu = new Pcpu();
await pcpu.ready;

// ---- Consoles: whole lines, prefixed with the domain -----------------------------------------

const names = new Map<number, string>();
const partial = new Map<number, string>();
const output = new Map<number, string>();
const decoder = new TextDecoder();
pcpu.onConsole((domid, bytes) => {
  const text = decoder.decode(bytes);
  output.set(domid, (output.get(domid) ?? "") + text);
  const lines = ((partial.get(domid) ?? "") + text).split("\n");
  partial.set(domid, lines.pop()!);
  const prefix = `[d${domid} ${names.get(domid) ?? "?"}]`;
  write(lines.map((line) => `${prefix} ${line}\n`).join(""));
});
const shutdowns = new Map<number, number>();
let shutdownSeen: () => void = () => {};
let shares: DomainSummary[] | undefined;
pcpu.onShutdown((domid, name, reason) => {
  if (name === "primes-w512") pcpu.list().then((list) => shares = list);
  const rest = partial.get(domid);
  if (rest) write(`[d${domid} ${name}] ${rest}\n`);
  partial.delete(domid);
  shutdowns.set(domid, reason);
  say(`d${domid} ${name} shut down: ${SHUTDOWN_NAMES[reason] ?? reason}`);
  shutdownSeen();
});

// ---- The guests ---------------------------------------------------------------------------

const guests: DomainSummary[] = [];
const config = (name: string, extra: Partial<DomainConfig> = {}): DomainConfig => ({
  name,
  memoryMiB: 8,
  ...extra,
});
async function create(name: string, cmdline: string, extra: Partial<DomainConfig> = {}) {
  const domain = await pcpu.create(config(name, { cmdline, ...extra }), kernel, { paused: true });
  names.set(domain.id, name);
  guests.push(domain);
  return domain;
}

say(`booting 7 PV guests from ${kernelPath} on one pCPU (the hypervisor in a worker)`);
const hello = await create("hello", "app=hello");
const primes = await create("primes", `app=primes n=${PRIMES_N}`);
const heavy = await create("primes-w512", `app=primes n=${PRIMES_N}`, { weight: 512 });
say(`primes and primes-w512 do the same work; the credit scheduler gives weight 512 twice the CPU`);
const memtest = await create("memtest", "app=memtest pages=64 rounds=3", { maxMemoryMiB: 9 });

// The ping-pong pair: both domains exist before either boots, so dom0 can wire their channel.
const ping = await pcpu.allocate(config("ping"));
const pong = await pcpu.allocate(config("pong"));
const [pingPort, pongPort] = await pcpu.bindInterdomain(ping.id, pong.id);
say(`event channel: d${ping.id} port ${pingPort} <-> d${pong.id} port ${pongPort}`);
for (const [domain, role, port] of [[ping, "ping", pingPort], [pong, "pong", pongPort]] as const) {
  await pcpu.build(domain.id, kernel, {
    cmdline: `app=pingpong role=${role} port=${port} rounds=2000`,
  });
  names.set(domain.id, role);
  guests.push(domain);
}

// The hostile guest attacks the prime counter's memory and ports.
const victim = await pcpu.foreignView(primes.id);
const victimMfn = victim.firstFrame + 3;
const hostile = await create(
  "hostile",
  `app=hostile victim_mfn=0x${victimMfn.toString(16)} victim_dom=${primes.id}`,
);

for (const domain of guests) await pcpu.unpause(domain.id);
say(`all running after ${((performance.now() - started) / 1000).toFixed(2)} s`);

// ---- Wait, with a table now and then ------------------------------------------------------

// Domain 0 is this process: its memory, and its CPU time not charged to a guest.
const dom0 = async () => ({
  pid: Deno.pid,
  socket: "",
  startedAt: Date.now(),
  rssBytes: Deno.memoryUsage().rss,
  cpuTimeNs: dom0CpuTimeNs((await pcpu.info()).guestCpuTimeNs),
});
const table = async (title: string) => {
  const text = formatList(await pcpu.list(), await dom0());
  write(`\n[run] ${title}\n${text}\n`);
};

let nextTable = performance.now() + 1_000;
while (shutdowns.size < guests.length) {
  if (performance.now() - started > DEADLINE_MS) {
    say(`giving up after ${DEADLINE_MS / 1000} s`);
    await table("xl list");
    pcpu.close();
    Deno.exit(1);
  }
  if (performance.now() >= nextTable) {
    await table("xl list");
    nextTable = performance.now() + TABLE_EVERY_MS;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 100);
    shutdownSeen = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}
await table("xl list, all guests shut down");

// ---- What the guests said -----------------------------------------------------------------

const problems: string[] = [];
const text = (domain: DomainSummary) => output.get(domain.id) ?? "";
for (const domain of guests) {
  const reason = shutdowns.get(domain.id);
  if (reason !== SHUTDOWN_poweroff) {
    problems.push(`${domain.name} shut down with ${SHUTDOWN_NAMES[reason!] ?? reason}`);
  }
}
for (const domain of [primes, heavy]) {
  const line = new RegExp(`primes: n=${PRIMES_N} count=(\\d+)`).exec(text(domain));
  if (line?.[1] !== PRIMES_COUNT) {
    problems.push(`${domain.name} did not find ${PRIMES_COUNT} primes`);
  }
}
const rtt = /rtt_avg_ns=(\d+)/.exec(text(ping));
const sums = [ping, pong].map((d) =>
  /app pingpong: done checksum=(0x[0-9a-f]+)/.exec(text(d))?.[1]
);
if (!rtt || !sums[0] || sums[0] !== sums[1]) problems.push("ping-pong did not complete");
if (!/app memtest: done/.test(text(memtest))) problems.push("memtest did not finish");
if (!/app hello: done/.test(text(hello))) problems.push("hello did not finish");
const summary = /hostile: summary attempts=(\d+) ok=(\d+) denied=(\d+) failed=(\d+)/.exec(
  text(hostile),
);
if (!summary || summary[4] !== "0") problems.push("an attack of the hostile guest succeeded");

const info = await pcpu.info();
for (const domain of guests) await pcpu.destroy(domain.id);
pcpu.close();
const seconds = (performance.now() - started) / 1000;
say(
  `${guests.length} guests, ${(info.instructions / 1e6).toFixed(0)} M instructions, ` +
    `${info.hypercalls} hypercalls in ${seconds.toFixed(1)} s`,
);
const share = (name: string) => (shares?.find((d) => d.name === name)?.cpuTimeNs ?? 0) / 1e9;
if (shares) {
  say(
    `credit scheduler: when primes-w512 finished it had ${share("primes-w512").toFixed(2)} s of ` +
      `CPU, primes ${share("primes").toFixed(2)} s (ratio ${
        (share("primes-w512") / share("primes")).toFixed(2)
      }; weights 512:256)`,
  );
}
if (rtt) {
  say(
    `ping-pong: ${
      (Number(rtt[1]) / 1000).toFixed(1)
    } µs per round trip between d${ping.id} and d${pong.id}`,
  );
}
if (summary) {
  say(
    `hostile: ${
      summary[1]
    } attacks on d${primes.id}, every one refused; d${primes.id} still counted right`,
  );
}
if (problems.length > 0) {
  for (const problem of problems) say(`PROBLEM: ${problem}`);
  Deno.exit(1);
}
say("all guests did what they should; every domain destroyed");
