/**
 * Ethernet frames as the bridge and its filters see them: MAC addresses as numbers, and
 * {@link FrameInfo}, the parsed headers of one frame (Ethernet with up to two VLAN tags, IPv4, and
 * the TCP/UDP/ICMP header after it).
 *
 * Rules of use: a frame is untrusted bytes. {@link FrameInfo.parse} never throws and never reads
 * past the frame's length; a header that does not fit or does not make sense leaves the deeper
 * fields unset (`-1`), so a rule about ports simply does not match a truncated or fragmented
 * packet. One `FrameInfo` is reused for every frame (no allocation per frame); copy what you
 * need to keep.
 *
 * @module
 */

import { ETH_HLEN } from "./params.ts";

/** Ethertype of IPv4. */
export const ETHERTYPE_IPV4 = 0x0800;
/** Ethertype of ARP. */
export const ETHERTYPE_ARP = 0x0806;
/** Ethertype of an 802.1Q VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** Ethertype of an 802.1ad (QinQ) service tag. */
export const ETHERTYPE_QINQ = 0x88a8;
/** IP protocol number of ICMP. */
export const IPPROTO_ICMP = 1;
/** IP protocol number of TCP. */
export const IPPROTO_TCP = 6;
/** IP protocol number of UDP. */
export const IPPROTO_UDP = 17;
/** TCP flag SYN. */
export const TCP_SYN = 0x02;
/** TCP flag ACK. */
export const TCP_ACK = 0x10;

/** The broadcast MAC address as a number. */
export const MAC_BROADCAST = 0xffff_ffff_ffff;

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated) into a 48-bit number. Throws a RangeError. */
export function parseMac(text: string): number {
  if (typeof text !== "string" || !/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(text)) {
    throw new RangeError(`MAC address ${JSON.stringify(text)} is not six hex bytes`);
  }
  return parseInt(text.replace(/[:-]/g, ""), 16);
}

/** Formats a 48-bit MAC number as `aa:bb:cc:dd:ee:ff`. */
export function formatMac(mac: number): string {
  const hex = mac.toString(16).padStart(12, "0");
  return hex.match(/../g)!.join(":");
}

/** Reads the 48-bit MAC address at `offset` of `bytes`. */
export function readMac(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] * 2 ** 40) + (bytes[offset + 1] * 2 ** 32) +
    ((bytes[offset + 2] << 24) >>> 0) + (bytes[offset + 3] << 16) + (bytes[offset + 4] << 8) +
    bytes[offset + 5];
}

/** Writes a 48-bit MAC number at `offset` of `bytes`. */
export function writeMac(bytes: Uint8Array, offset: number, mac: number): void {
  const hi = Math.floor(mac / 2 ** 32);
  const lo = mac >>> 0;
  bytes[offset] = hi >>> 8;
  bytes[offset + 1] = hi & 0xff;
  bytes[offset + 2] = lo >>> 24;
  bytes[offset + 3] = (lo >>> 16) & 0xff;
  bytes[offset + 4] = (lo >>> 8) & 0xff;
  bytes[offset + 5] = lo & 0xff;
}

/** Whether a MAC number is a group (multicast or broadcast) address: the I/G bit. */
export function isGroupMac(mac: number): boolean {
  return (Math.floor(mac / 2 ** 40) & 1) === 1;
}

/** Parses a dotted IPv4 address into an unsigned 32-bit number. Throws a RangeError. */
export function parseIpv4(text: string): number {
  const parts = typeof text === "string" ? text.split(".") : [];
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || +p > 255)) {
    throw new RangeError(`IPv4 address ${JSON.stringify(text)} is not four numbers 0-255`);
  }
  return ((+parts[0] << 24) | (+parts[1] << 16) | (+parts[2] << 8) | +parts[3]) >>> 0;
}

