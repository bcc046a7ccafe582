/**
 * The packet filter: an ordered list of allow/deny rules matched against each frame's headers;
 * the first rule that matches decides, and a frame no rule matches gets the default policy.
 *
 * A rule matches on any of: ingress port, source/destination MAC, ethertype, VLAN id, IPv4
 * source/destination (address or CIDR prefix), IP protocol, TCP/UDP source/destination port (one
 * or a range). A rule about IPv4 fields matches IPv4 frames only; a rule about ports matches only
 * frames whose TCP/UDP header could be read — so a non-first IP fragment (which carries no ports)
 * never matches a port rule: with a default of `allow`, deny fragments explicitly if that
 * matters.
 *
 * Rules are objects ({@link PacketRule}) or lines of text, as in a config file:
 *
 * ```text
 * deny in=vif2.0 proto=udp dport=9
 * allow type=arp
 * deny src=10.0.0.0/24 dst=10.0.1.5 proto=tcp dport=20-23
 * allow src-mac=00:16:3e:00:00:01
 * ```
 *
 * Keys: `in`, `src-mac`, `dst-mac`, `type` (`ipv4`, `arp`, `vlan` or a number), `vlan`, `src`,
 * `dst`, `proto` (`tcp`, `udp`, `icmp` or a number), `sport`, `dport`. A bad line throws a
 * RangeError that quotes it.
 *
 * @module
 */

import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_VLAN,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  parseIpv4,
  parseMac,
} from "./ethernet.ts";
import {
  FILTER_DROP,
  FILTER_PASS,
  type FilterPacket,
  type FilterVerdict,
  type NetFilter,
} from "./filter.ts";

/** A rule as an object. Absent fields match anything. */
export interface PacketRule {
  /** What to do with a matching frame. */
  action: "allow" | "deny";
  /** Ingress port name. */
  inPort?: string;
  /** Source MAC (`aa:bb:cc:dd:ee:ff`). */
  srcMac?: string;
  /** Destination MAC. */
  dstMac?: string;
  /** Ethertype (after VLAN tags). */
  ethertype?: number;
  /** VLAN id. */
  vlan?: number;
  /** IPv4 source: an address or a CIDR prefix. */
  srcIp?: string;
  /** IPv4 destination. */
  dstIp?: string;
  /** IP protocol (number or `tcp`/`udp`/`icmp`). */
  proto?: number | "tcp" | "udp" | "icmp";
  /** TCP/UDP source port or inclusive range. */
  srcPort?: number | readonly [number, number];
  /** TCP/UDP destination port or inclusive range. */
  dstPort?: number | readonly [number, number];
}

/** Options of {@link createPacketFilter}. */
export interface PacketFilterOptions {
  /** The filter's name (default `packet-filter`). */
  name?: string;
  /** Rules in order (objects or text lines). */
  rules?: readonly (PacketRule | string)[];
  /** What happens to a frame no rule matches (default `allow`). */
  defaultPolicy?: "allow" | "deny";
}

interface Compiled {
  readonly text: string;
  readonly verdict: FilterVerdict;
  readonly inPort: string | undefined;
  readonly srcMac: number;
  readonly dstMac: number;
  readonly ethertype: number;
  readonly vlan: number;
  readonly ip: boolean;
  readonly srcNet: number;
  readonly srcMask: number;
  readonly dstNet: number;
  readonly dstMask: number;
  readonly proto: number;
  readonly ports: boolean;
  readonly sportLo: number;
  readonly sportHi: number;
  readonly dportLo: number;
  readonly dportHi: number;
}

const TEXT_KEYS: Record<string, keyof PacketRule> = {
  "in": "inPort",
  "src-mac": "srcMac",
  "dst-mac": "dstMac",
  "type": "ethertype",
  "vlan": "vlan",
  "src": "srcIp",
  "dst": "dstIp",
  "proto": "proto",
  "sport": "srcPort",
  "dport": "dstPort",
};

const ETHERTYPE_NAMES: Record<string, number> = {
  ipv4: ETHERTYPE_IPV4,
  arp: ETHERTYPE_ARP,
  vlan: ETHERTYPE_VLAN,
};

