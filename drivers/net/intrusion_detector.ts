/**
 * The intrusion detector: watches traffic and flags what matches, never drops (it always returns
 * `FILTER_PASS`). Two detectors:
 *
 * - signatures: a byte pattern (text or hex) searched in a frame's payload — after the TCP/UDP/
 *   ICMP header when there is one, else after the IP or Ethernet header — optionally only for
 *   one IP protocol and/or port. All patterns are searched in one pass (an Aho–Corasick
 *   automaton, at most 4 KiB of patterns in all). Each matching frame counts once per signature
 *   and raises an alert;
 * - a port-scan heuristic: a source IPv4 address that opens (TCP SYN without ACK) or sends UDP
 *   to at least `threshold` distinct destination (address, port) pairs within `windowMs` raises
 *   one alert per window.
 *
 * Memory is bounded whatever the traffic: at most `maxSources` sources are tracked (new ones are
 * not, counted in `untracked`, until old windows expire), a source's set stops growing at the
 * threshold, and at most `maxAlerts` alerts wait to be taken (the rest are counted in
 * `alertsDropped`).
 *
 * @module
 */

import {
  formatIpv4,
  formatMac,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_ACK,
  TCP_SYN,
} from "./ethernet.ts";
import {
  FILTER_PASS,
  type FilterAlert,
  type FilterPacket,
  type FilterVerdict,
  type NetFilter,
} from "./filter.ts";
import { IDS_MAX_ALERTS, IDS_MAX_SOURCES } from "./params.ts";
import { PatternMatcher } from "./_pattern_matcher.ts";

/** A byte-pattern signature. */
export interface Signature {
  /** Name, in alerts and metrics. */
  name: string;
  /** The pattern as text (UTF-8). */
  pattern?: string;
  /** The pattern as hex bytes (`"de ad be ef"` or `"deadbeef"`). */
  hex?: string;
  /** Only this IP protocol (number or `tcp`/`udp`/`icmp`). */
  proto?: number | "tcp" | "udp" | "icmp";
  /** Only this destination port. */
  dstPort?: number;
}

/** Options of {@link createIntrusionDetector}. */
export interface IntrusionDetectorOptions {
  /** The filter's name (default `intrusion-detector`). */
  name?: string;
  /** Signatures. */
  signatures?: readonly Signature[];
  /** The port-scan heuristic (default on, 20 pairs in 10 s); `false` turns it off. */
  portScan?: { threshold?: number; windowMs?: number; maxSources?: number } | false;
  /** Alerts kept until taken (default {@link IDS_MAX_ALERTS}). */
  maxAlerts?: number;
}

interface CompiledSignature {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly proto: number;
  readonly dstPort: number;
  hits: number;
}

interface Source {
  start: number;
  alerted: boolean;
  readonly targets: Set<number>;
}

const utf8 = new TextEncoder();

function compileSignature(sig: Signature): CompiledSignature {
  if (typeof sig !== "object" || sig === null || typeof sig.name !== "string" || !sig.name) {
    throw new TypeError(`Signature ${JSON.stringify(sig)} has no name`);
  }
  let bytes: Uint8Array;
  if (sig.pattern !== undefined && sig.hex === undefined && typeof sig.pattern === "string") {
    bytes = utf8.encode(sig.pattern);
  } else if (sig.hex !== undefined && sig.pattern === undefined && typeof sig.hex === "string") {
    const digits = sig.hex.replace(/\s+/g, "");
    if (!/^([0-9a-fA-F]{2})+$/.test(digits)) {
      throw new RangeError(`Signature "${sig.name}" hex ${JSON.stringify(sig.hex)} is not bytes`);
    }
    bytes = new Uint8Array(digits.match(/../g)!.map((h) => parseInt(h, 16)));
  } else {
    throw new TypeError(`Signature "${sig.name}" needs exactly one of pattern and hex`);
  }
  if (bytes.length === 0 || bytes.length > 1024) {
    throw new RangeError(`Signature "${sig.name}" pattern of ${bytes.length} bytes is not 1..1024`);
  }
  const proto = sig.proto === undefined
    ? -1
    : sig.proto === "tcp"
    ? IPPROTO_TCP
    : sig.proto === "udp"
    ? IPPROTO_UDP
    : sig.proto === "icmp"
    ? IPPROTO_ICMP
    : sig.proto;
  if (!Number.isInteger(proto) || proto < -1 || proto > 255) {
    throw new RangeError(`Signature "${sig.name}" protocol ${JSON.stringify(sig.proto)} is bad`);
  }
  const dstPort = sig.dstPort ?? -1;
  if (!Number.isInteger(dstPort) || dstPort < -1 || dstPort > 65535) {
    throw new RangeError(`Signature "${sig.name}" port ${JSON.stringify(sig.dstPort)} is bad`);
  }
  return { name: sig.name, bytes, proto, dstPort, hits: 0 };
}

function positive(value: unknown, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new RangeError(`${what} ${JSON.stringify(value)} is not a positive integer`);
  }
  return v as number;
}

/** The intrusion detector (see the module doc). */
export class IntrusionDetector implements NetFilter {
  /** The filter's name. */
  readonly name: string;
  readonly #signatures: CompiledSignature[];
  readonly #matcher: PatternMatcher | undefined;
  readonly #scan: { threshold: number; windowMs: number; maxSources: number } | undefined;
  readonly #sources = new Map<number, Source>();
  readonly #maxAlerts: number;
  #alerts: FilterAlert[] = [];
  #inspected = 0;
  #flagged = 0;
  #portScans = 0;
  #untracked = 0;
  #alertsDropped = 0;

