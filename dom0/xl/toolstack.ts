/**
 * The toolstack's state and operations, without any socket: it owns one {@link Pcpu}, remembers
 * each domain's config and images, keeps its console history, and applies the config's
 * `on_poweroff` / `on_reboot` / `on_crash` policy when a domain shuts down (Xen's libxl plus the
 * domain-monitoring half of `xl create`).
 *
 * Rules of use:
 * - Domains are named by id or name ({@link Toolstack.find}); every operation on an unknown domain
 *   throws a RangeError saying so.
 * - A domain that keeps crashing under `restart` is restarted at most {@link RESTART_BURST} times
 *   in {@link RESTART_WINDOW_MS}; then it is preserved (shut down, in `xl list`) and the log says
 *   why, so a broken guest cannot spin the host.
 * - Console listeners must not throw (one that does is dropped); they hear `end` once when the
 *   domain shuts down or is destroyed.
 *
 * @module
 */

import {
  type DomainSummary,
  type HostInfo,
  Pcpu,
  type SchedCreditEntry,
} from "@paravirt/hypervisor";
import {
  SHUTDOWN_crash,
  SHUTDOWN_poweroff,
  SHUTDOWN_reboot,
  SHUTDOWN_suspend,
  SHUTDOWN_watchdog,
} from "@paravirt/public";
import type { DomainAction, XlConfig } from "./config.ts";
import { Xenstored } from "../xenstore/daemon.ts";
import { registerDomain, type XenstoreDomain } from "../xenstore_domain.ts";

/** Console output kept per domain for `xl console` (bytes). */
export const CONSOLE_HISTORY_BYTES = 64 * 1024;
/** Most restarts of one domain within {@link RESTART_WINDOW_MS}. */
export const RESTART_BURST = 5;
/** The window the restart limit counts in. */
export const RESTART_WINDOW_MS = 10_000;

/** What a console subscriber hears. */
export type ConsoleEvent =
  | { readonly kind: "output"; readonly bytes: Uint8Array }
  | { readonly kind: "end"; readonly why: "shutdown" | "destroyed" };

/** Receives a domain's console events. */
export type ConsoleSubscriber = (event: ConsoleEvent) => void;

/** A domain as the toolstack knows it. */
export interface ToolstackDomain {
  /** Domain id. */
  readonly domid: number;
  /** The config it was created from. */
  readonly config: XlConfig;
}

/** Names of the SHUTDOWN_* reasons, as xl prints them. */
export const SHUTDOWN_NAMES: Readonly<Record<number, string>> = {
  [SHUTDOWN_poweroff]: "poweroff",
  [SHUTDOWN_reboot]: "reboot",
  [SHUTDOWN_suspend]: "suspend",
  [SHUTDOWN_crash]: "crash",
  [SHUTDOWN_watchdog]: "watchdog",
};

/** A bounded byte history (the newest bytes win). */
class History {
  #bytes = new Uint8Array(CONSOLE_HISTORY_BYTES);
  #length = 0;

  append(bytes: Uint8Array): void {
    const keep = this.#bytes.length;
    if (bytes.length >= keep) {
      this.#bytes.set(bytes.subarray(bytes.length - keep));
      this.#length = keep;
      return;
    }
    const overflow = this.#length + bytes.length - keep;
    if (overflow > 0) {
      this.#bytes.copyWithin(0, overflow, this.#length);
      this.#length -= overflow;
    }
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  snapshot(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }
}

interface DomainRecord {
  domid: number;
  readonly config: XlConfig;
  readonly kernel: Uint8Array;
  readonly ramdisk: Uint8Array | undefined;
  readonly history: History;
  readonly subscribers: Set<ConsoleSubscriber>;
  /** Times (ms) of recent restarts. */
  restarts: number[];
}

/** Options for a {@link Toolstack}. */
export interface ToolstackOptions {
  /** Where the toolstack's and the hypervisor's log lines go (default: nowhere). */
  log?: (line: string) => void;
  /** The pCPU to drive (default: a new one). */
  pcpu?: Pcpu;
  /** The xenstore daemon (default: a new one). */
  xenstored?: Xenstored;
}

/** The toolstack of one host. */
export class Toolstack {
  /** The pCPU the domains run on. */
  readonly pcpu: Pcpu;
  /** xenstored: every domain's `/local/domain/<id>` and its ring. */
  readonly xenstored: Xenstored;
  readonly #xenstore = new Map<number, XenstoreDomain>();
  /** Xenstore cleanups of destroyed domains still running. */
  readonly #cleanups = new Map<number, Promise<void>>();
  /** Wall-clock time the toolstack started (ms). */
  readonly startedAt: number = Date.now();
  readonly #log: (line: string) => void;
  readonly #domains = new Map<number, DomainRecord>();
  /** Policy actions in flight (a test or a shutdown can wait for them). */
  readonly #busy = new Set<Promise<void>>();

