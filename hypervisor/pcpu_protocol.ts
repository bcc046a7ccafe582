/**
 * The messages between a {@link Pcpu} (the main thread's client) and its pCPU worker
 * (`pcpu_worker.ts`), in one place: the calls with their arguments and results, and the events
 * the worker sends on its own (console output, shutdowns, log lines).
 *
 * Rules of use: every message is structured-clone data (no functions, no class instances except
 * typed arrays). A call carries a sequence number; the worker answers each call exactly once,
 * with a reply of the same number, after it has posted every event the call caused (so a
 * `destroy` reply arrives after the domain's last console output). Adding a call means adding
 * one entry to {@link PcpuCalls}; both sides are then checked by the compiler.
 *
 * @module
 */

import type { DomainConfig, ForeignDomainView } from "./hypervisor.ts";
import type { DomainState } from "./domain.ts";

/** A domain named by id or by name. */
export type DomainRef = number | string;

/** Xen's six `xl list` state flags of a domain (`rbpscd`). */
export interface DomainFlags {
  /** A vCPU is running or ready to run on the pCPU (`r`). */
  readonly running: boolean;
  /** Every vCPU that is up is blocked, waiting for an event (`b`). */
  readonly blocked: boolean;
  /** The domain is paused by the toolstack or the builder (`p`). */
  readonly paused: boolean;
  /** The domain has shut down (`s`). */
  readonly shutdown: boolean;
  /** The domain shut down by crashing (`c`). */
  readonly crashed: boolean;
  /** The domain is being destroyed (`d`). */
  readonly dying: boolean;
}

/** What the toolstack sees of one domain (`xl list`, `xl list -l`). */
export interface DomainSummary {
  /** Domain id. */
  readonly id: number;
  /** Name. */
  readonly name: string;
  /** Pages it holds now. */
  readonly pages: number;
  /** Pages it may grow to. */
  readonly maxPages: number;
  /** Number of vCPUs. */
  readonly vcpus: number;
  /** Lifecycle state. */
  readonly state: DomainState;
  /** Xen's state flags. */
  readonly flags: DomainFlags;
  /** The `SHUTDOWN_*` reason once it shut down, else null. */
  readonly shutdownReason: number | null;
  /** CPU time used by all its vCPUs (ns). */
  readonly cpuTimeNs: number;
  /** Credit scheduler weight. */
  readonly weight: number;
  /** Credit scheduler cap (percent of one CPU, 0 = none). */
  readonly cap: number;
  /** Whether its kernel has been loaded (false between `allocate` and `build`). */
  readonly built: boolean;
}

/** One row of `xl sched-credit`. */
export interface SchedCreditEntry {
  /** Domain id. */
  readonly id: number;
  /** Name. */
  readonly name: string;
  /** Weight (1..65535). */
  readonly weight: number;
  /** Cap in percent (0 = none). */
  readonly cap: number;
}

/** What `xl info` shows of the hypervisor. */
export interface HostInfo {
  /** Machine frames domains may use in all. */
  readonly totalPages: number;
  /** Machine frames not held by any domain. */
  readonly freePages: number;
  /** Page size in bytes. */
  readonly pageSize: number;
  /** The scheduler's name. */
  readonly scheduler: string;
  /** Credit scheduler timeslice (ms). */
  readonly timesliceMs: number;
  /** ns since the hypervisor started. */
  readonly uptimeNs: number;
  /** Wall-clock time the hypervisor started (ms since the epoch). */
  readonly startedAtMs: number;
  /** Version (`XENVER_version`). */
  readonly versionMajor: number;
  /** Minor version. */
  readonly versionMinor: number;
  /** Version suffix (`XENVER_extraversion`). */
  readonly versionExtra: string;
  /** Guest domains alive. */
  readonly domains: number;
  /** Instructions the pCPU has retired in all. */
  readonly instructions: number;
  /** Hypercalls served in all. */
  readonly hypercalls: number;
  /** CPU time charged to guest vCPUs in all, destroyed domains included (ns). */
  readonly guestCpuTimeNs: number;
}

