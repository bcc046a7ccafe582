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
import type { BridgeMetrics } from "@paravirt/drivers";
import type { XlConfig } from "./config.ts";

/** Text of the rules and signatures files a vif line names, by absolute path (`xl` reads them). */
export type DeviceFiles = Readonly<Record<string, string>>;

/** A row of `xl block-list` (libxl's `libxl_diskinfo`: frontend values, -1 when absent). */
export interface BlockListRow {
  /** The device id (`Vdev`). */
  readonly devid: number;
  /** The backend domain (`BE`). */
  readonly backendId: number;
  /** The frontend domain (`handle`, as Xen prints it). */
  readonly frontendId: number;
  /** The frontend's xenbus state. */
  readonly state: number;
  /** The frontend's event channel. */
  readonly eventChannel: number;
  /** The ring's grant reference. */
  readonly ringRef: number;
  /** The backend directory (`BE-path`). */
  readonly backendPath: string;
  /** The virtual device name as configured. */
  readonly vdev: string;
}

/** A bridge as `xl bridge-list` shows it (ours: Xen's bridges belong to the host's OS). */
export interface BridgeListEntry {
  /** Its name. */
  readonly name: string;
  /** Its filter chain's modules, in order. */
  readonly filters: readonly string[];
  /** Bridge worker restarts. */
  readonly restarts: number;
  /** Filter alerts raised. */
  readonly alerts: number;
  /** Why it is down, if it is. */
  readonly error?: string;
  /** Its counters (absent while its worker is down). */
  readonly metrics?: BridgeMetrics;
}

/** A row of `xl network-list` (libxl's `libxl_nicinfo`: frontend values, -1 when absent). */
export interface NetworkListRow {
  /** The device id (`Idx`, `handle`). */
  readonly devid: number;
  /** The backend domain (`BE`). */
  readonly backendId: number;
  /** The MAC address. */
  readonly mac: string;
  /** The frontend's xenbus state. */
  readonly state: number;
  /** The frontend's event channel. */
  readonly eventChannel: number;
  /** `tx-ring-ref`. */
  readonly txRingRef: number;
  /** `rx-ring-ref`. */
  readonly rxRingRef: number;
  /** The backend directory (`BE-path`). */
  readonly backendPath: string;
  /** The bridge it is on. */
  readonly bridge: string;
}

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
    /** The rules and signatures files the config's vif lines name. */
    readonly files?: DeviceFiles;
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
  /** Hot-plug a disk: a disk line, relative paths from `baseDir`. */
  | {
    readonly op: "block-attach";
    readonly domain: DomRef;
    readonly line: string;
    readonly baseDir: string;
  }
  /** Unplug a disk (by vdev or device id); `force` does not wait for the frontend. */
  | {
    readonly op: "block-detach";
    readonly domain: DomRef;
    readonly vdev: string;
    readonly force?: boolean;
  }
  /** A domain's disks. */
  | { readonly op: "block-list"; readonly domain: DomRef }
  /** Hot-plug a vif: a vif line, relative paths from `baseDir`, with its files' text. */
  | {
    readonly op: "network-attach";
    readonly domain: DomRef;
    readonly line: string;
    readonly baseDir: string;
    readonly files?: DeviceFiles;
  }
  /** Unplug a vif (by device id or MAC). */
  | {
    readonly op: "network-detach";
    readonly domain: DomRef;
    readonly device: string;
    readonly force?: boolean;
  }
  /** A domain's vifs. */
  | { readonly op: "network-list"; readonly domain: DomRef }
  /** The bridges, with their counters. */
  | { readonly op: "bridge-list" }
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
  /** Where disk images may be (the daemon reads and writes there; `PARAVIRT_XL_IMAGES`). */
  readonly images: readonly string[];
  /** Where backend modules may be (the daemon reads there; `PARAVIRT_XL_MODULES`). */
  readonly modules: readonly string[];
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
  /** The disk as listed. */
  "block-attach": BlockListRow;
  /** Nothing. */
  "block-detach": null;
  /** The domain's disks. */
  "block-list": BlockListRow[];
  /** The vif as listed. */
  "network-attach": NetworkListRow;
  /** Nothing. */
  "network-detach": null;
  /** The domain's vifs. */
  "network-list": NetworkListRow[];
  /** The bridges. */
  "bridge-list": BridgeListEntry[];
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
  "block-attach",
  "block-detach",
  "block-list",
  "network-attach",
  "network-detach",
  "network-list",
  "bridge-list",
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
      checkFiles(r);
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
    case "block-attach":
    case "network-attach":
      need("domain", "string");
      need("line", "string");
      need("baseDir", "string");
      if (!(r.baseDir as string).startsWith("/")) {
        throw new TypeError(`Request "${r.op}" needs baseDir as an absolute path`);
      }
      if (r.op === "network-attach") checkFiles(r);
      break;
    case "block-detach":
      need("domain", "string");
      need("vdev", "string");
      need("force", "boolean", true);
      break;
    case "network-detach":
      need("domain", "string");
      need("device", "string");
      need("force", "boolean", true);
      break;
    case "block-list":
    case "network-list":
      need("domain", "string");
      break;
  }
  return r as unknown as XlRequest;
}

function checkFiles(r: Record<string, unknown>): void {
  if (r.files === undefined) return;
  const files = r.files;
  if (
    typeof files !== "object" || files === null || Array.isArray(files) ||
    Object.entries(files).some(([path, text]) => !path.startsWith("/") || typeof text !== "string")
  ) {
    throw new TypeError(`Request "${r.op}" needs files as texts by absolute path`);
  }
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