/** Formats an unsigned 32-bit IPv4 address. */
export function formatIpv4(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** The parsed headers of one frame. Fields a frame does not have are -1. */
export class FrameInfo {
  /** Bytes in the frame. */
  length: number = 0;
  /** Destination MAC (48-bit number). */
  dst: number = 0;
  /** Source MAC. */
  src: number = 0;
  /** Ethertype after any VLAN tags (-1 for a runt). */
  ethertype: number = -1;
  /** Innermost VLAN id, or -1. */
  vlan: number = -1;
  /** Offset of the layer-3 header. */
  l3Offset: number = -1;
  /** IPv4 source address (unsigned), or -1. */
  ipSrc: number = -1;
  /** IPv4 destination address, or -1. */
  ipDst: number = -1;
  /** IP protocol, or -1. */
  ipProto: number = -1;
  /** Whether the IPv4 packet is a fragment other than the first (no transport header). */
  ipFragment: boolean = false;
  /** Offset of the transport header, or -1. */
  l4Offset: number = -1;
  /** TCP/UDP source port, or -1. */
  srcPort: number = -1;
  /** TCP/UDP destination port, or -1. */
  dstPort: number = -1;
  /** TCP flags, or -1. */
  tcpFlags: number = -1;
  /** ICMP type, or -1. */
  icmpType: number = -1;
  /** Offset of the innermost payload the headers above describe (the whole frame's end if none). */
  payloadOffset: number = -1;

  /**
   * Parses the first `length` bytes of `frame`. Returns false for a runt (shorter than an
   * Ethernet header); never throws.
   */
  parse(frame: Uint8Array, length: number = frame.length): boolean {
    if (length > frame.length) length = frame.length;
    this.length = length;
    this.vlan = -1;
    this.l3Offset = -1;
    this.ipSrc = -1;
    this.ipDst = -1;
    this.ipProto = -1;
    this.ipFragment = false;
    this.l4Offset = -1;
    this.srcPort = -1;
    this.dstPort = -1;
    this.tcpFlags = -1;
    this.icmpType = -1;
    this.payloadOffset = length;
    if (length < ETH_HLEN) {
      this.dst = length >= 6 ? readMac(frame, 0) : 0;
      this.src = 0;
      this.ethertype = -1;
      return false;
    }
    this.dst = readMac(frame, 0);
    this.src = readMac(frame, 6);
    let at = 12;
    let type = (frame[at] << 8) | frame[at + 1];
    for (let tags = 0; tags < 2; tags++) {
      if ((type !== ETHERTYPE_VLAN && type !== ETHERTYPE_QINQ) || at + 6 > length) break;
      this.vlan = ((frame[at + 2] << 8) | frame[at + 3]) & 0x0fff;
      at += 4;
      type = (frame[at] << 8) | frame[at + 1];
    }
    this.ethertype = type;
    at += 2;
    this.l3Offset = at;
    this.payloadOffset = at;
    if (type === ETHERTYPE_IPV4) this.#ipv4(frame, at, length);
    return true;
  }

  #ipv4(frame: Uint8Array, at: number, length: number): void {
    if (at + 20 > length) return;
    const versionIhl = frame[at];
    const ihl = (versionIhl & 0x0f) * 4;
    if (versionIhl >>> 4 !== 4 || ihl < 20 || at + ihl > length) return;
    const total = (frame[at + 2] << 8) | frame[at + 3];
    // Trust the IP length only to shorten what we look at (Ethernet pads short packets).
    const end = total >= ihl && at + total < length ? at + total : length;
    this.ipProto = frame[at + 9];
    this.ipSrc = ((frame[at + 12] << 24) | (frame[at + 13] << 16) | (frame[at + 14] << 8) |
      frame[at + 15]) >>> 0;
    this.ipDst = ((frame[at + 16] << 24) | (frame[at + 17] << 16) | (frame[at + 18] << 8) |
      frame[at + 19]) >>> 0;
    const fragmentOffset = ((frame[at + 6] << 8) | frame[at + 7]) & 0x1fff;
    const l4 = at + ihl;
    this.payloadOffset = l4;
    if (fragmentOffset !== 0) {
      this.ipFragment = true;
      return;
    }
    this.l4Offset = l4;
    switch (this.ipProto) {
      case 6: { // TCP
        if (l4 + 20 > end) return;
        this.srcPort = (frame[l4] << 8) | frame[l4 + 1];
        this.dstPort = (frame[l4 + 2] << 8) | frame[l4 + 3];
        this.tcpFlags = frame[l4 + 13];
        const dataOffset = (frame[l4 + 12] >>> 4) * 4;
        this.payloadOffset = dataOffset >= 20 && l4 + dataOffset <= end ? l4 + dataOffset : end;
        return;
      }
      case 17: // UDP
        if (l4 + 8 > end) return;
        this.srcPort = (frame[l4] << 8) | frame[l4 + 1];
        this.dstPort = (frame[l4 + 2] << 8) | frame[l4 + 3];
        this.payloadOffset = l4 + 8;
        return;
      case 1: // ICMP
        if (l4 + 8 > end) return;
        this.icmpType = frame[l4];
        this.payloadOffset = l4 + 8;
        return;
    }
  }
}

