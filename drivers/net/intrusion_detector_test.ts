import assert from "node:assert/strict";
import {
  buildFrame,
  FrameInfo,
  IPPROTO_TCP,
  IPPROTO_UDP,
  parseIpv4,
  TCP_ACK,
  TCP_SYN,
} from "./ethernet.ts";
import { FILTER_PASS, type FilterPacket } from "./filter.ts";
import { filterConformance } from "./filter_conformance.ts";
import { createIntrusionDetector, IntrusionDetector } from "./intrusion_detector.ts";

const A = 0x00163e000001;
const B = 0x00163e000002;
const text = new TextEncoder();

function feed(ids: IntrusionDetector, frame: Uint8Array, now = 0): number {
  const info = new FrameInfo();
  info.parse(frame);
  const packet: FilterPacket = { bytes: frame, info, inPort: "vif1.0", now };
  return ids.inspect(packet);
}

filterConformance("intrusion-detector", () =>
  createIntrusionDetector({
    signatures: [
      { name: "passwd", pattern: "/etc/passwd" },
      { name: "nop-sled", hex: "90 90 90 90" },
      { name: "ssh-banner", pattern: "SSH-", proto: "tcp", dstPort: 22 },
    ],
    portScan: { threshold: 10, windowMs: 1000 },
    maxAlerts: 16,
  }));

Deno.test("intrusion detector: signatures flag and count, never drop", () => {
  const ids = new IntrusionDetector({
    signatures: [
      { name: "passwd", pattern: "/etc/passwd" },
      { name: "shellcode", hex: "deadbeef" },
      { name: "dns-only", pattern: "evil", proto: "udp", dstPort: 53 },
    ],
    portScan: false,
  });
  const frame = (payload: string | Uint8Array, dstPort = 80) =>
    buildFrame({
      dst: B,
      src: A,
      ipSrc: parseIpv4("10.0.0.1"),
      ipDst: parseIpv4("10.0.0.2"),
      proto: IPPROTO_UDP,
      dstPort,
      payload: typeof payload === "string" ? text.encode(payload) : payload,
    });
  assert.equal(feed(ids, frame("GET /etc/passwd")), FILTER_PASS);
  assert.equal(feed(ids, frame("GET /etc/passw")), FILTER_PASS);
  feed(ids, frame(new Uint8Array([1, 0xde, 0xad, 0xbe, 0xef, 2])));
  feed(ids, frame(new Uint8Array([0xde, 0xad, 0xbe]))); // cut short
  feed(ids, frame("evil", 53));
  feed(ids, frame("evil", 54));
  feed(ids, frame("/etc/passwd and evil", 53));
  const m = ids.metrics();
  assert.equal(m["sig.passwd"], 2);
  assert.equal(m["sig.shellcode"], 1);
  assert.equal(m["sig.dns-only"], 2);
  assert.equal(m.flagged, 4);
  assert.equal(m.inspected, 7);
  const alerts = ids.takeAlerts();
  assert.equal(alerts.length, 5);
  assert.equal(alerts[0].rule, "passwd");
  assert.equal(alerts[0].src, "10.0.0.1");
  assert.equal(alerts[0].inPort, "vif1.0");
  assert.deepEqual(ids.takeAlerts(), []);
});

Deno.test("intrusion detector: a port scan is flagged once per window", () => {
  const ids = new IntrusionDetector({ portScan: { threshold: 5, windowMs: 1000 } });
  const syn = (src: string, dstPort: number, flags = TCP_SYN) =>
    buildFrame({
      dst: B,
      src: A,
      ipSrc: parseIpv4(src),
      ipDst: parseIpv4("10.0.0.2"),
      proto: IPPROTO_TCP,
      dstPort,
      tcpFlags: flags,
    });
  // Repeated connections to the same port are not a scan; nor is established traffic.
  for (let i = 0; i < 20; i++) feed(ids, syn("10.0.0.7", 80), i);
  for (let p = 1; p <= 20; p++) feed(ids, syn("10.0.0.8", p, TCP_SYN | TCP_ACK), p);
  assert.equal(ids.metrics().portScans, 0);
  for (let p = 1; p <= 12; p++) feed(ids, syn("10.0.0.9", p), 100 + p);
  assert.equal(ids.metrics().portScans, 1, "once per window");
  for (let p = 1; p <= 5; p++) feed(ids, syn("10.0.0.9", p), 2000 + p);
  assert.equal(ids.metrics().portScans, 2, "again in the next window");
  const alerts = ids.takeAlerts();
  assert.equal(alerts.length, 2);
  assert.match(alerts[0].detail, /10\.0\.0\.9 probed 5 ports/);
});

Deno.test("intrusion detector: memory stays bounded under a flood of sources and alerts", () => {
  const ids = new IntrusionDetector({
    signatures: [{ name: "x", pattern: "x" }],
    portScan: { threshold: 3, windowMs: 1000, maxSources: 10 },
    maxAlerts: 4,
  });
  for (let n = 0; n < 100; n++) {
    feed(
      ids,
      buildFrame({
        dst: B,
        src: A,
        ipSrc: 0x0a000000 + n,
        ipDst: 1,
        proto: IPPROTO_UDP,
        dstPort: 1,
        payload: text.encode("x"),
      }),
      n,
    );
  }
  const m = ids.metrics();
  assert.equal(m.sources, 10);
  assert.equal(m.untracked, 90);
  assert.equal(m.alertsDropped, 96);
  assert.equal(ids.takeAlerts().length, 4);
  assert.throws(() => new IntrusionDetector({ signatures: [{ name: "a" }] }), TypeError);
  assert.throws(
    () => new IntrusionDetector({ signatures: [{ name: "a", hex: "zz" }] }),
    RangeError,
  );
  assert.throws(
    () => new IntrusionDetector({ signatures: [{ name: "a", pattern: "" }] }),
    RangeError,
  );
  assert.throws(() => new IntrusionDetector({ portScan: { threshold: 0 } }), RangeError);
});
