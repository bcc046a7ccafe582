/**
 * Network benchmark (`deno task bench:net`): frames/s and MB/s from one guest to another through
 * the whole path — guest tx ring → netback worker → frame queue → bridge worker (filters, MAC
 * learning) → frame queue → netback worker → guest rx buffers — with and without the filter chain,
 * measured in one run and reported as a ratio.
 *
 * The guests' side is played by TypeScript frontends writing the guests' rings in their domains'
 * memory (the PV kernel's netfront does not exist yet); the main thread drives both frontends and
 * the hypervisor's event loop, so the numbers include that thread's share. The sender keeps at
 * most a receive queue's worth of frames in flight (a transport's window), so frames are not
 * dropped at the bridge and the numbers measure the path.
 *
 * Also measured, in-thread (no workers, no rings): the bridge core alone moving frames between
 * two queues, with and without the chain — the filters' own cost.
 *
 * @module
 */

import {
  Bridge,
  buildFrame,
  createPortLink,
  FilterChain,
  type FilterSpec,
  IntrusionDetector,
  IPPROTO_UDP,
  NET_QUEUE_BYTES,
  PacketFilter,
  portSide,
} from "@paravirt/drivers";
import { Doorbell, WakeWord } from "@paravirt/events";
import { NetTestbed } from "@paravirt/tests";

const RULES = [
  "deny proto=tcp dport=23",
  "deny proto=udp dport=9",
  "deny src=192.168.0.0/16",
  "deny type=0x88b6",
  "deny proto=tcp dport=135-139",
  "deny proto=udp dport=161-162",
  "deny dst=10.0.9.0/24",
  "deny proto=tcp dport=445",
  "allow type=arp",
  "allow src=10.0.0.0/24",
];
const SIGNATURES = [
  { name: "passwd", pattern: "/etc/passwd" },
  { name: "shell", pattern: "/bin/sh -i" },
  { name: "nop-sled", hex: "90909090909090909090" },
  { name: "sql", pattern: "' OR 1=1 --" },
];
const FILTERS: FilterSpec[] = [
  { module: "packet-filter", options: { rules: RULES, defaultPolicy: "deny" } },
  { module: "intrusion-detector", options: { signatures: SIGNATURES } },
];

function chain(): FilterChain {
  return new FilterChain([
    new PacketFilter({ rules: RULES, defaultPolicy: "deny" }),
    new IntrusionDetector({ signatures: SIGNATURES }),
  ]);
}

interface Result {
  framesPerSecond: number;
  megabytesPerSecond: number;
  dropped: number;
}

function frameOf(size: number, src: number, dst: number): Uint8Array {
  const payload = new Uint8Array(size - 42);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  return buildFrame({
    dst,
    src,
    ipSrc: 0x0a000001,
    ipDst: 0x0a000002,
    proto: IPPROTO_UDP,
    srcPort: 5000,
    dstPort: 7,
    payload,
  });
}

/** Guest to guest through the workers: `count` frames of `size` bytes. */
async function guestToGuest(bed: NetTestbed, size: number, count: number): Promise<Result> {
  const [a, b] = bed.guests;
  const frame = frameOf(size, a.mac, b.mac);
  const dropsBefore = (await bed.bridge.metrics()).ports[1].dropsOut;
  b.front.received.length = 0;
  let sent = 0;
  let got = 0;
  let bytes = 0;
  const start = performance.now();
  let drops = 0;
  // Flow control, as a transport would: never more in flight than the receiver's queue holds,
  // so the measurement is of the path, not of drops at the bridge.
  const window = Math.min(256, Math.floor(NET_QUEUE_BYTES / (size + 8)) - 8);
  for (;;) {
    await bed.until(
      () => {
        while (sent < count && sent - got - drops < window && a.front.send(frame)) sent++;
        for (const f of b.front.received.splice(0)) {
          got++;
          bytes += f.length;
        }
        return got + drops >= count;
      },
      250,
      "frames",
      true,
    ).catch(() => {});
    if (got + drops >= count) break;
    if (performance.now() - start > 120_000) throw new Error(`Stuck at ${got} of ${count}`);
    drops = (await bed.bridge.metrics()).ports[1].dropsOut - dropsBefore;
  }
  const seconds = (performance.now() - start) / 1000;
  a.front.txStatuses.length = 0;
  return {
    framesPerSecond: got / seconds,
    megabytesPerSecond: bytes / seconds / 1e6,
    dropped: drops,
  };
}

