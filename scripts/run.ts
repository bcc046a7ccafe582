/**
 * `deno task run`, the showcase: several PV guests at once on the paravirtualizing hypervisor,
 * with split drivers.
 *
 * The hypervisor runs in a pCPU worker (no permissions); this thread is domain 0 (xenstored, the
 * device supervisor). It boots the PV kernel (`guests/bin/pvkernel.elf`) ten times with different
 * applications — hello, two CPU-bound prime counts with credit-scheduler weights 256 and 512, a
 * pair playing ping-pong over an interdomain event channel, the memory exerciser, a hostile guest
 * that attacks a prime counter, a guest running the disk test on a temporary image file through a
 * block backend worker (its console on the console ring, served by a console backend worker), and
 * a pair exchanging frames through netback workers and a bridge worker whose packet filter blocks
 * one flow — prints every console line prefixed with its domain, shows an `xl list` table while
 * they run and at the end, checks what each guest reported (and the image, and the filter's
 * counters), and exits 0 only if all is as it should be.
 *
 * Permissions (the task's): read of the repository, write of `.cache/` (the image file, removed
 * at the end). The backend workers get less: the block worker the image alone, the others nothing.
 *
 * @module
 */

import { Pcpu } from "@paravirt/hypervisor";
import type { DomainConfig, DomainSummary } from "@paravirt/hypervisor";
import { guestImagePath } from "@paravirt/guests";
import {
  type ConsoleDevice,
  DeviceSupervisor,
  dom0CpuTimeNs,
  formatList,
  registerDomain,
  SHUTDOWN_NAMES,
  Xenstored,
  type XenstoreDomain,
} from "@paravirt/dom0";
import { SHUTDOWN_poweroff } from "@paravirt/public";

/** The longest the showcase may take before it gives up. */
const DEADLINE_MS = 60_000;
/** How often the `xl list` table is printed while guests run. */
const TABLE_EVERY_MS = 1_500;
/** The prime counters' bound, and the count they must find (pi(2 * 10^6)). */
const PRIMES_N = 2_000_000;
const PRIMES_COUNT = "148933";
/** The disk guest's image (sectors of 512 bytes) and its pattern's seed. */
const DISK_SECTORS = 2048;
const DISK_SEED = 11;
/** The network pair's addresses, and the frames the pinger sends to the blocked port. */
const MAC_A = "00:16:3e:00:02:0a";
const MAC_B = "00:16:3e:00:02:0b";
const BLOCKED = 5;

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
const xenstored = new Xenstored();
const devices = new DeviceSupervisor({ control: pcpu, xenstored });
const homes: XenstoreDomain[] = [];
await Deno.mkdir(".cache", { recursive: true });
const scratch = await Deno.makeTempDir({ dir: ".cache", prefix: "run-" });
const image = `${Deno.realPathSync(scratch)}/disk.img`;
await Deno.writeFile(image, new Uint8Array(DISK_SECTORS * 512));

// ---- Consoles: whole lines, prefixed with the domain -----------------------------------------

const names = new Map<number, string>();
const partial = new Map<number, string>();
const output = new Map<number, string>();
const decoder = new TextDecoder();
const show = (domid: number, bytes: Uint8Array) => {
  const text = decoder.decode(bytes);
  output.set(domid, (output.get(domid) ?? "") + text);
  const lines = ((partial.get(domid) ?? "") + text).split("\n");
  partial.set(domid, lines.pop()!);
  const prefix = `[d${domid} ${names.get(domid) ?? "?"}]`;
  write(lines.map((line) => `${prefix} ${line}\n`).join(""));
};
pcpu.onConsole(show);
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

say(`booting 10 PV guests from ${kernelPath} on one pCPU (the hypervisor in a worker)`);
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

