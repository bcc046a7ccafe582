/**
 * The device supervisor: dom0's owner of every backend device. It starts one worker per device
 * with an explicit permission set (a block device: read of its image, and write unless it is
 * read-only; a console: nothing), hands it the frontend domain's memory view and a doorbell
 * (through {@link DomainControl}), runs the backend half of the xenbus handshake through
 * xenstore, watches the workers (crash, exit, heartbeat) and restarts them.
 *
 * Networking: each vif gets a netback worker (no permissions) and a port on its bridge; a bridge
 * is a bridge worker (no permissions) with the filter chain its first vif's line configured,
 * created when its first vif arrives and stopped when its last leaves (`bridge_device.ts`).
 * A netback that dies is restarted by its vif; one that stops answering the watchdog's ping is
 * killed (and so restarted); a bridge that dies or hangs is restarted with its ports.
 *
 * The toolstack's entry points (`xl block-attach`, `block-detach`, `block-list`,
 * `network-attach`, `network-detach`, `network-list`, `console`):
 *
 * ```ts
 * const supervisor = new DeviceSupervisor({ control: localControl(hv), xenstored });
 * await supervisor.attachDisk(domid, "format=raw, vdev=xvda, access=rw, target=./disk.img");
 * supervisor.listDisks(domid);           // [{ vdev: "xvda", state: 2, stateName: "InitWait", ... }]
 * await supervisor.detachDisk(domid, "xvda");
 * await supervisor.attachVif(domid, "mac=00:16:3e:00:00:01, bridge=xenbr0, filter=./lab.rules");
 * supervisor.listVifs(domid);            // [{ devid: 0, mac: "00:16:3e:00:00:01", state: 1, ... }]
 * await supervisor.detachVif(domid, "00:16:3e:00:00:01"); // or the devid
 * const console = await supervisor.attachConsole(domid);
 * console.output.listen((bytes) => Deno.stdout.writeSync(bytes));
 * await console.input(new TextEncoder().encode("ls\n"));
 * await supervisor.releaseDomain(domid); // the domain was destroyed
 * ```
 *
 * Rules of use: one supervisor per xenstored; it owns the nodes under
 * `/local/domain/0/backend/{vbd,vif,console}` and the `device/vbd`, `device/vif` and `console`
 * directories of the guests it serves. Call {@link DeviceSupervisor.releaseDomain} when a domain dies and
 * {@link DeviceSupervisor.close} at the end (it ends every worker).
 *
 * @module
 */

import type {
  BlkbackMetrics,
  BridgeMetrics,
  FilterAlert,
  FilterSpec,
  NetbackMetrics,
} from "@paravirt/drivers";
import { LocalClient } from "../xenstore/client.ts";
import type { Xenstored } from "../xenstore/daemon.ts";
import type { DomainControl } from "../domain_control.ts";
import type { WatchdogOptions } from "./backend_worker.ts";
import { ConsoleDevice } from "./console_device.ts";
import { type DiskSpec, parseDiskSpec } from "./disk_spec.ts";
import { vdevToDevid } from "./vdev.ts";
import { type RestartPolicy, Vbd, type VbdInfo } from "./vbd.ts";
import { BridgeDevice, type BridgeInfo, type BridgeWatchdog } from "./bridge_device.ts";
import { bridgeFilters } from "./bridge_files.ts";
import { Vif, type VifInfo } from "./vif.ts";
import { parseVifSpec, randomMac, type VifSpec } from "./vif_spec.ts";

/** How to build a {@link DeviceSupervisor}. */
export interface DeviceSupervisorOptions {
  /** The hypervisor services (`localControl(hv)`, or the pCPU client). */
  readonly control: DomainControl;
  /** The xenstore daemon the guests and the toolstack use. */
  readonly xenstored: Xenstored;
  /** Heartbeat watchdog timing of every worker (default: read every 250 ms, hung after 5 s). */
  readonly watchdog?: WatchdogOptions;
  /** How often a device may fail before the supervisor gives up on it (default 5 per minute). */
  readonly restarts?: RestartPolicy;
  /** `feature-max-indirect-segments` to advertise (default 256; 0 disables indirect requests). */
  readonly maxIndirectSegments?: number;
  /** The network watchdog: how often netbacks and bridges are pinged, how long they may take. */
  readonly netWatchdog?: BridgeWatchdog;
  /** Log lines (default: dropped). */
  readonly log?: (line: string) => void;
}