/** The bridge core alone, in this thread: `count` frames of `size` bytes from one queue to another. */
function bridgeCore(filters: FilterChain | undefined, size: number, count: number): Result {
  const bell = { buffer: new Doorbell(new WakeWord()).buffer, slot: 0 };
  const bridge = new Bridge({ bell, filters });
  const links = [1, 2].map(() => createPortLink(bell, bell, { queueBytes: NET_QUEUE_BYTES }));
  bridge.attach("a", links[0]);
  bridge.attach("b", links[1]);
  const [a, b] = links.map(portSide);
  const frame = frameOf(size, 0x00163e000001, 0x00163e000002);
  // Teach the bridge where the destination lives, so frames are forwarded, not flooded.
  b.outbound.write(frameOf(size, 0x00163e000002, 0x00163e000001));
  b.outbound.publish();
  bridge.pump();
  const out = new Uint8Array(65535);
  while (a.inbound.read(out) >= 0);
  a.inbound.release();
  let moved = 0;
  const start = performance.now();
  while (moved < count) {
    for (let i = 0; i < 64 && a.outbound.write(frame); i++);
    a.outbound.publish();
    bridge.pump();
    for (let n = b.inbound.read(out); n >= 0; n = b.inbound.read(out)) moved++;
    b.inbound.release();
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    framesPerSecond: moved / seconds,
    megabytesPerSecond: (moved * size) / seconds / 1e6,
    dropped: 0,
  };
}

function best(runs: Result[]): Result {
  return runs.reduce((a, b) => (b.framesPerSecond > a.framesPerSecond ? b : a));
}

function line(label: string, r: Result): string {
  const drops = r.dropped ? `  (${r.dropped} dropped)` : "";
  return `  ${label.padEnd(34)} ${r.framesPerSecond.toFixed(0).padStart(9)} frames/s ${
    r.megabytesPerSecond.toFixed(1).padStart(8)
  } MB/s${drops}`;
}

console.log("Network: guest to guest through netback workers and the bridge worker");
console.log("(guests driven by TypeScript frontends: the PV kernel's netfront does not exist yet)");
const plain = await NetTestbed.create({ guests: 2 });
const filtered = await NetTestbed.create({ guests: 2, filters: FILTERS });
try {
  for (const [size, count] of [[64, 20_000], [1514, 20_000], [9000, 4_000]]) {
    // Warm up both, then alternate runs so both see the same machine.
    await guestToGuest(plain, size, count / 10);
    await guestToGuest(filtered, size, count / 10);
    const without: Result[] = [];
    const withChain: Result[] = [];
    for (let round = 0; round < 3; round++) {
      without.push(await guestToGuest(plain, size, count));
      withChain.push(await guestToGuest(filtered, size, count));
    }
    const a = best(without);
    const b = best(withChain);
    console.log(`${size}-byte frames (best of 3):`);
    console.log(line("without filters", a));
    console.log(line("with packet filter + detector", b));
    console.log(
      `  ratio with/without: ${(b.framesPerSecond / a.framesPerSecond).toFixed(2)}`,
    );
  }
  const ids = (await filtered.bridge.metrics()).filters;
  console.log(`  (filter chain inspected ${ids.inspected} frames, dropped ${ids.dropped})`);
} finally {
  await plain.close();
  await filtered.close();
}

console.log("\nBridge core alone (one thread, queue to queue, no rings or workers):");
for (const size of [64, 1514]) {
  const count = 200_000;
  bridgeCore(undefined, size, count / 10);
  bridgeCore(chain(), size, count / 10);
  const a = best([0, 1, 2].map(() => bridgeCore(undefined, size, count)));
  const b = best([0, 1, 2].map(() => bridgeCore(chain(), size, count)));
  console.log(`${size}-byte frames (best of 3):`);
  console.log(line("without filters", a));
  console.log(line("with packet filter + detector", b));
  console.log(`  ratio with/without: ${(b.framesPerSecond / a.framesPerSecond).toFixed(2)}`);
}
