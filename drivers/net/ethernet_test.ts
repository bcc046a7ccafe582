import assert from "node:assert/strict";
import {
  buildFrame,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  formatIpv4,
  formatMac,
  FrameInfo,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  isGroupMac,
  MAC_BROADCAST,
  parseIpv4,
  parseMac,
  readMac,
  TCP_SYN,
  writeMac,
} from "./ethernet.ts";

Deno.test("ethernet: MAC and IPv4 text round trips; bad text is refused", () => {
  const mac = parseMac("00:16:3e:a1:b2:c3");
  assert.equal(mac, 0x00163ea1b2c3);
  assert.equal(formatMac(mac), "00:16:3e:a1:b2:c3");
  assert.equal(parseMac("FF-FF-FF-FF-FF-FF"), MAC_BROADCAST);
  const bytes = new Uint8Array(8);
  writeMac(bytes, 1, 0xfedcba987654);
  assert.equal(readMac(bytes, 1), 0xfedcba987654);
  assert.ok(isGroupMac(MAC_BROADCAST));
  assert.ok(isGroupMac(0x01005e000001));
  assert.ok(!isGroupMac(mac));
  for (const bad of ["", "00:16:3e:a1:b2", "00:16:3e:a1:b2:c3:d4", "zz:16:3e:a1:b2:c3"]) {
    assert.throws(() => parseMac(bad), RangeError);
  }
  assert.equal(parseIpv4("10.0.0.255"), 0x0a0000ff);
  assert.equal(formatIpv4(0xc0a80101), "192.168.1.1");
  for (const bad of ["10.0.0", "10.0.0.256", "1.2.3.04", "a.b.c.d", "1.2.3.4.5"]) {
    assert.throws(() => parseIpv4(bad), RangeError);
  }
});

Deno.test("ethernet: parses Ethernet, VLAN, IPv4 and TCP/UDP/ICMP headers", () => {
  const info = new FrameInfo();
  const a = 0x00163e000001;
  const b = 0x00163e000002;
  const udp = buildFrame({
    dst: b,
    src: a,
    ipSrc: 0x0a000001,
    ipDst: 0x0a000002,
    proto: IPPROTO_UDP,
    srcPort: 1234,
    dstPort: 53,
    payload: new Uint8Array([1, 2, 3]),
  });
  assert.ok(info.parse(udp));
  assert.equal(info.dst, b);
  assert.equal(info.src, a);
  assert.equal(info.ethertype, ETHERTYPE_IPV4);
  assert.equal(info.ipProto, IPPROTO_UDP);
  assert.equal(info.ipSrc, 0x0a000001);
  assert.equal(info.srcPort, 1234);
  assert.equal(info.dstPort, 53);
  assert.equal(info.payloadOffset, 14 + 20 + 8);
  const tcp = buildFrame({ dst: b, src: a, ipSrc: 1, ipDst: 2, proto: IPPROTO_TCP, dstPort: 22 });
  info.parse(tcp);
  assert.equal(info.tcpFlags, TCP_SYN);
  assert.equal(info.payloadOffset, 14 + 20 + 20);
  const icmp = buildFrame({ dst: b, src: a, ipSrc: 1, ipDst: 2, proto: IPPROTO_ICMP });
  icmp[34] = 8;
  info.parse(icmp);
  assert.equal(info.icmpType, 8);
  assert.equal(info.dstPort, -1);
  // An 802.1Q tag in front of ARP.
  const arp = buildFrame({ dst: MAC_BROADCAST, src: a, ethertype: ETHERTYPE_ARP });
  const tagged = new Uint8Array(arp.length + 4);
  tagged.set(arp.subarray(0, 12));
  tagged.set([0x81, 0x00, 0x00, 0x2a], 12);
  tagged.set(arp.subarray(12), 16);
  info.parse(tagged);
  assert.equal(info.vlan, 42);
  assert.equal(info.ethertype, ETHERTYPE_ARP);
  assert.equal(info.l3Offset, 18);
});

Deno.test("ethernet: truncated and bogus headers leave deeper fields unset", () => {
  const info = new FrameInfo();
  assert.equal(info.parse(new Uint8Array(13)), false);
  assert.equal(info.ethertype, -1);
  const tcp = buildFrame({ dst: 2, src: 1, ipSrc: 1, ipDst: 2, proto: IPPROTO_TCP, dstPort: 80 });
  info.parse(tcp, 14 + 20 + 10); // TCP header cut short
  assert.equal(info.ipProto, IPPROTO_TCP);
  assert.equal(info.dstPort, -1);
  info.parse(tcp, 14 + 19); // IP header cut short
  assert.equal(info.ipSrc, -1);
  const badIhl = tcp.slice();
  badIhl[14] = 0x44; // IHL 16 bytes: invalid
  info.parse(badIhl);
  assert.equal(info.ipProto, -1);
  const fragment = tcp.slice();
  fragment[21] = 1; // offset 8 bytes: not the first fragment
  info.parse(fragment);
  assert.ok(info.ipFragment);
  assert.equal(info.dstPort, -1, "a later fragment has no ports");
  // A length larger than the frame is clamped to the frame.
  info.parse(tcp, 10_000);
  assert.equal(info.length, tcp.length);
});
