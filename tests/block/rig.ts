/**
 * The setting of the block and device tests and the block benchmark: an in-thread hypervisor,
 * xenstored, the device supervisor over `localControl(hv)`, guest domains allocated for
 * TypeScript frontends, temporary disk images — and one `cleanup()` for all of it.
 *
 * @module
 */

import { DeviceSupervisor, LocalClient, localControl, Xenstored } from "@paravirt/dom0";
import type { RestartPolicy, WatchdogOptions } from "@paravirt/dom0";
import { type Domain, Hypervisor } from "@paravirt/hypervisor";
import { TsBlkfront, type TsBlkfrontOptions } from "./ts_blkfront.ts";

/** Options of {@link blockRig}. */
export interface BlockRigOptions {
  /** The supervisor's watchdog timing. */
  readonly watchdog?: WatchdogOptions;
  /** The supervisor's restart policy. */
  readonly restarts?: RestartPolicy;
  /** `feature-max-indirect-segments`. */
  readonly maxIndirectSegments?: number;
}

/** What {@link blockRig} builds. */
export interface BlockRig {
  /** The hypervisor. */
  readonly hv: Hypervisor;
  /** xenstored. */
  readonly xenstored: Xenstored;
  /** The device supervisor. */
  readonly supervisor: DeviceSupervisor;
  /** A privileged xenstore client. */
  readonly dom0: LocalClient;
  /** The supervisor's log so far. */
  readonly log: string[];
  /** Allocates a guest domain with a home in xenstore (unbuilt: for TypeScript frontends). */
  guest(name: string, memoryMiB?: number): Domain;
  /** Makes a temporary image of `bytes` bytes filled by `fill` (default zeros). */
  image(bytes: number, fill?: (bytes: Uint8Array) => void): Promise<string>;
  /** Starts a TypeScript blkfront for `devid` of `domain` and waits until it is connected. */
  frontend(
    domain: Domain,
    devid: number,
    options?: Partial<TsBlkfrontOptions>,
  ): Promise<TsBlkfront>;
  /** Waits until `done()` holds (polling), failing with the supervisor's log after `ms`. */
  until(what: string, done: () => boolean, ms?: number): Promise<void>;
  /** Closes frontends and the supervisor, removes images. */
  cleanup(): Promise<void>;
}

/** Builds the setting. */
export function blockRig(options: BlockRigOptions = {}): BlockRig {
  const hv = new Hypervisor();
  const xenstored = new Xenstored();
  const log: string[] = [];
  const supervisor = new DeviceSupervisor({
    control: localControl(hv),
    xenstored,
    watchdog: options.watchdog,
    restarts: options.restarts,
    maxIndirectSegments: options.maxIndirectSegments,
    log: (line) => log.push(line),
  });
  const dom0 = new LocalClient(xenstored);
  const images: string[] = [];
  const frontends: TsBlkfront[] = [];
  return {
    hv,
    xenstored,
    supervisor,
    dom0,
    log,
    guest(name, memoryMiB = 4) {
      const domain = hv.allocateDomain({ name, memoryMiB });
      dom0.mkdir(`/local/domain/${domain.id}`);
      dom0.setPerms(`/local/domain/${domain.id}`, [`n${domain.id}`]);
      return domain;
    },
    async image(bytes, fill) {
      const path = await Deno.makeTempFile({ suffix: ".img" });
      images.push(path);
      const data = new Uint8Array(bytes);
      fill?.(data);
      await Deno.writeFile(path, data);
      return path;
    },
    async frontend(domain, devid, more = {}) {
      const front = new TsBlkfront({ hv, domain, xenstored, devid, ...more });
      frontends.push(front);
      await front.connect();
      return front;
    },
    async until(what, done, ms = 20_000) {
      const deadline = performance.now() + ms;
      while (!done()) {
        if (performance.now() > deadline) {
          throw new Error(`Timed out waiting for ${what}; log:\n${log.join("\n")}`);
        }
        hv.run(0);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async cleanup() {
      for (const front of frontends) await front.close();
      await supervisor.close();
      dom0.close();
      for (const path of images) await Deno.remove(path).catch(() => {});
    },
  };
}