  /** Compiles `options`; throws a RangeError/TypeError quoting a bad one. */
  constructor(options: IntrusionDetectorOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Detector options ${JSON.stringify(options)} are not an object`);
    }
    const signatures = options.signatures ?? [];
    if (!Array.isArray(signatures)) {
      throw new TypeError(`Signatures ${JSON.stringify(signatures)} is not a list`);
    }
    this.name = options.name ?? "intrusion-detector";
    this.#signatures = signatures.map(compileSignature);
    const names = new Set(this.#signatures.map((s) => s.name));
    if (names.size !== this.#signatures.length) throw new RangeError("Two signatures share a name");
    this.#matcher = this.#signatures.length > 0
      ? new PatternMatcher(this.#signatures.map((s) => s.bytes))
      : undefined;
    const scan = options.portScan ?? {};
    this.#scan = scan === false ? undefined : {
      threshold: positive(scan.threshold, 20, "Port-scan threshold"),
      windowMs: positive(scan.windowMs, 10_000, "Port-scan window"),
      maxSources: positive(scan.maxSources, IDS_MAX_SOURCES, "Port-scan source limit"),
    };
    this.#maxAlerts = positive(options.maxAlerts, IDS_MAX_ALERTS, "Alert limit");
  }

  /** Looks at the frame; always passes it. */
  inspect(packet: FilterPacket): FilterVerdict {
    this.#inspected++;
    const info = packet.info;
    const bytes = packet.bytes;
    const end = Math.min(info.length, bytes.length);
    const from = info.payloadOffset >= 0 && info.payloadOffset <= end ? info.payloadOffset : end;
    let flagged = false;
    const matcher = this.#matcher;
    const found = matcher && from < end ? matcher.scan(bytes, from, end) : 0;
    for (let k = 0; k < found; k++) {
      const sig = this.#signatures[matcher!.hits[k]];
      if (sig.proto >= 0 && sig.proto !== info.ipProto) continue;
      if (sig.dstPort >= 0 && sig.dstPort !== info.dstPort) continue;
      sig.hits++;
      flagged = true;
      this.#alert(packet, sig.name, `signature "${sig.name}" matched`);
    }
    if (flagged) this.#flagged++;
    if (this.#scan && info.ipSrc >= 0 && info.dstPort >= 0) this.#watchScan(packet);
    return FILTER_PASS;
  }

  #watchScan(packet: FilterPacket): void {
    const info = packet.info;
    const probe = info.ipProto === IPPROTO_UDP ||
      (info.ipProto === IPPROTO_TCP && (info.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN);
    if (!probe) return;
    const scan = this.#scan!;
    const now = packet.now;
    let source = this.#sources.get(info.ipSrc);
    if (source && now - source.start > scan.windowMs) {
      source.start = now;
      source.alerted = false;
      source.targets.clear();
    }
    if (!source) {
      if (this.#sources.size >= scan.maxSources) this.#expire(now);
      if (this.#sources.size >= scan.maxSources) {
        this.#untracked++;
        return;
      }
      source = { start: now, alerted: false, targets: new Set() };
      this.#sources.set(info.ipSrc, source);
    }
    if (source.alerted) return;
    // A 30-bit hash of (address, port) stays a small integer (no allocation); a rare collision
    // only makes the heuristic a little less eager.
    source.targets.add((Math.imul(info.ipDst, 0x9e3779b1) ^ (info.dstPort << 14)) & 0x3fffffff);
    if (source.targets.size >= scan.threshold) {
      source.alerted = true;
      source.targets.clear();
      this.#portScans++;
      this.#alert(
        packet,
        "port-scan",
        `${formatIpv4(info.ipSrc)} probed ${scan.threshold} ports within ${scan.windowMs} ms`,
      );
    }
  }

  #expire(now: number): void {
    const windowMs = this.#scan!.windowMs;
    for (const [ip, source] of this.#sources) {
      if (now - source.start > windowMs) this.#sources.delete(ip);
    }
  }

  #alert(packet: FilterPacket, rule: string, detail: string): void {
    if (this.#alerts.length >= this.#maxAlerts) {
      this.#alertsDropped++;
      return;
    }
    const info = packet.info;
    const ip = info.ipSrc >= 0;
    this.#alerts.push({
      filter: this.name,
      rule,
      inPort: packet.inPort,
      time: packet.now,
      src: ip ? formatIpv4(info.ipSrc) : formatMac(info.src),
      dst: ip ? formatIpv4(info.ipDst) : formatMac(info.dst),
      detail,
    });
  }

  /** Alerts since the last call. */
  takeAlerts(): FilterAlert[] {
    const alerts = this.#alerts;
    this.#alerts = [];
    return alerts;
  }

  /**
   * `inspected`, `flagged` (frames matching a signature), `portScans`, `untracked`,
   * `alertsDropped`, `sources`, and `sig.<name>` hits per signature.
   */
  metrics(): Record<string, number> {
    const out: Record<string, number> = {
      inspected: this.#inspected,
      flagged: this.#flagged,
      portScans: this.#portScans,
      untracked: this.#untracked,
      alertsDropped: this.#alertsDropped,
      sources: this.#sources.size,
    };
    for (const sig of this.#signatures) out[`sig.${sig.name}`] = sig.hits;
    return out;
  }
}

/** The module's factory (see `filter.ts`): an {@link IntrusionDetector} from its options. */
export function createIntrusionDetector(options: unknown): NetFilter {
  return new IntrusionDetector((options ?? {}) as IntrusionDetectorOptions);
}

/** The filter-module entry point: an intrusion detector from `options`. */
export const createFilter: (options: unknown) => NetFilter = createIntrusionDetector;