/** Every call of the pCPU: its arguments and its result. */
export interface PcpuCalls {
  /** Allocate, build and (unless `paused`) unpause a domain. */
  create: {
    args: { config: DomainConfig; kernel: Uint8Array; paused?: boolean };
    result: DomainSummary;
  };
  /** The first half of create: an empty, paused domain (Xen's `domain_create`). */
  allocate: { args: { config: DomainConfig }; result: DomainSummary };
  /** The second half: load the kernel into an allocated domain (it stays paused). */
  build: {
    args: { domain: DomainRef; kernel: Uint8Array; cmdline?: string; module?: Uint8Array };
    result: DomainSummary;
  };
  /** Connects two domains with an interdomain event channel; returns their ports. */
  bindInterdomain: { args: { a: DomainRef; b: DomainRef }; result: [number, number] };
  /** Pauses a domain (nestable). */
  pause: { args: { domain: DomainRef }; result: DomainSummary };
  /** Undoes one pause. */
  unpause: { args: { domain: DomainRef }; result: DomainSummary };
  /** Shuts a domain down with a `SHUTDOWN_*` reason. */
  shutdown: { args: { domain: DomainRef; reason: number }; result: DomainSummary };
  /** Destroys a domain, freeing its memory. */
  destroy: { args: { domain: DomainRef }; result: null };
  /** Credit scheduler parameters of one domain, or of all. */
  schedGet: { args: { domain?: DomainRef }; result: SchedCreditEntry[] };
  /** Sets a domain's weight and/or cap. */
  schedSet: {
    args: { domain: DomainRef; weight?: number; cap?: number };
    result: SchedCreditEntry;
  };
  /** Typed input for a domain's console; returns the bytes accepted. */
  consoleInput: { args: { domain: DomainRef; bytes: Uint8Array }; result: number };
  /** The recent console output a domain's console kept. */
  consoleHistory: { args: { domain: DomainRef }; result: Uint8Array };
  /** All guest domains. */
  list: { args: Record<string, never>; result: DomainSummary[] };
  /** The hypervisor log. */
  dmesg: { args: Record<string, never>; result: string[] };
  /** Host information. */
  info: { args: Record<string, never>; result: HostInfo };
  /** The buffer of the hypervisor's wake word (backends' doorbells bump it). */
  wakeBuffer: { args: Record<string, never>; result: SharedArrayBuffer };
  /** The memory view a backend of a domain needs. */
  foreignView: { args: { domain: DomainRef }; result: ForeignDomainView };
  /**
   * Binds a dom0 port to a domain's unbound port, routed to a doorbell slot. `doorbell` is the
   * client's id for the doorbell's buffer (a buffer posted twice arrives as two objects).
   * Returns the dom0 port or a negative errno.
   */
  bindBackend: {
    args: {
      domain: DomainRef;
      frontPort: number;
      doorbell: number;
      buffer: SharedArrayBuffer;
      slot: number;
    };
    result: number;
  };
  /** Allocates a dom0 port a domain may bind, routed like bindBackend. */
  offerBackendPort: {
    args: { domain: DomainRef; doorbell: number; buffer: SharedArrayBuffer; slot: number };
    result: number;
  };
  /** Closes a dom0 port made by bindBackend or offerBackendPort. */
  unbindBackend: { args: { port: number }; result: null };
}

/** The name of a pCPU call. */
export type PcpuOp = keyof PcpuCalls;

/** A call, as posted to the worker. */
export type PcpuCallMessage = {
  [K in PcpuOp]: {
    readonly kind: "call";
    readonly seq: number;
    readonly op: K;
    args: PcpuCalls[K]["args"];
  };
}[PcpuOp];

/** An error carried across the thread boundary (rebuilt as the same class on the main thread). */
export interface PcpuErrorData {
  /** `RangeError`, `TypeError`, `BuildError` or `Error`. */
  readonly name: string;
  /** The message, unchanged. */
  readonly message: string;
}

/** What the worker posts to the main thread. */
export type PcpuEventMessage =
  /** The worker has loaded and its hypervisor exists. */
  | { readonly kind: "ready" }
  /** The answer to call `seq`. */
  | { readonly kind: "reply"; readonly seq: number; readonly ok: true; readonly result: unknown }
  /** Call `seq` failed. */
  | {
    readonly kind: "reply";
    readonly seq: number;
    readonly ok: false;
    readonly error: PcpuErrorData;
  }
  /** Console output of a domain, batched: everything it wrote since the last batch. */
  | { readonly kind: "console"; readonly domid: number; readonly bytes: Uint8Array }
  /** A domain shut down (`SHUTDOWN_*` reason). */
  | {
    readonly kind: "shutdown";
    readonly domid: number;
    readonly name: string;
    readonly reason: number;
  }
  /** A domain is gone. */
  | { readonly kind: "destroyed"; readonly domid: number; readonly name: string }
  /** A hypervisor log line. */
  | { readonly kind: "log"; readonly line: string };
