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
 * - Devices: every domain gets its console backend (the ring named in start-info) and the disks
 *   and vifs of its config, attached before it first runs (so its frontends find them in
 *   xenstore); hot-plugged ones (`blockAttach`, `networkAttach`) join that list and detached ones
 *   leave it, so a restarted domain gets the devices it had (vifs keep their MAC and devid). A
 *   destroyed domain's devices end with it. A disk's image (and a backend module) must be one
 *   this process may open: the toolstack checks its own permissions first and says which
 *   setting grants them (`PARAVIRT_XL_IMAGES`, `PARAVIRT_XL_MODULES`, see README).
 * - Console input goes where the guest's output last came from: the console ring once the guest
 *   switched to it (`console=ring|auto`), else the hypervisor's `console_io`.
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
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { DomainAction, XlConfig } from "./config.ts";
import type { BlockListRow, BridgeListEntry, DeviceFiles, NetworkListRow } from "./protocol.ts";
import { Xenstored } from "../xenstore/daemon.ts";
import { LocalClient } from "../xenstore/client.ts";
import { registerDomain, type XenstoreDomain } from "../xenstore_domain.ts";
import { DeviceSupervisor } from "../devices/supervisor.ts";
import type { ConsoleDevice } from "../devices/console_device.ts";
import { type DiskSpec, parseDiskSpec } from "../devices/disk_spec.ts";
import { parseVifSpec, type VifSpec } from "../devices/vif_spec.ts";
import type { VbdInfo } from "../devices/vbd.ts";
import type { VifInfo } from "../devices/vif.ts";

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
  /** The disks it has (the config's, plus hot-plugged ones), parsed. */
  disks: DiskSpec[];
  /** The vifs it has, with the MAC and devid they got, and their rules files' text. */
  vifs: { spec: VifSpec; files: DeviceFiles }[];
  /** The rules and signatures files the config's vif lines name. */
  readonly files: DeviceFiles;
  /** Its console ring's backend, once attached. */
  console?: ConsoleDevice;
  /** Whether its last output came from the console ring (input then goes there too). */
  onRing: boolean;
  /** Ring output waiting to be shown, in order (see {@link Toolstack.#ringOutput}). */
  ringQueue: Promise<void>;
}

/** Options for a {@link Toolstack}. */
export interface ToolstackOptions {
  /** Where the toolstack's and the hypervisor's log lines go (default: nowhere). */
  log?: (line: string) => void;
  /** The pCPU to drive (default: a new one). */
  pcpu?: Pcpu;
  /** The xenstore daemon (default: a new one). */
  xenstored?: Xenstored;
  /** The device supervisor (default: a new one over the pCPU and xenstored). */
  devices?: DeviceSupervisor;
}