/** Options of {@link DeviceSupervisor.attachVif}. */
export interface AttachVifOptions {
  /** Where relative paths of the line are taken from (default: the working directory). */
  readonly baseDir?: string;
  /**
   * The text of the rules and signatures files the line names, by absolute path (the toolstack
   * daemon gets them from `xl`, which read them as the user). Absent: the files are read here.
   */
  readonly files?: Readonly<Record<string, string>>;
}

interface BridgeEntry {
  readonly device: Promise<BridgeDevice>;
  /** The filter chain as canonical JSON (what a later vif's files must match). */
  key: string;
  /** Where its filters came from, for messages. */
  origin: string;
  users: number;
  /** Settles once the bridge runs with the chain `key` names. */
  ready: Promise<void>;
}

/** dom0's device supervisor. */
export class DeviceSupervisor {
  readonly #options: DeviceSupervisorOptions;
  readonly #xs: LocalClient;
  readonly #disks = new Map<string, Vbd>();
  readonly #consoles = new Map<number, ConsoleDevice>();
  readonly #vifs = new Map<string, Vif>();
  readonly #bridges = new Map<string, BridgeEntry>();
  #netTimer: ReturnType<typeof setInterval> | undefined;
  readonly #pinging = new Set<Vif>();
  readonly #stopping = new Set<Promise<void>>();
  #closed = false;

