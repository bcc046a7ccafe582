/**
 * The conformance suite every bridge filter must pass (as Hono's routers share one suite). Call
 * it from the filter's test file with a factory making a fresh filter configured to exercise
 * its logic: `filterConformance("packet-filter", () => createPacketFilter({ rules: [...] }))`.
 *
 * It checks the contract of `filter.ts`: a verdict is `FILTER_PASS` or `FILTER_DROP`; hostile
 * frames (empty, runts, bogus IP headers, truncated transport headers, VLAN stacks, 64 KiB of
 * noise) never make it throw; it never writes to the frame; verdicts depend only on the frames
 * seen (two fresh filters fed the same traffic agree frame for frame); metrics are plain finite
 * numbers; alerts, if offered, are handed over once.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  buildFrame,
  ETHERTYPE_ARP,
  ETHERTYPE_VLAN,
  FrameInfo,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  MAC_BROADCAST,
} from "./ethernet.ts";
import { FILTER_DROP, FILTER_PASS, type FilterPacket, type NetFilter } from "./filter.ts";

/** A deterministic generator (xorshift32) so failures reproduce. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Frames the suite feeds every filter: ordinary traffic and hostile shapes. */
export function conformanceFrames(seed = 7): Uint8Array[] {
  const next = random(seed);
  const a = 0x00163e000001;
  const b = 0x00163e000002;
  const ip = (n: number) => (0x0a000000 | n) >>> 0;
  const frames: Uint8Array[] = [
    new Uint8Array(0),
    new Uint8Array(1),
    new Uint8Array(13).fill(0xff),
    buildFrame({ dst: MAC_BROADCAST, src: a, ethertype: ETHERTYPE_ARP }),
    buildFrame({ dst: b, src: a, ipSrc: ip(1), ipDst: ip(2), proto: IPPROTO_UDP, dstPort: 53 }),
    buildFrame({ dst: b, src: a, ipSrc: ip(1), ipDst: ip(2), proto: IPPROTO_TCP, dstPort: 22 }),
    buildFrame({ dst: b, src: a, ipSrc: ip(1), ipDst: ip(2), proto: IPPROTO_ICMP }),
    buildFrame({
      dst: b,
      src: a,
      ipSrc: ip(1),
      ipDst: ip(2),
      dstPort: 80,
      payload: new TextEncoder().encode("GET /etc/passwd HTTP/1.0\r\n"),
    }),
  ];
  // Truncated IPv4 and transport headers, bogus IHL and lengths, a fragment.
  const tcp = buildFrame({ dst: b, src: a, ipSrc: ip(3), ipDst: ip(4), proto: IPPROTO_TCP });
  for (let cut = 14; cut < tcp.length; cut += 3) frames.push(tcp.slice(0, cut));
  const badIhl = tcp.slice();
  badIhl[14] = 0x4f; // IHL 60 bytes: beyond the frame
  frames.push(badIhl);
  const zeroIhl = tcp.slice();
  zeroIhl[14] = 0x40;
  frames.push(zeroIhl);
  const hugeLength = tcp.slice();
  hugeLength[16] = 0xff;
  hugeLength[17] = 0xff;
  frames.push(hugeLength);
  const fragment = tcp.slice();
  fragment[20] = 0x00;
  fragment[21] = 0x10; // fragment offset 16 (×8)
  frames.push(fragment);
  const badDataOffset = tcp.slice();
  badDataOffset[14 + 20 + 12] = 0xf0;
  frames.push(badDataOffset);
  // Stacked VLAN tags, some cut short.
  const vlan = new Uint8Array(30);
  vlan.set(tcp.subarray(0, 12));
  for (let at = 12; at + 2 <= vlan.length; at += 4) {
    vlan[at] = ETHERTYPE_VLAN >>> 8;
    vlan[at + 1] = ETHERTYPE_VLAN & 0xff;
  }
  frames.push(vlan, vlan.slice(0, 16), vlan.slice(0, 18));
  // Noise: small, typical and the largest frames.
  for (const size of [14, 60, 64, 1514, 9000, 65535]) {
    const noise = new Uint8Array(size);
    for (let i = 0; i < size; i++) noise[i] = next() & 0xff;
    frames.push(noise);
    const ipNoise = noise.slice();
    if (size >= 34) {
      ipNoise[12] = 0x08;
      ipNoise[13] = 0x00;
      ipNoise[14] = 0x45;
    }
    frames.push(ipNoise);
  }
  // A burst of SYNs to many ports (a scan) and of UDP, for stateful filters.
  for (let port = 1; port <= 64; port++) {
    frames.push(
      buildFrame({ dst: b, src: a, ipSrc: ip(9), ipDst: ip(2), proto: IPPROTO_TCP, dstPort: port }),
    );
  }
  return frames;
}

/** Runs `frames` through `filter` as the bridge would; returns the verdicts. */
export function runFrames(
  filter: NetFilter,
  frames: readonly Uint8Array[],
  inPort = "vif1.0",
): number[] {
  const info = new FrameInfo();
  const packet: FilterPacket = { bytes: new Uint8Array(0), info, inPort, now: 0 };
  const verdicts: number[] = [];
  frames.forEach((frame, i) => {
    info.parse(frame, frame.length);
    packet.bytes = frame;
    packet.now = 1000 + i;
    verdicts.push(filter.inspect(packet));
  });
  return verdicts;
}

/** Registers the conformance tests for the filters made by `create`. */
export function filterConformance(
  name: string,
  create: () => NetFilter | Promise<NetFilter>,
): void {
  Deno.test(`${name} conformance: a name, and verdicts that are pass or drop`, async () => {
    const filter = await create();
    assert.equal(typeof filter.name, "string");
    assert.ok(filter.name.length > 0);
    for (const verdict of runFrames(filter, conformanceFrames())) {
      assert.ok(verdict === FILTER_PASS || verdict === FILTER_DROP, `verdict ${verdict}`);
    }
  });

  Deno.test(`${name} conformance: hostile frames never throw and are never written`, async () => {
    const filter = await create();
    for (let seed = 1; seed <= 3; seed++) {
      const frames = conformanceFrames(seed);
      const copies = frames.map((f) => f.slice());
      runFrames(filter, frames, `port${seed}`);
      frames.forEach((frame, i) => assert.deepEqual(frame, copies[i], `frame ${i} was modified`));
    }
  });

  Deno.test(`${name} conformance: verdicts depend only on the traffic`, async () => {
    const frames = conformanceFrames(11);
    const first = runFrames(await create(), frames);
    const second = runFrames(await create(), frames);
    assert.deepEqual(first, second);
  });

  Deno.test(`${name} conformance: metrics are plain numbers; alerts go out once`, async () => {
    const filter = await create();
    runFrames(filter, conformanceFrames());
    const metrics = filter.metrics();
    assert.equal(typeof metrics, "object");
    for (const [key, value] of Object.entries(metrics)) {
      assert.ok(typeof value === "number" && Number.isFinite(value), `metric ${key} = ${value}`);
    }
    assert.deepEqual(JSON.parse(JSON.stringify(metrics)), metrics);
    if (filter.takeAlerts) {
      const alerts = filter.takeAlerts();
      assert.ok(Array.isArray(alerts));
      for (const alert of alerts) {
        for (const key of ["filter", "rule", "inPort", "src", "dst", "detail"] as const) {
          assert.equal(typeof alert[key], "string", `alert.${key}`);
        }
        assert.equal(typeof alert.time, "number");
      }
      assert.deepEqual(filter.takeAlerts(), []);
    }
  });
}
