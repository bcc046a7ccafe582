/**
 * The main thread's handle on a physical CPU: a worker running the hypervisor's loop
 * (`pcpu_worker.ts`), driven through async domctl/sysctl-style calls.
 *
 * Rules of use:
 * - `new Pcpu()` starts the worker with no host permissions (the caller needs read access to this
 *   package's modules and to the packages it imports, and Deno's `worker-options` unstable
 *   feature). {@link Pcpu.close} ends it; calls after that reject.
 * - Every call returns a promise; a call the hypervisor refuses rejects with an error of the same
 *   class (RangeError, TypeError, BuildError) and the same message.
 * - Console output arrives in batches per domain through {@link Pcpu.onConsole}; shutdowns and
 *   destructions through {@link Pcpu.onShutdown} and {@link Pcpu.onDestroyed}. Output a domain
 *   wrote before it shut down is delivered before the shutdown.
 * - Kernel images are copied to the worker, never transferred: the caller keeps its bytes (a
 *   toolstack needs them again to restart a domain).
 * - It is also dom0's `DomainControl` (`@paravirt/dom0`): memory views of domains and backend
 *   event links through doorbells, whose shared buffers cross to the worker.
 *
 * @module
 */

import type { DomainConfig, ForeignDomainView } from "./hypervisor.ts";
import { BuildError } from "./builder.ts";
import type {
  DomainRef,
  DomainSummary,
  HostInfo,
  PcpuCallMessage,
  PcpuCalls,
  PcpuErrorData,
  PcpuEventMessage,
  PcpuOp,
  SchedCreditEntry,
} from "./pcpu_protocol.ts";

/** Receives a batch of a domain's console output. */
export type ConsoleBatchListener = (domid: number, bytes: Uint8Array) => void;
/** Hears that a domain shut down with a `SHUTDOWN_*` reason. */
export type ShutdownListener = (domid: number, name: string, reason: number) => void;
/** Hears that a domain was destroyed. */
export type DestroyedListener = (domid: number, name: string) => void;

/** Options for a {@link Pcpu}. */
export interface PcpuOptions {
  /** The worker's name (shown in stack traces; default `pcpu0`). */
  name?: string;
  /** Receives each hypervisor log line as it is written. */
  onLog?: (line: string) => void;
}

/** Options for {@link Pcpu.create}. */
export interface PcpuCreateOptions {
  /** Leave the domain paused after building it (`xl create -p`). */
  paused?: boolean;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A pCPU worker and the calls that drive its hypervisor. */
export class Pcpu {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #console = new Set<ConsoleBatchListener>();
  readonly #shutdown = new Set<ShutdownListener>();
  readonly #destroyed = new Set<DestroyedListener>();
  readonly #onLog: (line: string) => void;
  readonly #ready: Promise<void>;
  #seq = 0;
  #failure: Error | undefined;
  readonly #doorbellIds = new WeakMap<SharedArrayBuffer, number>();
  #nextDoorbell = 0;

