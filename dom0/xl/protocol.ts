/**
 * The control protocol between `xl` and the toolstack daemon: JSON, one message per line, on a
 * Unix socket. The client sends a request and reads one response; `console` turns the connection
 * into a stream (output events from the daemon, input messages from the client) until either side
 * ends it. Binary data (kernel images, console bytes) travels as base64.
 *
 * Rules of use: both sides treat the other as untrusted — {@link LineReader} refuses lines longer
 * than {@link MAX_LINE_BYTES}, and {@link parseRequest} checks every field's type before anything
 * acts on it.
 *
 * @module
 */

import type { DomainSummary, HostInfo, SchedCreditEntry } from "@paravirt/hypervisor";
import type { XlConfig } from "./config.ts";

/** Longest protocol line (a 32 MiB kernel image in base64, with room to spare). */
export const MAX_LINE_BYTES = 48 * 1024 * 1024;

/** A domain reference as typed by the user: an id or a name. */
export type DomRef = string;

/** What `xl` asks the daemon. */
export type XlRequest =
  /** Create a domain from a parsed config and its images (base64). */
  | {
    readonly op: "create";
    readonly config: XlConfig;
    readonly kernel: string;
    readonly ramdisk?: string;
    readonly paused?: boolean;
  }
  /** All domains, or one. */
  | { readonly op: "list"; readonly domain?: DomRef }
  /** Destroy a domain. */
  | { readonly op: "destroy"; readonly domain: DomRef }
  /** Pause a domain. */
  | { readonly op: "pause"; readonly domain: DomRef }
  /** Unpause a domain. */
  | { readonly op: "unpause"; readonly domain: DomRef }
  /** Shut a domain down (poweroff, or reboot with `reboot`). */
  | { readonly op: "shutdown"; readonly domain: DomRef; readonly reboot?: boolean }
  /** Credit scheduler parameters: get (no weight or cap) or set. */
  | {
    readonly op: "sched-credit";
    readonly domain?: DomRef;
    readonly weight?: number;
    readonly cap?: number;
  }
  /** Attach to a domain's console (the connection becomes a stream). */
  | { readonly op: "console"; readonly domain: DomRef }
  /** Console input, on a console stream only. */
  | { readonly op: "input"; readonly data: string }
  /** The hypervisor log. */
  | { readonly op: "dmesg" }
  /** Host information. */
  | { readonly op: "info" }
  /** The daemon's status. */
  | { readonly op: "status" }
  /** Destroy every domain and stop the daemon. */
  | { readonly op: "stop" };

/** What the daemon says about itself (`xl daemon status`). */
export interface DaemonStatus {
  /** Its process id. */
  readonly pid: number;
  /** The socket it serves. */
  readonly socket: string;
  /** Wall-clock start (ms since the epoch). */
  readonly startedAt: number;
  /** Resident memory of the daemon process (bytes): Domain-0's memory in `xl list`. */
  readonly rssBytes: number;
  /**
   * CPU time of the daemon process not charged to any guest (ns): Domain-0's time in `xl list`
   * (dom0's own work plus the hypervisor's overhead; Deno cannot read one thread's CPU time).
   */
  readonly cpuTimeNs: number;
}

/** The result of each request. */
export interface XlResults {
  /** The new domain. */
  create: DomainSummary;
  /** Domains, and the daemon itself (Domain-0). */
  list: { domains: DomainSummary[]; dom0: DaemonStatus };
  /** Nothing. */
  destroy: null;
  /** The paused domain. */
  pause: DomainSummary;
  /** The unpaused domain. */
  unpause: DomainSummary;
  /** The domain after shutting down. */
  shutdown: DomainSummary;
  /** Rows (empty when parameters were set). */
  "sched-credit": { entries: SchedCreditEntry[]; timesliceMs: number };
  /** The domain attached to. */
  console: DomainSummary;
  /** Nothing. */
  input: null;
  /** Log lines. */
  dmesg: string[];
  /** Host info and the daemon's status. */
  info: { host: HostInfo; dom0: DaemonStatus };
  /** The daemon's status. */
  status: DaemonStatus;
  /** Nothing. */
  stop: null;
}

/** A response line. */
export type XlResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: string };

/** A console stream line from the daemon. */
export type ConsoleStreamEvent =
  | { readonly event: "output"; readonly data: string }
  | { readonly event: "end"; readonly why: "shutdown" | "destroyed" | "stopped" };