  /** Starts a pCPU (unless one is given) and listens to it. */
  constructor(options: ToolstackOptions = {}) {
    this.#log = options.log ?? (() => {});
    this.pcpu = options.pcpu ?? new Pcpu({ onLog: (line) => this.#log(line) });
    this.xenstored = options.xenstored ?? new Xenstored();
    this.pcpu.onConsole((domid, bytes) => {
      const record = this.#domains.get(domid);
      if (!record) return;
      record.history.append(bytes);
      this.#tell(record, { kind: "output", bytes });
    });
    this.pcpu.onShutdown((domid, _name, reason) => {
      const record = this.#domains.get(domid);
      if (!record) return;
      this.#tell(record, { kind: "end", why: "shutdown" });
      const job = this.#applyPolicy(record, reason).catch((error) =>
        this.#log(`xl: d${domid} "${record.config.name}": policy failed: ${error.message}`)
      );
      this.#busy.add(job);
      job.finally(() => this.#busy.delete(job));
    });
    this.pcpu.onDestroyed((domid) => {
      const entry = this.#xenstore.get(domid);
      this.#xenstore.delete(domid);
      if (entry) {
        const cleanup = entry.close().catch((error) =>
          this.#log(`xl: d${domid}: xenstore cleanup failed: ${error.message}`)
        ).finally(() => this.#cleanups.delete(domid));
        this.#cleanups.set(domid, cleanup);
      }
      const record = this.#domains.get(domid);
      if (!record) return;
      this.#tell(record, { kind: "end", why: "destroyed" });
      this.#domains.delete(domid);
    });
  }

  #tell(record: DomainRecord, event: ConsoleEvent): void {
    for (const subscriber of record.subscribers) {
      try {
        subscriber(event);
      } catch {
        record.subscribers.delete(subscriber);
      }
    }
    if (event.kind === "end") record.subscribers.clear();
  }

  /** Waits until no shutdown policy is being applied. */
  async settled(): Promise<void> {
    while (this.#busy.size > 0) await Promise.all([...this.#busy]);
  }

  /**
   * Creates a domain from a config and its images; it runs unless `paused`. Rejects with the
   * hypervisor's error (RangeError for the config, BuildError for the image).
   */
  async create(
    config: XlConfig,
    kernel: Uint8Array,
    options: { ramdisk?: Uint8Array; paused?: boolean } = {},
  ): Promise<DomainSummary> {
    const summary = await this.pcpu.create(
      {
        name: config.name,
        memoryMiB: config.memoryMiB,
        maxMemoryMiB: config.maxMemoryMiB,
        vcpus: config.vcpus,
        cmdline: config.cmdline,
        module: options.ramdisk,
        weight: config.weight,
        cap: config.cap,
      },
      kernel,
      { paused: true },
    );
    this.#domains.set(summary.id, {
      domid: summary.id,
      config,
      kernel,
      ramdisk: options.ramdisk,
      history: new History(),
      subscribers: new Set(),
      restarts: [],
    });
    await this.#registerInXenstore(summary.id, config.name);
    this.#log(`xl: created d${summary.id} "${config.name}" from ${config.file}`);
    if (options.paused) return summary;
    return await this.pcpu.unpause(summary.id);
  }

  /** Writes the domain's xenstore nodes and serves its ring (destroying it if that fails). */
  async #registerInXenstore(domid: number, name: string): Promise<void> {
    try {
      this.#xenstore.set(domid, await registerDomain(this.xenstored, this.pcpu, domid, name));
    } catch (error) {
      await this.pcpu.destroy(domid);
      throw error;
    }
  }