function parseNumber(text: string, max: number, what: string, line: string): number {
  const value = /^0x[0-9a-f]+$/i.test(text)
    ? parseInt(text, 16)
    : /^[0-9]+$/.test(text)
    ? +text
    : NaN;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what} ${JSON.stringify(text)} in rule ${JSON.stringify(line)} is bad`);
  }
  return value;
}

/** Parses one text rule (see the module doc). Throws a RangeError quoting the line. */
export function parseRule(line: string): PacketRule {
  if (typeof line !== "string") throw new TypeError(`Rule ${JSON.stringify(line)} is not text`);
  const words = line.trim().split(/\s+/);
  const action = words.shift();
  if (action !== "allow" && action !== "deny") {
    throw new RangeError(`Rule ${JSON.stringify(line)} does not start with allow or deny`);
  }
  const rule: PacketRule = { action };
  const seen = new Set<string>();
  for (const word of words) {
    const eq = word.indexOf("=");
    const key = eq > 0 ? word.slice(0, eq) : word;
    const value = eq > 0 ? word.slice(eq + 1) : "";
    const field = TEXT_KEYS[key];
    if (!field || value === "") {
      throw new RangeError(`Term ${JSON.stringify(word)} in rule ${JSON.stringify(line)} is bad`);
    }
    if (seen.has(key)) {
      throw new RangeError(`Key ${JSON.stringify(key)} repeats in rule ${JSON.stringify(line)}`);
    }
    seen.add(key);
    switch (field) {
      case "ethertype":
        rule.ethertype = ETHERTYPE_NAMES[value] ?? parseNumber(value, 0xffff, "Ethertype", line);
        break;
      case "vlan":
        rule.vlan = parseNumber(value, 4095, "VLAN", line);
        break;
      case "proto":
        rule.proto = value === "tcp" || value === "udp" || value === "icmp"
          ? value
          : parseNumber(value, 255, "Protocol", line);
        break;
      case "srcPort":
      case "dstPort": {
        const [lo, hi] = value.split("-", 2);
        const range: [number, number] = [
          parseNumber(lo, 65535, "Port", line),
          parseNumber(hi ?? lo, 65535, "Port", line),
        ];
        rule[field] = range[0] === range[1] ? range[0] : range;
        break;
      }
      default: // in, src-mac, dst-mac, src, dst: text, checked when the rule is compiled
        (rule as unknown as Record<string, string>)[field] = value;
    }
  }
  return rule;
}

function parseCidr(text: string, line: string): [number, number] {
  const [address, bits] = text.split("/", 2);
  const prefix = bits === undefined ? 32 : parseNumber(bits, 32, "Prefix", line);
  const mask = prefix === 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0;
  return [(parseIpv4(address) & mask) >>> 0, mask];
}

function portRange(value: number | readonly [number, number] | undefined, line: string) {
  if (value === undefined) return [-1, -1];
  const [lo, hi] = typeof value === "number" ? [value, value] : value;
  for (const p of [lo, hi]) {
    if (!Number.isInteger(p) || p < 0 || p > 65535) {
      throw new RangeError(`Port ${JSON.stringify(p)} in rule ${line} is outside 0..65535`);
    }
  }
  if (lo > hi) throw new RangeError(`Port range ${lo}-${hi} in rule ${line} is empty`);
  return [lo, hi];
}

function compile(input: PacketRule | string): Compiled {
  const rule = typeof input === "string" ? parseRule(input) : input;
  const text = typeof input === "string" ? input.trim() : JSON.stringify(input);
  if (typeof rule !== "object" || rule === null) {
    throw new TypeError(`Rule ${JSON.stringify(input)} is not a rule`);
  }
  const known = new Set<string>(["action", ...Object.values(TEXT_KEYS)]);
  for (const key of Object.keys(rule)) {
    if (!known.has(key)) throw new RangeError(`Rule ${text} has an unknown field "${key}"`);
  }
  if (rule.action !== "allow" && rule.action !== "deny") {
    throw new RangeError(`Rule ${text} has action ${JSON.stringify(rule.action)}`);
  }
  const number = (value: number | undefined, max: number, what: string) => {
    if (value === undefined) return -1;
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new RangeError(`${what} ${JSON.stringify(value)} in rule ${text} is bad`);
    }
    return value;
  };
  const [srcNet, srcMask] = rule.srcIp === undefined ? [0, 0] : parseCidr(rule.srcIp, text);
  const [dstNet, dstMask] = rule.dstIp === undefined ? [0, 0] : parseCidr(rule.dstIp, text);
  const proto = rule.proto === "tcp"
    ? IPPROTO_TCP
    : rule.proto === "udp"
    ? IPPROTO_UDP
    : rule.proto === "icmp"
    ? IPPROTO_ICMP
    : number(rule.proto, 255, "Protocol");
  const [sportLo, sportHi] = portRange(rule.srcPort, text);
  const [dportLo, dportHi] = portRange(rule.dstPort, text);
  if (rule.inPort !== undefined && (typeof rule.inPort !== "string" || rule.inPort === "")) {
    throw new RangeError(`Port name ${JSON.stringify(rule.inPort)} in rule ${text} is bad`);
  }
  return {
    text,
    verdict: rule.action === "allow" ? FILTER_PASS : FILTER_DROP,
    inPort: rule.inPort,
    srcMac: rule.srcMac === undefined ? -1 : parseMac(rule.srcMac),
    dstMac: rule.dstMac === undefined ? -1 : parseMac(rule.dstMac),
    ethertype: number(rule.ethertype, 0xffff, "Ethertype"),
    vlan: number(rule.vlan, 4095, "VLAN"),
    ip: rule.srcIp !== undefined || rule.dstIp !== undefined || proto >= 0,
    srcNet,
    srcMask,
    dstNet,
    dstMask,
    proto,
    ports: sportLo >= 0 || dportLo >= 0,
    sportLo,
    sportHi,
    dportLo,
    dportHi,
  };
}

/** The packet filter (see the module doc). */
export class PacketFilter implements NetFilter {
  /** The filter's name. */
  readonly name: string;
  /** The verdict for frames no rule matches. */
  readonly defaultVerdict: FilterVerdict;
  readonly #rules: readonly Compiled[];
  readonly #hits: Float64Array;
  #allowed = 0;
  #denied = 0;
  #defaulted = 0;

  /** Compiles `options`; throws a RangeError/TypeError quoting a bad rule. */
  constructor(options: PacketFilterOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Packet filter options ${JSON.stringify(options)} are not an object`);
    }
    const policy = options.defaultPolicy ?? "allow";
    if (policy !== "allow" && policy !== "deny") {
      throw new RangeError(`Default policy ${JSON.stringify(policy)} is not allow or deny`);
    }
    const rules = options.rules ?? [];
    if (!Array.isArray(rules)) throw new TypeError(`Rules ${JSON.stringify(rules)} is not a list`);
    this.name = options.name ?? "packet-filter";
    this.defaultVerdict = policy === "allow" ? FILTER_PASS : FILTER_DROP;
    this.#rules = rules.map(compile);
    this.#hits = new Float64Array(this.#rules.length);
  }

  /** The rules as given (text form), in order. */
  get rules(): string[] {
    return this.#rules.map((r) => r.text);
  }

  /** First matching rule decides; else the default policy. */
  inspect(packet: FilterPacket): FilterVerdict {
    const info = packet.info;
    const rules = this.#rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      if (r.inPort !== undefined && r.inPort !== packet.inPort) continue;
      if (r.srcMac >= 0 && r.srcMac !== info.src) continue;
      if (r.dstMac >= 0 && r.dstMac !== info.dst) continue;
      if (r.ethertype >= 0 && r.ethertype !== info.ethertype) continue;
      if (r.vlan >= 0 && r.vlan !== info.vlan) continue;
      if (r.ip) {
        if (info.ipSrc < 0) continue;
        if (((info.ipSrc & r.srcMask) >>> 0) !== r.srcNet) continue;
        if (((info.ipDst & r.dstMask) >>> 0) !== r.dstNet) continue;
        if (r.proto >= 0 && r.proto !== info.ipProto) continue;
      }
      if (r.ports) {
        if (info.srcPort < 0) continue;
        if (r.sportLo >= 0 && (info.srcPort < r.sportLo || info.srcPort > r.sportHi)) continue;
        if (r.dportLo >= 0 && (info.dstPort < r.dportLo || info.dstPort > r.dportHi)) continue;
      }
      this.#hits[i]++;
      if (r.verdict === FILTER_PASS) this.#allowed++;
      else this.#denied++;
      return r.verdict;
    }
    this.#defaulted++;
    if (this.defaultVerdict === FILTER_PASS) this.#allowed++;
    else this.#denied++;
    return this.defaultVerdict;
  }

  /** `allowed`, `denied`, `defaulted`, and `rule.<n>` hits per rule. */
  metrics(): Record<string, number> {
    const out: Record<string, number> = {
      allowed: this.#allowed,
      denied: this.#denied,
      defaulted: this.#defaulted,
    };
    this.#hits.forEach((hits, i) => out[`rule.${i}`] = hits);
    return out;
  }
}

/** The module's factory (see `filter.ts`): a {@link PacketFilter} from its options. */
export function createPacketFilter(options: unknown): NetFilter {
  return new PacketFilter((options ?? {}) as PacketFilterOptions);
}

/** The filter-module entry point: a packet filter from `options`. */
export const createFilter: (options: unknown) => NetFilter = createPacketFilter;