// Split drivers: each guest gets its xenstore home and ring, then its devices, before it runs.
const consoles: ConsoleDevice[] = [];
async function withDevices(domain: DomainSummary, name: string) {
  homes.push(await registerDomain(xenstored, pcpu, domain.id, name));
  const console = await devices.attachConsole(domain.id);
  consoles.push(console);
  // The guest's last console_io bytes may still be in the pCPU's batch when its first ring bytes
  // arrive: a call to the pCPU (answered after the output it had) keeps them in order.
  let queue = Promise.resolve();
  let synced = false;
  console.output.listen((bytes) =>
    queue = queue.then(async () => {
      if (!synced) await pcpu.list();
      synced = true;
      show(domain.id, bytes);
    })
  );
  return console;
}
const disk = await create("disk", `app=disktest seed=${DISK_SEED} console=auto`, {
  maxMemoryMiB: 12,
});
await withDevices(disk, "disk");
await devices.attachDisk(disk.id, `format=raw, vdev=xvda, access=rw, target=${image}`);
say(`disk: a block backend worker may read and write ${image} and nothing else`);
const netA = await create(
  "net-a",
  `app=nettest role=ping peer=${MAC_B} rounds=200 blocked=${BLOCKED}`,
  { maxMemoryMiB: 12 },
);
const netB = await create("net-b", "app=nettest role=pong rounds=200", { maxMemoryMiB: 12 });
await withDevices(netA, "net-a");
await withDevices(netB, "net-b");
const rules = `${scratch}/lab.rules`;
await Deno.writeTextFile(rules, "deny proto=udp dport=9\n");
await devices.attachVif(netA.id, `mac=${MAC_A}, bridge=lab, filter=${rules}`);
await devices.attachVif(netB.id, `mac=${MAC_B}, bridge=lab`);
say(
  `net: vif${netA.id}.0 and vif${netB.id}.0 on bridge lab, whose packet filter says: deny proto=udp dport=9`,
);

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
  images: [],
  modules: [],
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
    await devices.close();
    pcpu.close();
    await Deno.remove(scratch, { recursive: true });
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
for (const console of consoles) await console.drain(); // what the rings still held
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

// The disk test's checksum and the image itself, against the pattern computed here.
const pattern = (sector: number, word: number) => {
  let x = (Math.imul(sector, 0x9e3779b1) ^ Math.imul(word, 0xc2b2ae3d) ^
    Math.imul(DISK_SEED, 0x27d4eb2f)) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x2c1b3c6d) >>> 0;
  return (x ^ (x >>> 12)) >>> 0;
};
let diskSum = 0;
let badSectors = 0;
const bytes = new DataView((await Deno.readFile(image)).buffer);
for (let s = 0; s < DISK_SECTORS; s++) {
  diskSum = (diskSum + Math.imul((pattern(s, 0) ^ s) >>> 0, 16777619)) >>> 0;
  for (let w = 0; w < 128; w++) {
    if (bytes.getUint32(s * 512 + w * 4, true) !== pattern(s, w)) {
      badSectors++;
      break;
    }
  }
}
const diskLine = new RegExp(
  `app disktest: done checksum=0x${diskSum.toString(16).padStart(8, "0")}`,
);
if (!diskLine.test(text(disk))) {
  problems.push("the disk test did not finish with the right checksum");
}
if (badSectors > 0) problems.push(`${badSectors} sector(s) of the image do not hold the pattern`);
if (!/console: on the ring/.test(text(disk))) {
  problems.push("the disk guest's console is not the ring");
}
const diskSpeed = /disktest: verified sectors=\d+ chunk=\d+ qd=\d+ mbps=([0-9.]+)/.exec(text(disk));

// The network pair: the pings answered, the blocked flow dropped by the bridge, never delivered.
const netRtt = /nettest: ping rounds=\d+ size=\d+ rtt_avg_ns=(\d+)/.exec(text(netA));
const netSums = [netA, netB].map((d) =>
  /app nettest: done checksum=(0x[0-9a-f]+)/.exec(text(d))?.[1]
);
if (!netRtt || !netSums[0] || netSums[0] !== netSums[1]) {
  problems.push("the network pair did not finish");
}
if (!/blocked_seen=0/.test(text(netB))) problems.push("a blocked frame reached net-b");
const lab = await devices.bridgeMetrics("lab");
const denied = lab.filters.filters["packet-filter"]?.["rule.0"];
if (denied !== BLOCKED) {
  problems.push(`the bridge's filter dropped ${denied} frames, not ${BLOCKED}`);
}

const info = await pcpu.info();
for (const domain of guests) await pcpu.destroy(domain.id);
await devices.close();
for (const home of homes) await home.close();
pcpu.close();
await Deno.remove(scratch, { recursive: true });
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
if (diskSpeed) {
  say(
    `disk: ${DISK_SECTORS} sectors written, read back and verified at ${diskSpeed[1]} MB/s ` +
      `through the block backend worker; the image holds the pattern (${badSectors} bad sectors)`,
  );
}
if (netRtt) {
  say(
    `net: ${(Number(netRtt[1]) / 1000).toFixed(0)} µs per ping through two netbacks and the ` +
      `bridge; ${denied} frames to udp port 9 dropped by the filter, none delivered`,
  );
}
if (problems.length > 0) {
  for (const problem of problems) say(`PROBLEM: ${problem}`);
  Deno.exit(1);
}
say("all guests did what they should; every domain destroyed");