  async #applyPolicy(record: DomainRecord, reason: number): Promise<void> {
    const { config } = record;
    let action: DomainAction;
    switch (reason) {
      case SHUTDOWN_poweroff:
        action = config.onPoweroff;
        break;
      case SHUTDOWN_reboot:
        action = config.onReboot;
        break;
      case SHUTDOWN_crash:
        action = config.onCrash;
        break;
      case SHUTDOWN_suspend:
        // A suspended domain waits for save/restore (a later issue): keep it.
        action = "preserve";
        break;
      default:
        action = "destroy";
    }
    const why = SHUTDOWN_NAMES[reason] ?? `reason ${reason}`;
    if (action === "restart") {
      const now = Date.now();
      record.restarts = record.restarts.filter((t) => now - t < RESTART_WINDOW_MS);
      if (record.restarts.length >= RESTART_BURST) {
        this.#log(
          `xl: d${record.domid} "${config.name}" ${why}: restarted ${RESTART_BURST} times in ` +
            `${RESTART_WINDOW_MS / 1000} s, preserving it instead`,
        );
        return;
      }
      record.restarts.push(now);
    }
    this.#log(`xl: d${record.domid} "${config.name}" ${why}: ${action}`);
    if (action === "preserve") return;
    await this.pcpu.destroy(record.domid);
    if (action === "destroy") return;
    const summary = await this.pcpu.create(
      {
        name: config.name,
        memoryMiB: config.memoryMiB,
        maxMemoryMiB: config.maxMemoryMiB,
        vcpus: config.vcpus,
        cmdline: config.cmdline,
        module: record.ramdisk,
        weight: config.weight,
        cap: config.cap,
      },
      record.kernel,
      { paused: true },
    );
    // The same record lives on under the new id, with its restart history; its console is new.
    // It is registered before the domain runs, so no output is missed.
    const restarted: DomainRecord = {
      ...record,
      domid: summary.id,
      history: new History(),
      subscribers: new Set(),
    };
    this.#domains.set(summary.id, restarted);
    await this.#registerInXenstore(summary.id, config.name);
    await this.pcpu.unpause(summary.id);
    this.#log(`xl: restarted "${config.name}" as d${summary.id}`);
  }

  /** The domain `ref` names (an id, or a name); throws a RangeError if there is none. */
  async find(ref: string | number): Promise<DomainSummary> {
    const domains = await this.pcpu.list();
    const text = String(ref);
    const found = /^[0-9]+$/.test(text)
      ? domains.find((d) => d.id === Number(text))
      : domains.find((d) => d.name === text);
    if (!found) throw new RangeError(`Domain ${JSON.stringify(text)} does not exist`);
    return found;
  }

  /** The toolstack's record of a domain, if it created it. */
  record(domid: number): ToolstackDomain | undefined {
    const record = this.#domains.get(domid);
    return record && { domid: record.domid, config: record.config };
  }

  /** Every guest domain. */
  list(): Promise<DomainSummary[]> {
    return this.pcpu.list();
  }

  /** Destroys a domain (whatever its policy); resolves when its xenstore nodes are gone too. */
  async destroy(ref: string | number): Promise<void> {
    const { id } = await this.find(ref);
    await this.pcpu.destroy(id);
    await this.#cleanups.get(id);
  }

  /** Pauses a domain. */
  async pause(ref: string | number): Promise<DomainSummary> {
    return await this.pcpu.pause((await this.find(ref)).id);
  }

  /** Unpauses a domain. */
  async unpause(ref: string | number): Promise<DomainSummary> {
    return await this.pcpu.unpause((await this.find(ref)).id);
  }

  /**
   * Shuts a domain down with `reason` (default poweroff); its config's policy then applies. The
   * hypervisor stops it at once (a guest-cooperative shutdown through xenstore comes later).
   */
  async shutdown(ref: string | number, reason: number = SHUTDOWN_poweroff): Promise<DomainSummary> {
    const domain = await this.find(ref);
    if (domain.flags.shutdown) {
      throw new RangeError(`Domain ${domain.id} ("${domain.name}") has already shut down`);
    }
    return await this.pcpu.shutdown(domain.id, reason);
  }

  /** Credit scheduler parameters of one domain, or of all. */
  async schedGet(ref?: string | number): Promise<SchedCreditEntry[]> {
    if (ref === undefined) return await this.pcpu.schedGet();
    return await this.pcpu.schedGet((await this.find(ref)).id);
  }

  /** Sets a domain's weight and/or cap. */
  async schedSet(
    ref: string | number,
    params: { weight?: number; cap?: number },
  ): Promise<SchedCreditEntry> {
    return await this.pcpu.schedSet((await this.find(ref)).id, params);
  }

  /**
   * Attaches to a domain's console: `subscriber` hears the recent history first, then the live
   * output, then `end` (at once, if the domain has already shut down). Returns the domain and a
   * function that detaches.
   */
  async attach(
    ref: string | number,
    subscriber: ConsoleSubscriber,
  ): Promise<{ domain: DomainSummary; detach: () => void }> {
    const domain = await this.find(ref);
    const record = this.#domains.get(domain.id);
    if (!record) throw new RangeError(`Domain ${domain.id} has no console the toolstack knows`);
    const history = record.history.snapshot();
    try {
      if (history.length > 0) subscriber({ kind: "output", bytes: history });
      if (domain.flags.shutdown) {
        subscriber({ kind: "end", why: "shutdown" });
        return { domain, detach: () => {} };
      }
    } catch {
      // A subscriber that throws is not kept.
      return { domain, detach: () => {} };
    }
    record.subscribers.add(subscriber);
    return { domain, detach: () => record.subscribers.delete(subscriber) };
  }

  /** Types into a domain's console; resolves to the bytes accepted. */
  async consoleInput(ref: string | number, bytes: Uint8Array): Promise<number> {
    return await this.pcpu.consoleInput((await this.find(ref)).id, bytes);
  }

  /** The hypervisor log. */
  dmesg(): Promise<string[]> {
    return this.pcpu.dmesg();
  }

  /** Host information. */
  info(): Promise<HostInfo> {
    return this.pcpu.info();
  }

  /** Destroys every domain and stops the pCPU. */
  async close(): Promise<void> {
    await this.settled();
    for (const domain of await this.pcpu.list()) await this.pcpu.destroy(domain.id);
    await this.settled();
    this.pcpu.close();
  }
}