/** The toolstack of one host. */
export class Toolstack {
  /** The pCPU the domains run on. */
  readonly pcpu: Pcpu;
  /** xenstored: every domain's `/local/domain/<id>` and its ring. */
  readonly xenstored: Xenstored;
  /** The device supervisor: every domain's console, disks and vifs. */
  readonly devices: DeviceSupervisor;
  readonly #xs: LocalClient;
  readonly #xenstore = new Map<number, XenstoreDomain>();
  /** Device and xenstore cleanups of destroyed domains still running. */
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
    this.#xs = new LocalClient(this.xenstored);
    this.devices = options.devices ?? new DeviceSupervisor({
      control: this.pcpu,
      xenstored: this.xenstored,
      log: (line) => this.#log(`xl: ${line}`),
    });
    this.pcpu.onConsole((domid, bytes) => {
      const record = this.#domains.get(domid);
      if (!record) return;
      record.onRing = false;
      this.#output(record, bytes);
    });
    this.pcpu.onShutdown((domid, _name, reason) => {
      const record = this.#domains.get(domid);
      if (!record) return;
      const job = (async () => {
        // What the guest left in its console ring is shown before the end.
        await record.console?.drain();
        await record.ringQueue;
        this.#tell(record, { kind: "end", why: "shutdown" });
        await this.#applyPolicy(record, reason);
      })().catch((error) =>
        this.#log(`xl: d${domid} "${record.config.name}": policy failed: ${error.message}`)
      );
      this.#busy.add(job);
      job.finally(() => this.#busy.delete(job));
    });
    this.pcpu.onDestroyed((domid) => {
      const entry = this.#xenstore.get(domid);
      this.#xenstore.delete(domid);
      // Its devices first (they write below its home), then its xenstore home and ring.
      const cleanup = (async () => {
        await this.devices.releaseDomain(domid).catch((error) =>
          this.#log(`xl: d${domid}: device cleanup failed: ${error.message}`)
        );
        await entry?.close().catch((error) =>
          this.#log(`xl: d${domid}: xenstore cleanup failed: ${error.message}`)
        );
      })().finally(() => this.#cleanups.delete(domid));
      this.#cleanups.set(domid, cleanup);
      const record = this.#domains.get(domid);
      if (!record) return;
      this.#tell(record, { kind: "end", why: "destroyed" });
      this.#domains.delete(domid);
    });
  }

  #output(record: DomainRecord, bytes: Uint8Array): void {
    record.history.append(bytes);
    this.#tell(record, { kind: "output", bytes });
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
    options: { ramdisk?: Uint8Array; paused?: boolean; files?: DeviceFiles } = {},
  ): Promise<DomainSummary> {
    // The device lines first: a bad one must not cost a domain.
    const base = dirname(config.file);
    const disks = config.disk.map((line) => parseDiskSpec(line, base));
    const vifs = config.vif.map((line) => ({
      spec: parseVifSpec(line, base),
      files: options.files ?? {},
    }));
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
    const record: DomainRecord = {
      domid: summary.id,
      config,
      kernel,
      ramdisk: options.ramdisk,
      history: new History(),
      subscribers: new Set(),
      restarts: [],
      disks,
      vifs,
      files: options.files ?? {},
      onRing: false,
      ringQueue: Promise.resolve(),
    };
    this.#domains.set(summary.id, record);
    await this.#setUp(record);
    this.#log(`xl: created d${summary.id} "${config.name}" from ${config.file}`);
    if (options.paused) return summary;
    return await this.pcpu.unpause(summary.id);
  }