  /** Creates a supervisor with its own privileged xenstore connection. */
  constructor(options: DeviceSupervisorOptions) {
    this.#options = options;
    this.#xs = new LocalClient(options.xenstored, {
      onWatch: (event) => {
        for (const disk of this.#disks.values()) {
          if (disk.token === event.token) disk.onWatch();
        }
        for (const vif of this.#vifs.values()) {
          if (vif.token === event.token) vif.onWatch();
        }
      },
    });
  }

  #log = (line: string): void => this.#options.log?.(`devices: ${line}`);

  #key(domid: number, devid: number): string {
    return `${domid}/${devid}`;
  }

  #find(domid: number, vdev: string | number): Vbd {
    const devid = typeof vdev === "number" ? vdev : vdevToDevid(vdev);
    const disk = this.#disks.get(this.#key(domid, devid));
    if (!disk) throw new RangeError(`Domain ${domid} has no disk ${vdev}`);
    return disk;
  }

  /**
   * Hot-plugs a disk (`xl block-attach <domid> <disk line>`; also how `xl create` attaches the
   * config's disks): resolves with the device once its backend is open and in InitWait. Rejects
   * with a TypeError for a bad line, a RangeError for an unknown domain or a device id in use, and
   * an Error when the disk cannot be opened; nothing is left behind then.
   */
  async attachDisk(
    domid: number,
    disk: string | DiskSpec,
    options: { baseDir?: string } = {},
  ): Promise<VbdInfo> {
    if (this.#closed) throw new Error("The device supervisor is closed");
    const spec = typeof disk === "string" ? parseDiskSpec(disk, options.baseDir) : disk;
    await this.#options.control.foreignView(domid); // rejects for an unknown domain
    const key = this.#key(domid, spec.devid);
    if (this.#disks.has(key)) {
      throw new RangeError(`Domain ${domid} already has a disk ${spec.vdev} (${spec.devid})`);
    }
    const vbd = new Vbd(domid, spec, {
      control: this.#options.control,
      xs: this.#xs,
      watchdog: this.#options.watchdog,
      restarts: this.#options.restarts,
      maxIndirectSegments: this.#options.maxIndirectSegments,
      log: this.#log,
    });
    this.#disks.set(key, vbd);
    vbd.removed.then(() => {
      if (this.#disks.get(key) === vbd) this.#disks.delete(key);
    });
    await vbd.start();
    return vbd.info();
  }

  /**
   * Unplugs a disk (`xl block-detach <domid> <vdev>`): the backend goes Closing; once the
   * frontend has closed (or at once with `force`, or after `timeoutMs`, default 10 s) the worker
   * ends and the nodes go. Rejects with a RangeError for an unknown disk.
   */
  async detachDisk(
    domid: number,
    vdev: string | number,
    options: { force?: boolean; timeoutMs?: number } = {},
  ): Promise<void> {
    await this.#find(domid, vdev).detach(options);
  }

  /** The disks of `domid` (or of every domain), as `xl block-list` shows them. */
  listDisks(domid?: number): VbdInfo[] {
    return [...this.#disks.values()]
      .filter((d) => domid === undefined || d.domid === domid)
      .sort((a, b) => a.domid - b.domid || a.devid - b.devid)
      .map((d) => d.info());
  }

  /** blkback's counters of a disk (undefined while its worker is down). */
  diskMetrics(domid: number, vdev: string | number): Promise<BlkbackMetrics | undefined> {
    return this.#find(domid, vdev).metrics();
  }

  /** Terminates a disk's worker as a crash would (fault injection); the device recovers. */
  killDisk(domid: number, vdev: string | number): void {
    this.#find(domid, vdev).kill();
  }

  /**
   * Serves `domid`'s console ring (named in its start-info); `xl create` calls it once the domain
   * is built. Rejects if the domain has no console ring or already has a console.
   */
  async attachConsole(domid: number): Promise<ConsoleDevice> {
    if (this.#closed) throw new Error("The device supervisor is closed");
    if (this.#consoles.has(domid)) throw new RangeError(`Domain ${domid} already has a console`);
    const device = new ConsoleDevice(domid, {
      control: this.#options.control,
      xs: this.#xs,
      watchdog: this.#options.watchdog,
      log: this.#log,
    });
    this.#consoles.set(domid, device);
    try {
      await device.start();
    } catch (error) {
      this.#consoles.delete(domid);
      await device.close();
      throw error;
    }
    return device;
  }

  /** The console of `domid`, if served (`xl console`). */
  console(domid: number): ConsoleDevice | undefined {
    return this.#consoles.get(domid);
  }

  /**
   * Hot-plugs a network interface (`xl network-attach <domid> <vif line>`; also how `xl create`
   * attaches the config's vifs): writes both directories, joins (or creates) its bridge, and
   * resolves once the backend is in InitWait. Rejects with a TypeError for a bad line or a bad
   * rules/signatures file, a RangeError for an unknown domain, a device id or MAC in use, or a
   * bridge already running with other filters; nothing is left behind then.
   */
  async attachVif(
    domid: number,
    vif: string | VifSpec,
    options: AttachVifOptions = {},
  ): Promise<VifInfo> {
    if (this.#closed) throw new Error("The device supervisor is closed");
    const spec = typeof vif === "string" ? parseVifSpec(vif, options.baseDir) : vif;
    const filters = await this.#filtersOf(spec, options.files);
    await this.#options.control.foreignView(domid); // rejects for an unknown domain
    const mine = [...this.#vifs.values()].filter((v) => v.domid === domid);
    const devid = spec.devid ?? (mine.length === 0 ? 0 : Math.max(...mine.map((v) => v.devid)) + 1);
    if (devid > 0xffff) throw new RangeError(`Domain ${domid} has no free vif device id`);
    const key = this.#key(domid, devid);
    if (this.#vifs.has(key)) throw new RangeError(`Domain ${domid} already has a vif ${devid}`);
    const onBridge = new Set(
      [...this.#vifs.values()].filter((v) => v.bridge.name === spec.bridge).map((v) => v.mac),
    );
    let mac = spec.mac;
    if (mac !== undefined && onBridge.has(mac)) {
      throw new RangeError(`MAC ${mac} is already on bridge ${spec.bridge}`);
    }
    while (mac === undefined || onBridge.has(mac)) mac = randomMac();
    const { entry, ready } = this.#joinBridge(spec.bridge, filters, `vif ${domid}/${devid}`);
    let device: Vif | undefined;
    try {
      const bridge = await entry.device;
      await ready;
      if (this.#vifs.has(key)) throw new RangeError(`Domain ${domid} already has a vif ${devid}`);
      device = new Vif({
        domid,
        devid,
        mac,
        bridge,
        ip: spec.ip,
        backend: spec.backend,
        backendModule: spec.backendModule,
      }, {
        control: this.#options.control,
        xs: this.#xs,
        maxRestarts: this.#options.restarts?.max,
        log: this.#log,
      });
      this.#vifs.set(key, device);
      const added = device;
      added.removed.then(() => {
        if (this.#vifs.get(key) === added) this.#vifs.delete(key);
        this.#leaveBridge(spec.bridge, entry);
      });
      await device.start();
    } catch (error) {
      if (device) await device.release();
      else this.#leaveBridge(spec.bridge, entry);
      throw error;
    }
    this.#startNetWatchdog();
    return device.info();
  }

  /** The filter chain a vif line asks for (undefined: it names no files). */
  async #filtersOf(
    spec: VifSpec,
    files: Readonly<Record<string, string>> | undefined,
  ): Promise<FilterSpec[] | undefined> {
    if (spec.filter === undefined && spec.ids === undefined) return undefined;
    const read = async (path: string) => {
      if (files) {
        const text = files[path];
        if (text === undefined) throw new TypeError(`The text of ${path} was not sent`);
        return text;
      }
      try {
        return await Deno.readTextFile(path);
      } catch (error) {
        throw new TypeError(`Cannot read ${path}: ${(error as Error).message}`);
      }
    };
    return bridgeFilters({
      rules: spec.filter === undefined
        ? undefined
        : { text: await read(spec.filter), file: spec.filter },
      signatures: spec.ids === undefined
        ? undefined
        : { text: await read(spec.ids), file: spec.ids },
    });
  }

  /**
   * The bridge `name`, started with `filters` if it is not running; counts one more user. A
   * running bridge without filters takes the `filters` a joining vif names; one with filters
   * refuses different ones.
   */
  #joinBridge(
    name: string,
    filters: FilterSpec[] | undefined,
    who: string,
  ): { entry: BridgeEntry; ready: Promise<void> } {
    const key = JSON.stringify(filters ?? []);
    const entry = this.#bridges.get(name);
    if (entry) {
      if (filters !== undefined && entry.key !== key) {
        if (entry.key !== "[]") {
          throw new RangeError(
            `Bridge ${name} already runs with other filters (set by ${entry.origin}); ` +
              "a vif joining it must name the same rules and signatures, or none",
          );
        }
        entry.key = key;
        entry.origin = who;
        const step = entry.ready.then(async () => (await entry.device).reconfigure(filters));
        // Only this vif fails if the new chain does not load; the bridge keeps none.
        entry.ready = step.catch(() => {
          if (entry.key === key) entry.key = "[]";
        });
        entry.users++;
        return { entry, ready: step };
      }
      entry.users++;
      return { entry, ready: entry.ready };
    }
    const device = BridgeDevice.start(name, filters ?? [], {
      watchdog: this.#options.netWatchdog,
      restarts: this.#options.restarts,
      log: this.#log,
    });
    const created: BridgeEntry = {
      device,
      key,
      origin: who,
      users: 1,
      ready: device.then(() => {}),
    };
    this.#bridges.set(name, created);
    device.catch(() => {
      if (this.#bridges.get(name) === created) this.#bridges.delete(name);
    });
    return { entry: created, ready: created.ready };
  }

  /** One user fewer; the last one stops the bridge. */
  #leaveBridge(name: string, entry: BridgeEntry): void {
    if (--entry.users > 0) return;
    if (this.#bridges.get(name) === entry) this.#bridges.delete(name);
    const stopping = entry.device.then((device) => device.stop()).catch(() => {});
    this.#stopping.add(stopping);
    stopping.finally(() => this.#stopping.delete(stopping));
  }

  #findVif(domid: number, id: string | number): Vif {
    const text = String(id);
    const vif = text.includes(":")
      ? [...this.#vifs.values()].find((v) => v.domid === domid && v.mac === text.toLowerCase())
      : /^[0-9]+$/.test(text)
      ? this.#vifs.get(this.#key(domid, Number(text)))
      : undefined;
    if (!vif) throw new RangeError(`Domain ${domid} has no vif ${JSON.stringify(text)}`);
    return vif;
  }

  /**
   * Unplugs a vif (`xl network-detach <domid> <devid|mac>`): the netback stops, the backend goes
   * Closed; once the frontend is no longer connected (or at once with `force`, or after
   * `timeoutMs`, default 10 s) both directories go, and the bridge too if it was its last port.
   * Rejects with a RangeError for an unknown vif.
   */
  async detachVif(
    domid: number,
    id: string | number,
    options: { force?: boolean; timeoutMs?: number } = {},
  ): Promise<void> {
    const vif = this.#findVif(domid, id);
    await vif.detach(options);
    await vif.removed;
    await Promise.all([...this.#stopping]); // its bridge, if it was the last port
  }

  /** The vifs of `domid` (or of every domain), as `xl network-list` shows them. */
  listVifs(domid?: number): VifInfo[] {
    return [...this.#vifs.values()]
      .filter((v) => domid === undefined || v.domid === domid)
      .sort((a, b) => a.domid - b.domid || a.devid - b.devid)
      .map((v) => v.info());
  }

  /** Netback's counters of a vif (undefined while it is not connected). */
  vifMetrics(domid: number, id: string | number): Promise<NetbackMetrics | undefined> {
    return this.#findVif(domid, id).metrics();
  }

  /** Kills a vif's netback worker as a crash would (fault injection); it is restarted. */
  killVif(domid: number, id: string | number): void {
    this.#findVif(domid, id).kill();
  }

  /** The running bridges. */
  async listBridges(): Promise<BridgeInfo[]> {
    const devices = await Promise.all(
      [...this.#bridges.values()].map((e) => e.device.catch(() => undefined)),
    );
    return devices.filter((d) => d !== undefined).map((d) => d.info())
      .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  async #bridge(name: string): Promise<BridgeDevice> {
    const entry = this.#bridges.get(name);
    if (!entry) throw new RangeError(`There is no bridge ${JSON.stringify(name)}`);
    return await entry.device;
  }

  /** A bridge's counters: ports, MAC table, every filter. */
  async bridgeMetrics(name: string): Promise<BridgeMetrics> {
    return await (await this.#bridge(name)).metrics();
  }

  /** The alerts a bridge's filters raised (the newest few hundred). */
  async bridgeAlerts(name: string): Promise<FilterAlert[]> {
    return (await this.#bridge(name)).alerts();
  }

  /** Kills a bridge's worker as a crash would (fault injection); it is restarted with its ports. */
  async killBridge(name: string): Promise<void> {
    (await this.#bridge(name)).kill();
  }

  /** Pings every connected netback now and then; kills one that does not answer. */
  #startNetWatchdog(): void {
    if (this.#netTimer !== undefined) return;
    const timeoutMs = this.#options.netWatchdog?.timeoutMs ?? 5000;
    this.#netTimer = setInterval(() => {
      for (const vif of this.#vifs.values()) {
        if (this.#pinging.has(vif)) continue;
        this.#pinging.add(vif);
        vif.ping(timeoutMs).then((answered) => {
          if (answered === false && this.#vifs.get(this.#key(vif.domid, vif.devid)) === vif) {
            this.#log(`vif ${vif.domid}/${vif.devid}: netback does not answer; killing it`);
            vif.kill();
          }
        }).finally(() => this.#pinging.delete(vif));
      }
    }, this.#options.netWatchdog?.intervalMs ?? 1000);
  }

  /** A domain died: ends its devices' workers and removes their nodes, without waiting for it. */
  async releaseDomain(domid: number): Promise<void> {
    const disks = [...this.#disks.values()].filter((d) => d.domid === domid);
    const vifs = [...this.#vifs.values()].filter((v) => v.domid === domid);
    await Promise.all([...disks.map((d) => d.release()), ...vifs.map((v) => v.release())]);
    const console = this.#consoles.get(domid);
    this.#consoles.delete(domid);
    await console?.close();
    await Promise.all([...this.#stopping]); // bridges that lost their last port
  }

  /** Ends every device and the xenstore connection. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#netTimer);
    const domains = new Set([...this.#disks.values()].map((d) => d.domid));
    for (const domid of this.#consoles.keys()) domains.add(domid);
    for (const vif of this.#vifs.values()) domains.add(vif.domid);
    for (const domid of domains) await this.releaseDomain(domid);
    const bridges = [...this.#bridges.values()];
    this.#bridges.clear();
    await Promise.all(bridges.map((e) => e.device.then((d) => d.stop()).catch(() => {})));
    await Promise.all([...this.#stopping]);
    this.#xs.close();
  }
}