/** Fields of {@link buildFrame}: an Ethernet frame, optionally IPv4 with a UDP/TCP/ICMP header. */
export interface FrameSpec {
  /** Destination MAC. */
  dst: number;
  /** Source MAC. */
  src: number;
  /** Ethertype (default IPv4 when `ipSrc` is given, else 0x88b5, the local experimental one). */
  ethertype?: number;
  /** IPv4 source (makes the frame IPv4). */
  ipSrc?: number;
  /** IPv4 destination. */
  ipDst?: number;
  /** IP protocol (default UDP). */
  proto?: number;
  /** Source port. */
  srcPort?: number;
  /** Destination port. */
  dstPort?: number;
  /** TCP flags (default SYN for TCP). */
  tcpFlags?: number;
  /** Payload after the headers. */
  payload?: Uint8Array;
}

/**
 * Builds a frame (for tests, benchmarks and the TypeScript frontend): Ethernet header, and for
 * IPv4 a 20-byte header (checksum filled in) with an 8-byte UDP/ICMP or 20-byte TCP header.
 */
export function buildFrame(spec: FrameSpec): Uint8Array {
  const payload = spec.payload ?? new Uint8Array(0);
  const ip = spec.ipSrc !== undefined;
  const proto = spec.proto ?? IPPROTO_UDP;
  const l4 = !ip ? 0 : proto === IPPROTO_TCP ? 20 : 8;
  const frame = new Uint8Array(ETH_HLEN + (ip ? 20 : 0) + l4 + payload.length);
  writeMac(frame, 0, spec.dst);
  writeMac(frame, 6, spec.src);
  const type = spec.ethertype ?? (ip ? ETHERTYPE_IPV4 : 0x88b5);
  frame[12] = type >>> 8;
  frame[13] = type & 0xff;
  let at = ETH_HLEN;
  if (ip) {
    const total = 20 + l4 + payload.length;
    const view = new DataView(frame.buffer);
    frame[at] = 0x45;
    view.setUint16(at + 2, total);
    frame[at + 8] = 64;
    frame[at + 9] = proto;
    view.setUint32(at + 12, spec.ipSrc!);
    view.setUint32(at + 16, spec.ipDst ?? 0);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += view.getUint16(at + i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    view.setUint16(at + 10, ~sum & 0xffff);
    at += 20;
    if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
      view.setUint16(at, spec.srcPort ?? 0);
      view.setUint16(at + 2, spec.dstPort ?? 0);
    }
    if (proto === IPPROTO_TCP) {
      frame[at + 12] = 5 << 4;
      frame[at + 13] = spec.tcpFlags ?? TCP_SYN;
    } else if (proto === IPPROTO_UDP) {
      view.setUint16(at + 4, 8 + payload.length);
    }
    at += l4;
  }
  frame.set(payload, at);
  return frame;
}