  /** Starts the worker. */
  constructor(options: PcpuOptions = {}) {
    this.#onLog = options.onLog ?? (() => {});
    this.#worker = new Worker(new URL("./pcpu_worker.ts", import.meta.url), {
      type: "module",
      name: options.name ?? "pcpu0",
      deno: { permissions: "none" },
    });
    let ready: () => void = () => {};
    this.#ready = new Promise((resolve) => ready = resolve);
    this.#worker.onmessage = (event: MessageEvent<PcpuEventMessage>) => {
      if (event.data.kind === "ready") ready();
      else this.#receive(event.data);
    };
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(new Error(`The pCPU worker failed: ${event.message}`));
      ready();
    };
    this.#worker.onmessageerror = () => {
      this.#fail(new Error("The pCPU worker sent a message that could not be read"));
    };
  }

  /** Resolves once the worker has loaded and its hypervisor exists. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  #receive(message: PcpuEventMessage): void {
    switch (message.kind) {
      case "ready":
        return;
      case "reply": {
        const pending = this.#pending.get(message.seq);
        if (!pending) return;
        this.#pending.delete(message.seq);
        if (message.ok) pending.resolve(message.result);
        else pending.reject(reviveError(message.error));
        return;
      }
      case "console":
        for (const listener of this.#console) listener(message.domid, message.bytes);
        return;
      case "shutdown":
        for (const listener of this.#shutdown) {
          listener(message.domid, message.name, message.reason);
        }
        return;
      case "destroyed":
        for (const listener of this.#destroyed) listener(message.domid, message.name);
        return;
      case "log":
        this.#onLog(message.line);
        return;
      default: {
        const unknown: never = message;
        this.#fail(new Error(`Unknown message from the pCPU worker: ${JSON.stringify(unknown)}`));
      }
    }
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#worker.terminate();
  }

  #call<K extends PcpuOp>(op: K, args: PcpuCalls[K]["args"]): Promise<PcpuCalls[K]["result"]> {
    if (this.#failure) return Promise.reject(this.#failure);
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#pending.set(seq, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ kind: "call", seq, op, args } as PcpuCallMessage);
    });
  }

  /** Listens to every domain's console output; returns a function that stops listening. */
  onConsole(listener: ConsoleBatchListener): () => void {
    this.#console.add(listener);
    return () => this.#console.delete(listener);
  }

  /** Listens to domain shutdowns; returns a function that stops listening. */
  onShutdown(listener: ShutdownListener): () => void {
    this.#shutdown.add(listener);
    return () => this.#shutdown.delete(listener);
  }

  /** Listens to domain destructions; returns a function that stops listening. */
  onDestroyed(listener: DestroyedListener): () => void {
    this.#destroyed.add(listener);
    return () => this.#destroyed.delete(listener);
  }

  /**
   * Creates a domain from a PV kernel image and runs it (unless `options.paused`). Rejects with a
   * RangeError for a bad configuration and a BuildError for a bad image; nothing is left behind.
   */
  create(
    config: DomainConfig,
    kernel: Uint8Array,
    options: PcpuCreateOptions = {},
  ): Promise<DomainSummary> {
    return this.#call("create", { config, kernel, paused: options.paused });
  }

  /** Allocates an empty, paused domain, so channels can be wired before {@link build}. */
  allocate(config: DomainConfig): Promise<DomainSummary> {
    return this.#call("allocate", { config });
  }

  /** Loads a kernel into a domain made by {@link allocate}; it stays paused. */
  build(
    domain: DomainRef,
    kernel: Uint8Array,
    options: { cmdline?: string; module?: Uint8Array } = {},
  ): Promise<DomainSummary> {
    return this.#call("build", { domain, kernel, ...options });
  }

  /** Connects two domains with an interdomain event channel; resolves to their ports. */
  bindInterdomain(a: DomainRef, b: DomainRef): Promise<[number, number]> {
    return this.#call("bindInterdomain", { a, b });
  }

  /** Pauses a domain. */
  pause(domain: DomainRef): Promise<DomainSummary> {
    return this.#call("pause", { domain });
  }

  /** Unpauses a domain. */
  unpause(domain: DomainRef): Promise<DomainSummary> {
    return this.#call("unpause", { domain });
  }

  /** Shuts a domain down with `reason` (a `SHUTDOWN_*` value). */
  shutdown(domain: DomainRef, reason: number): Promise<DomainSummary> {
    return this.#call("shutdown", { domain, reason });
  }

  /** Destroys a domain. */
  async destroy(domain: DomainRef): Promise<void> {
    await this.#call("destroy", { domain });
  }

  /** Credit scheduler parameters of one domain, or of every domain. */
  schedGet(domain?: DomainRef): Promise<SchedCreditEntry[]> {
    return this.#call("schedGet", { domain });
  }

  /** Sets a domain's credit scheduler weight and/or cap. */
  schedSet(
    domain: DomainRef,
    params: { weight?: number; cap?: number },
  ): Promise<SchedCreditEntry> {
    return this.#call("schedSet", { domain, ...params });
  }

  /** Types into a domain's console; resolves to the bytes accepted. */
  consoleInput(domain: DomainRef, bytes: Uint8Array): Promise<number> {
    return this.#call("consoleInput", { domain, bytes });
  }

  /** The recent output the hypervisor kept of a domain's console. */
  consoleHistory(domain: DomainRef): Promise<Uint8Array> {
    return this.#call("consoleHistory", { domain });
  }

  /** All guest domains. */
  list(): Promise<DomainSummary[]> {
    return this.#call("list", {});
  }

  /** The hypervisor log. */
  dmesg(): Promise<string[]> {
    return this.#call("dmesg", {});
  }

  /** Host information. */
  info(): Promise<HostInfo> {
    return this.#call("info", {});
  }

  /** The buffer of the hypervisor's wake word (to build doorbells on this side). */
  wakeBuffer(): Promise<SharedArrayBuffer> {
    return this.#call("wakeBuffer", {});
  }

  /** The memory view of a domain, for a backend serving it. */
  foreignView(domid: number): Promise<ForeignDomainView> {
    return this.#call("foreignView", { domain: domid });
  }

  #doorbellId(buffer: SharedArrayBuffer): number {
    let id = this.#doorbellIds.get(buffer);
    if (id === undefined) {
      id = ++this.#nextDoorbell;
      this.#doorbellIds.set(buffer, id);
    }
    return id;
  }

  /**
   * Binds a dom0 port to `frontPort` (unbound, for dom0) of domain `domid`, routed to `slot` of
   * the doorbell. Resolves to the dom0 port or a negative errno.
   */
  bindBackend(
    domid: number,
    frontPort: number,
    doorbell: { readonly buffer: SharedArrayBuffer },
    slot: number,
  ): Promise<number> {
    return this.#call("bindBackend", {
      domain: domid,
      frontPort,
      doorbell: this.#doorbellId(doorbell.buffer),
      buffer: doorbell.buffer,
      slot,
    });
  }

  /** Allocates a dom0 port domain `domid` may bind, routed like {@link bindBackend}. */
  offerBackendPort(
    domid: number,
    doorbell: { readonly buffer: SharedArrayBuffer },
    slot: number,
  ): Promise<number> {
    return this.#call("offerBackendPort", {
      domain: domid,
      doorbell: this.#doorbellId(doorbell.buffer),
      buffer: doorbell.buffer,
      slot,
    });
  }

  /** Closes a dom0 port made by {@link bindBackend} or {@link offerBackendPort}. */
  async unbindBackend(port: number): Promise<void> {
    await this.#call("unbindBackend", { port });
  }

  /** Ends the worker; pending calls reject. */
  close(): void {
    this.#fail(new Error("The pCPU was closed"));
  }
}

function reviveError(data: PcpuErrorData): Error {
  switch (data.name) {
    case "RangeError":
      return new RangeError(data.message);
    case "TypeError":
      return new TypeError(data.message);
    case "BuildError":
      return new BuildError(data.message);
    default:
      return new Error(data.message);
  }
}
