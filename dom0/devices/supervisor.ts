/**
 * The device supervisor: dom0's owner of every backend device. It starts one worker per device
 * with an explicit permission set (a block device: read of its image, and write unless it is
 * read-only; a console: nothing), hands it the frontend domain's memory view and a doorbell
 * (through {@link DomainControl}), runs the backend half of the xenbus handshake through
 * xenstore, watches the workers (crash, exit, heartbeat) and restarts them.
 *
 * The toolstack's entry points (`xl block-attach`, `block-detach`, `block-list`, `console`):
 *
 * ```ts
 * const supervisor = new DeviceSupervisor({ control: localControl(hv), xenstored });
 * await supervisor.attachDisk(domid, "format=raw, vdev=xvda, access=rw, target=./disk.img");
 * supervisor.listDisks(domid);           // [{ vdev: "xvda", state: 2, stateName: "InitWait", ... }]
 * await supervisor.detachDisk(domid, "xvda");
 * const console = await supervisor.attachConsole(domid);
 * console.output.listen((bytes) => Deno.stdout.writeSync(bytes));
 * await console.input(new TextEncoder().encode("ls\n"));
 * await supervisor.releaseDomain(domid); // the domain was destroyed
 * ```
 *
 * Rules of use: one supervisor per xenstored; it owns the nodes under
 * `/local/domain/0/backend/{vbd,console}` and the `device/vbd` and `console` directories of the
 * guests it serves. Call {@link DeviceSupervisor.releaseDomain} when a domain dies and
 * {@link DeviceSupervisor.close} at the end (it ends every worker).
 *
 * @module
 */

import type { BlkbackMetrics } from "@paravirt/drivers";
import { LocalClient } from "../xenstore/client.ts";
import type { Xenstored } from "../xenstore/daemon.ts";
import type { DomainControl } from "../domain_control.ts";
import type { WatchdogOptions } from "./backend_worker.ts";
import { ConsoleDevice } from "./console_device.ts";
import { type DiskSpec, parseDiskSpec } from "./disk_spec.ts";
import { vdevToDevid } from "./vdev.ts";
import { type RestartPolicy, Vbd, type VbdInfo } from "./vbd.ts";

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
  /** Log lines (default: dropped). */
  readonly log?: (line: string) => void;
}

/** dom0's device supervisor. */
export class DeviceSupervisor {
  readonly #options: DeviceSupervisorOptions;
  readonly #xs: LocalClient;
  readonly #disks = new Map<string, Vbd>();
  readonly #consoles = new Map<number, ConsoleDevice>();
  #closed = false;

  /** Creates a supervisor with its own privileged xenstore connection. */
  constructor(options: DeviceSupervisorOptions) {
    this.#options = options;
    this.#xs = new LocalClient(options.xenstored, {
      onWatch: (event) => {
        for (const disk of this.#disks.values()) {
          if (disk.token === event.token) disk.onWatch();
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

  /** A domain died: ends its devices' workers and removes their nodes, without waiting for it. */
  async releaseDomain(domid: number): Promise<void> {
    const disks = [...this.#disks.values()].filter((d) => d.domid === domid);
    await Promise.all(disks.map((d) => d.release()));
    const console = this.#consoles.get(domid);
    this.#consoles.delete(domid);
    await console?.close();
  }

  /** Ends every device and the xenstore connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const domains = new Set([...this.#disks.values()].map((d) => d.domid));
    for (const domid of this.#consoles.keys()) domains.add(domid);
    for (const domid of domains) await this.releaseDomain(domid);
    this.#xs.close();
  }
}