  /**
   * Writes the domain's xenstore nodes, serves its xenstore ring, attaches its console backend,
   * disks and vifs — before it runs. If anything fails the domain is destroyed (and whatever was
   * attached with it) and the error says which device.
   */
  async #setUp(record: DomainRecord): Promise<void> {
    const { domid } = record;
    try {
      this.#xenstore.set(
        domid,
        await registerDomain(this.xenstored, this.pcpu, domid, record.config.name),
      );
      const console = await this.devices.attachConsole(domid);
      record.console = console;
      console.output.listen((bytes) => this.#ringOutput(record, bytes));
      for (const disk of record.disks) await this.#attachDisk(domid, disk);
      for (const [i, vif] of record.vifs.entries()) {
        record.vifs[i] = {
          spec: await this.#attachVif(domid, vif.spec, vif.files),
          files: vif.files,
        };
      }
    } catch (error) {
      await this.pcpu.destroy(domid);
      await this.#cleanups.get(domid);
      throw error;
    }
  }

  /**
   * Shows output from the console ring. When the guest has just switched from `console_io`, its
   * last `console_io` bytes may still sit in the pCPU's batch: a call to the pCPU first (its reply
   * follows the console output it had) keeps the two in the guest's order.
   */
  #ringOutput(record: DomainRecord, bytes: Uint8Array): void {
    record.ringQueue = record.ringQueue.then(async () => {
      if (!record.onRing) await this.pcpu.list().catch(() => {});
      if (this.#domains.get(record.domid) !== record) return;
      record.onRing = true;
      this.#output(record, bytes);
    });
  }

  /** Whether this process may open `path` (read, and write unless `readOnly`). */
  #mayOpen(path: string, readOnly: boolean): boolean {
    const granted = (name: "read" | "write") =>
      Deno.permissions.querySync({ name, path }).state === "granted";
    return granted("read") && (readOnly || granted("write"));
  }

  /** The backend module's file must be readable here (a worker loads under our permissions). */
  #checkModule(what: string, module: string | undefined): void {
    if (!module?.startsWith("file:")) return;
    const path = fileURLToPath(module);
    if (!this.#mayOpen(path, true)) {
      throw new Error(
        `${what}: the toolstack daemon may not read the backend module ${path}; backend ` +
          "modules must be under a directory of PARAVIRT_XL_MODULES when the daemon starts " +
          '("xl daemon stop", then start it again with the directory added)',
      );
    }
  }

  async #attachDisk(domid: number, spec: DiskSpec): Promise<VbdInfo> {
    const what = `Disk ${spec.vdev}`;
    if (spec.target !== undefined && !this.#mayOpen(spec.target, spec.readOnly)) {
      throw new Error(
        `${what}: the toolstack daemon may not ${spec.readOnly ? "read" : "read and write"} ` +
          `${spec.target}; disk images must be under a directory of PARAVIRT_XL_IMAGES when the ` +
          'daemon starts ("xl daemon stop", then start it again with the directory added)',
      );
    }
    this.#checkModule(what, spec.backendModule);
    try {
      return await this.devices.attachDisk(domid, spec);
    } catch (error) {
      throw prefixed(error, what);
    }
  }

  /** Attaches a vif; returns its spec with the MAC and devid it got. */
  async #attachVif(domid: number, spec: VifSpec, files: DeviceFiles): Promise<VifSpec> {
    const what = spec.mac
      ? `Vif ${spec.mac}`
      : spec.devid !== undefined
      ? `Vif ${spec.devid}`
      : "Vif";
    this.#checkModule(what, spec.backendModule);
    try {
      const info = await this.devices.attachVif(domid, spec, { files });
      return { ...spec, mac: info.mac, devid: info.devid };
    } catch (error) {
      throw prefixed(error, what);
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
      disks: [...record.disks],
      vifs: [...record.vifs],
      console: undefined,
      onRing: false,
      ringQueue: Promise.resolve(),
    };
    this.#domains.set(summary.id, restarted);
    await this.#setUp(restarted);
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
    const { id } = await this.find(ref);
    const record = this.#domains.get(id);
    if (record?.onRing && record.console) {
      await record.console.input(bytes);
      return bytes.length;
    }
    return await this.pcpu.consoleInput(id, bytes);
  }

  /** A running (not shut down) domain and its record, for hot-plugging. */
  async #live(ref: string | number): Promise<{ domain: DomainSummary; record: DomainRecord }> {
    const domain = await this.find(ref);
    const record = this.#domains.get(domain.id);
    if (!record) throw new RangeError(`Domain ${domain.id} was not created by this toolstack`);
    if (domain.flags.shutdown) {
      throw new RangeError(`Domain ${domain.id} ("${domain.name}") has shut down`);
    }
    return { domain, record };
  }

  #number(path: string): number {
    try {
      const text = this.#xs.read(path);
      return /^[0-9]{1,10}$/.test(text) ? Number(text) : -1;
    } catch {
      return -1;
    }
  }

  #blockRow(info: VbdInfo): BlockListRow {
    const f = info.frontendPath;
    return {
      devid: info.devid,
      backendId: 0,
      frontendId: info.domid,
      state: this.#number(`${f}/state`),
      eventChannel: this.#number(`${f}/event-channel`),
      ringRef: this.#number(`${f}/ring-ref`),
      backendPath: info.backendPath,
      vdev: info.vdev,
    };
  }

  #networkRow(info: VifInfo): NetworkListRow {
    return {
      devid: info.devid,
      backendId: 0,
      mac: info.mac,
      state: info.state,
      eventChannel: info.eventChannel,
      txRingRef: info.txRingRef,
      rxRingRef: info.rxRingRef,
      backendPath: info.backendPath,
      bridge: info.bridge,
    };
  }

  /** `xl block-attach`: hot-plugs a disk line (relative paths from `baseDir`). */
  async blockAttach(ref: string | number, line: string, baseDir: string): Promise<BlockListRow> {
    const spec = parseDiskSpec(line, baseDir);
    const { domain, record } = await this.#live(ref);
    const info = await this.#attachDisk(domain.id, spec);
    record.disks.push(spec);
    return this.#blockRow(info);
  }

  /**
   * `xl block-detach`: unplugs a disk (by vdev or device id). It waits for the frontend to close
   * unless `force` (or the domain has shut down: nobody will answer).
   */
  async blockDetach(ref: string | number, vdev: string, force = false): Promise<void> {
    const domain = await this.find(ref);
    const id = /^[0-9]+$/.test(vdev) ? Number(vdev) : vdev;
    const disk = this.devices.listDisks(domain.id)
      .find((d) => d.vdev === vdev || d.devid === id);
    if (!disk) throw new RangeError(`Domain ${domain.id} has no disk ${JSON.stringify(vdev)}`);
    await this.devices.detachDisk(domain.id, disk.devid, {
      force: force || domain.flags.shutdown,
    });
    const record = this.#domains.get(domain.id);
    if (record) record.disks = record.disks.filter((d) => d.devid !== disk.devid);
  }

  /** `xl block-list`: a domain's disks. */
  async blockList(ref: string | number): Promise<BlockListRow[]> {
    const domain = await this.find(ref);
    return this.devices.listDisks(domain.id).map((info) => this.#blockRow(info));
  }

  /** `xl network-attach`: hot-plugs a vif line (paths from `baseDir`, files' text from `xl`). */
  async networkAttach(
    ref: string | number,
    line: string,
    baseDir: string,
    files: DeviceFiles = {},
  ): Promise<NetworkListRow> {
    const spec = parseVifSpec(line, baseDir);
    const { domain, record } = await this.#live(ref);
    const attached = await this.#attachVif(domain.id, spec, files);
    record.vifs.push({ spec: attached, files });
    const info = this.devices.listVifs(domain.id).find((v) => v.devid === attached.devid)!;
    return this.#networkRow(info);
  }

  /** `xl network-detach`: unplugs a vif (by devid or MAC); see {@link blockDetach} on waiting. */
  async networkDetach(ref: string | number, device: string, force = false): Promise<void> {
    const domain = await this.find(ref);
    const vif = this.devices.listVifs(domain.id).find((v) =>
      device.includes(":") ? v.mac === device.toLowerCase() : String(v.devid) === device
    );
    if (!vif) throw new RangeError(`Domain ${domain.id} has no vif ${JSON.stringify(device)}`);
    await this.devices.detachVif(domain.id, vif.devid, { force: force || domain.flags.shutdown });
    const record = this.#domains.get(domain.id);
    if (record) record.vifs = record.vifs.filter((v) => v.spec.devid !== vif.devid);
  }

  /** `xl network-list`: a domain's vifs. */
  async networkList(ref: string | number): Promise<NetworkListRow[]> {
    const domain = await this.find(ref);
    return this.devices.listVifs(domain.id).map((info) => this.#networkRow(info));
  }

  /** The hypervisor log. */
  dmesg(): Promise<string[]> {
    return this.pcpu.dmesg();
  }

  /** Host information. */
  info(): Promise<HostInfo> {
    return this.pcpu.info();
  }

  /** `xl bridge-list`: the bridges and their counters. */
  async bridgeList(): Promise<BridgeListEntry[]> {
    const bridges = await this.devices.listBridges();
    return await Promise.all(bridges.map(async (b) => ({
      name: b.name,
      filters: b.filters,
      restarts: b.restarts,
      alerts: b.alerts,
      error: b.error,
      metrics: await this.devices.bridgeMetrics(b.name).catch(() => undefined),
    })));
  }

  /** Destroys every domain, ends every device and stops the pCPU. */
  async close(): Promise<void> {
    await this.settled();
    for (const domain of await this.pcpu.list()) await this.pcpu.destroy(domain.id);
    await this.settled();
    await Promise.all([...this.#cleanups.values()]);
    await this.devices.close();
    this.#xs.close();
    this.pcpu.close();
  }
}

/** The error with `what` in front of its message (same class, so the CLI's exit code holds). */
function prefixed(error: unknown, what: string): Error {
  if (!(error instanceof Error)) return new Error(`${what}: ${error}`);
  if (error.message.startsWith("Disk line") || error.message.startsWith("Vif line")) return error;
  const Class = error instanceof TypeError
    ? TypeError
    : error instanceof RangeError
    ? RangeError
    : Error;
  return new Class(`${what}: ${error.message}`);
}
