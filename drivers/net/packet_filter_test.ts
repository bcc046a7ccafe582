import assert from "node:assert/strict";
import {
  buildFrame,
  ETHERTYPE_ARP,
  FrameInfo,
  IPPROTO_TCP,
  IPPROTO_UDP,
  MAC_BROADCAST,
  parseIpv4,
} from "./ethernet.ts";
import { FILTER_DROP, FILTER_PASS, type FilterPacket } from "./filter.ts";
import { filterConformance } from "./filter_conformance.ts";
import { createPacketFilter, PacketFilter, parseRule } from "./packet_filter.ts";

const A = 0x00163e000001;
const B = 0x00163e000002;

function verdict(filter: PacketFilter, frame: Uint8Array, inPort = "vif1.0"): number {
  const info = new FrameInfo();
  info.parse(frame);
  const packet: FilterPacket = { bytes: frame, info, inPort, now: 0 };
  return filter.inspect(packet);
}

const udp = (dstPort: number, src = "10.0.0.1", dst = "10.0.0.2") =>
  buildFrame({
    dst: B,
    src: A,
    ipSrc: parseIpv4(src),
    ipDst: parseIpv4(dst),
    proto: IPPROTO_UDP,
    srcPort: 4000,
    dstPort,
  });

filterConformance("packet-filter", () =>
  createPacketFilter({
    rules: [
      "deny proto=udp dport=9",
      "allow type=arp",
      "deny src=10.0.0.0/24 proto=tcp dport=20-23",
      { action: "deny", srcMac: "00:16:3e:00:00:01", ethertype: 0x88b5 },
    ],
    defaultPolicy: "allow",
  }));

filterConformance(
  "packet-filter (default deny)",
  () => createPacketFilter({ rules: ["allow type=ipv4 proto=tcp"], defaultPolicy: "deny" }),
);

Deno.test("packet filter: first match wins; the default policy decides the rest", () => {
  const filter = new PacketFilter({
    rules: ["allow proto=udp dport=9 src=10.0.0.5", "deny proto=udp dport=9", "allow type=arp"],
    defaultPolicy: "deny",
  });
  assert.equal(verdict(filter, udp(9, "10.0.0.5")), FILTER_PASS, "the earlier allow wins");
  assert.equal(verdict(filter, udp(9)), FILTER_DROP);
  assert.equal(
    verdict(filter, buildFrame({ dst: MAC_BROADCAST, src: A, ethertype: ETHERTYPE_ARP })),
    FILTER_PASS,
  );
  assert.equal(verdict(filter, udp(10)), FILTER_DROP, "default deny");
  const m = filter.metrics();
  assert.deepEqual(
    [m["rule.0"], m["rule.1"], m["rule.2"], m.allowed, m.denied, m.defaulted],
    [1, 1, 1, 2, 2, 1],
  );
});

Deno.test("packet filter: every match key", () => {
  const check = (rule: string, frame: Uint8Array, expected: number, inPort = "vif1.0") => {
    const filter = new PacketFilter({ rules: [rule] });
    assert.equal(verdict(filter, frame, inPort), expected, `${rule}`);
  };
  const tcp = buildFrame({
    dst: B,
    src: A,
    ipSrc: parseIpv4("192.168.7.9"),
    ipDst: parseIpv4("10.1.2.3"),
    proto: IPPROTO_TCP,
    srcPort: 5555,
    dstPort: 443,
  });
  check("deny in=vif1.0", tcp, FILTER_DROP);
  check("deny in=vif2.0", tcp, FILTER_PASS);
  check("deny src-mac=00:16:3e:00:00:01", tcp, FILTER_DROP);
  check("deny dst-mac=00:16:3e:00:00:01", tcp, FILTER_PASS);
  check("deny type=ipv4", tcp, FILTER_DROP);
  check("deny type=0x0806", tcp, FILTER_PASS);
  check("deny src=192.168.0.0/16", tcp, FILTER_DROP);
  check("deny src=192.168.8.0/24", tcp, FILTER_PASS);
  check("deny dst=10.1.2.3", tcp, FILTER_DROP);
  check("deny dst=0.0.0.0/0", tcp, FILTER_DROP);
  check("deny proto=tcp", tcp, FILTER_DROP);
  check("deny proto=17", tcp, FILTER_PASS);
  check("deny sport=5000-6000", tcp, FILTER_DROP);
  check("deny dport=443", tcp, FILTER_DROP);
  check("deny dport=1-442", tcp, FILTER_PASS);
  check("deny vlan=5", tcp, FILTER_PASS);
  // IP rules never match non-IP frames; port rules never match frames without ports.
  const arp = buildFrame({ dst: MAC_BROADCAST, src: A, ethertype: ETHERTYPE_ARP });
  check("deny dst=0.0.0.0/0", arp, FILTER_PASS);
  check("deny proto=tcp", arp, FILTER_PASS);
  const fragment = tcp.slice();
  fragment[21] = 1;
  check("deny dport=443", fragment, FILTER_PASS);
  check("deny proto=tcp", fragment, FILTER_DROP);
});

Deno.test("packet filter: bad rules and options are refused with the culprit quoted", () => {
  const bad = [
    "",
    "drop proto=tcp",
    "deny proto=tcpx",
    "deny dport=70000",
    "deny dport=9-1",
    "deny src=10.0.0.1/33",
    "deny src=10.0.0",
    "deny src-mac=00:11",
    "deny colour=red",
    "deny proto",
    "deny proto=tcp proto=udp",
    "deny type=0x10000",
  ];
  for (const rule of bad) {
    assert.throws(() => new PacketFilter({ rules: [rule] }), (e: Error) => {
      assert.ok(e instanceof RangeError || e instanceof TypeError, `${rule}: ${e}`);
      return true;
    });
  }
  assert.throws(() => new PacketFilter({ rules: ["deny colour=red"] }), /colour=red/);
  assert.throws(
    () => new PacketFilter({ rules: [{ action: "deny", dstPort: [9, 1] }] }),
    RangeError,
  );
  assert.throws(
    () => new PacketFilter({ rules: [{ action: "deny", colour: 1 } as never] }),
    /unknown field "colour"/,
  );
  assert.throws(() => new PacketFilter({ defaultPolicy: "maybe" as never }), RangeError);
  assert.throws(() => createPacketFilter({ rules: "deny" }), TypeError);
  assert.deepEqual(parseRule("allow  in=vif3.1   dport=80-81 "), {
    action: "allow",
    inPort: "vif3.1",
    dstPort: [80, 81],
  });
});