/** Encodes bytes as base64. */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** Decodes base64; throws a TypeError for anything else. */
export function fromBase64(text: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new TypeError("Binary data is not valid base64");
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const OPS = new Set([
  "create",
  "list",
  "destroy",
  "pause",
  "unpause",
  "shutdown",
  "sched-credit",
  "console",
  "input",
  "dmesg",
  "info",
  "status",
  "stop",
]);

/** Checks a decoded line is a well-formed request; throws a TypeError naming what is wrong. */
export function parseRequest(value: unknown): XlRequest {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError("A request must be a JSON object");
  }
  const r = value as Record<string, unknown>;
  if (typeof r.op !== "string" || !OPS.has(r.op)) {
    throw new TypeError(`Unknown request ${JSON.stringify(r.op)}`);
  }
  const need = (key: string, type: "string" | "number" | "boolean", optional = false) => {
    if (r[key] === undefined && optional) return;
    const actual: string = typeof r[key];
    if (actual !== type) {
      throw new TypeError(`Request "${r.op}" needs ${key} as a ${type}`);
    }
  };
  switch (r.op) {
    case "create":
      need("kernel", "string");
      need("ramdisk", "string", true);
      need("paused", "boolean", true);
      if (typeof r.config !== "object" || r.config === null) {
        throw new TypeError('Request "create" needs a config object');
      }
      checkConfig(r.config as Record<string, unknown>);
      break;
    case "list":
    case "sched-credit":
      need("domain", "string", true);
      if (r.op === "sched-credit") {
        need("weight", "number", true);
        need("cap", "number", true);
      }
      break;
    case "destroy":
    case "pause":
    case "unpause":
    case "console":
      need("domain", "string");
      break;
    case "shutdown":
      need("domain", "string");
      need("reboot", "boolean", true);
      break;
    case "input":
      need("data", "string");
      break;
  }
  return r as unknown as XlRequest;
}

function checkConfig(c: Record<string, unknown>): void {
  const fields: [string, "string" | "number"][] = [
    ["file", "string"],
    ["name", "string"],
    ["memoryMiB", "number"],
    ["maxMemoryMiB", "number"],
    ["vcpus", "number"],
    ["kernel", "string"],
    ["cmdline", "string"],
    ["weight", "number"],
    ["cap", "number"],
    ["onPoweroff", "string"],
    ["onReboot", "string"],
    ["onCrash", "string"],
  ];
  for (const [key, type] of fields) {
    const actual: string = typeof c[key];
    if (actual !== type) throw new TypeError(`The config needs ${key} as a ${type}`);
  }
  for (const key of ["onPoweroff", "onReboot", "onCrash"]) {
    if (!["destroy", "restart", "preserve"].includes(c[key] as string)) {
      throw new TypeError(`The config's ${key} ${JSON.stringify(c[key])} is not an action`);
    }
  }
  for (const key of ["disk", "vif"]) {
    if (!Array.isArray(c[key]) || (c[key] as unknown[]).some((s) => typeof s !== "string")) {
      throw new TypeError(`The config needs ${key} as a list of strings`);
    }
  }
}

/** Splits a byte stream into lines (without the newline); refuses lines over a limit. */
export class LineReader {
  readonly #decoder = new TextDecoder();
  readonly #limit: number;
  #pieces: string[] = [];
  #length = 0;

  /** Creates a reader refusing lines longer than `limit` (UTF-16 code units; base64 is ASCII). */
  constructor(limit: number = MAX_LINE_BYTES) {
    this.#limit = limit;
  }

  /** Feeds bytes; returns the complete lines they finish. Throws a RangeError on a long line. */
  push(bytes: Uint8Array): string[] {
    const text = this.#decoder.decode(bytes, { stream: true });
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const newline = text.indexOf("\n", start);
      const end = newline < 0 ? text.length : newline;
      // Only the new text is scanned, so a long line arriving in pieces costs linear time.
      this.#length += end - start;
      if (this.#length > this.#limit) {
        throw new RangeError(`A protocol line is longer than ${this.#limit} bytes`);
      }
      if (end > start) this.#pieces.push(text.slice(start, end));
      if (newline < 0) break;
      lines.push(this.#pieces.join(""));
      this.#pieces = [];
      this.#length = 0;
      start = newline + 1;
    }
    return lines;
  }
}

/** Reads lines from a stream, one at a time. */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  limit: number = MAX_LINE_BYTES,
): AsyncGenerator<string> {
  const reader = new LineReader(limit);
  for await (const chunk of stream) {
    for (const line of reader.push(chunk)) yield line;
  }
}
