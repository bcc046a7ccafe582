/**
 * The frontends' end-to-end harness: an in-thread hypervisor, xenstored with dom0's client, PV
 * kernel guests whose xenstore rings are served (`connectXenstore`), and the loop that runs the
 * hypervisor while letting main-thread services (xenstored's ring pumps, backends) run between
 * slices.
 *
 * Rules of use: create the host, create guests (paused, their home path made and their ring
 * served), set up devices, unpause, then {@link runGuests}. A step callback runs between slices
 * (the test's dom0 side: it may read and write xenstore, kill or restart backends). Everything a
 * test starts is closed by {@link FrontendHost.close}.
 *
 * @module
 */

import { type Domain, Hypervisor } from "@paravirt/hypervisor";
import {
  connectXenstore,
  type DomainControl,
  LocalClient,
  localControl,
  Xenstored,
  type XenstoreLink,
} from "@paravirt/dom0";
import { guestImagePath } from "@paravirt/guests";

/** The host side of a frontend test. */
export interface FrontendHost {
  /** The hypervisor (run on this thread). */
  readonly hv: Hypervisor;
  /** xenstored. */
  readonly xenstored: Xenstored;
  /** Domain 0's xenstore client. */
  readonly dom0: LocalClient;
  /** What dom0 services ask of the hypervisor. */
  readonly control: DomainControl;
  /** Closes every xenstore link made by {@link createGuest}. */
  close(): Promise<void>;
}

/** A PV kernel guest and its console. */
export interface Guest {
  /** The domain. */
  readonly domain: Domain;
  /** Its home path in xenstore. */
  readonly home: string;
  /** Console output so far. */
  output(): string;
}

const links = new WeakMap<FrontendHost, XenstoreLink[]>();
const yields = new WeakMap<FrontendHost, () => Promise<void>>();

/**
 * A yield to the event loop through a MessageChannel: a `setTimeout(0)` costs a millisecond or
 * more in Deno, which would cap how often backends on this thread and the doorbells are served.
 */
function channelYield(): { yieldNow: () => Promise<void>; close: () => void } {
  const channel = new MessageChannel();
  let wake: (() => void) | undefined;
  channel.port1.onmessage = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  return {
    yieldNow: () =>
      new Promise<void>((resolve) => {
        wake = resolve;
        channel.port2.postMessage(null);
      }),
    close: () => {
      channel.port1.close();
      channel.port2.close();
    },
  };
}

/** A fresh hypervisor, xenstored and dom0 client. */
export function newHost(): FrontendHost {
  const hv = new Hypervisor();
  const xenstored = new Xenstored();
  const dom0 = new LocalClient(xenstored);
  dom0.mkdir("/local/domain");
  const yielder = channelYield();
  const host: FrontendHost = {
    hv,
    xenstored,
    dom0,
    control: localControl(hv),
    async close() {
      for (const link of links.get(host) ?? []) await link.close();
      links.delete(host);
      yielder.close();
    },
  };
  links.set(host, []);
  yields.set(host, yielder.yieldNow);
  return host;
}

/** The PV kernel image. */
export async function pvKernel(): Promise<Uint8Array> {
  return await Deno.readFile(guestImagePath("pvkernel"));
}

/** Options of {@link createGuest}. */
export interface GuestOptions {
  /** Memory in MiB (default 8). */
  memoryMiB?: number;
  /** Maximum memory in MiB (default: memory + 4, for applications' buffers). */
  maxMemoryMiB?: number;
  /** Called after the home path exists and before the xenstore ring is served. */
  beforeConnect?: (domain: Domain, home: string) => void;
}

/**
 * Creates (paused) a PV kernel guest running `cmdline`, with its xenstore home path (owned by
 * the guest, as the toolstack makes it) and its ring served.
 */
export async function createGuest(
  host: FrontendHost,
  name: string,
  cmdline: string,
  options: GuestOptions = {},
): Promise<Guest> {
  const memoryMiB = options.memoryMiB ?? 8;
  const domain = host.hv.createDomain(
    { name, memoryMiB, maxMemoryMiB: options.maxMemoryMiB ?? memoryMiB + 4, cmdline },
    await pvKernel(),
  );
  const home = `/local/domain/${domain.id}`;
  host.dom0.mkdir(home);
  host.dom0.setPerms(home, [`n${domain.id}`]);
  host.dom0.write(`${home}/name`, name);
  host.dom0.write(`${home}/domid`, String(domain.id));
  for (const dir of ["data", "device"]) {
    host.dom0.mkdir(`${home}/${dir}`);
    host.dom0.setPerms(`${home}/${dir}`, [`n${domain.id}`]);
  }
  options.beforeConnect?.(domain, home);
  links.get(host)!.push(await connectXenstore(host.xenstored, host.control, domain.id));
  const decoder = new TextDecoder();
  let text = "";
  domain.console.listen((bytes) => text += decoder.decode(bytes, { stream: true }));
  return { domain, home, output: () => text };
}

/** Options of {@link runGuests}. */
export interface RunOptions {
  /** Wall-clock limit (default 120 s). */
  timeoutMs?: number;
  /** Runs between hypervisor slices (dom0's side of the test). */
  step?: () => void | Promise<void>;
  /** Stop early when this says so (default: when every guest has shut down). */
  until?: () => boolean;
}

/**
 * Runs the hypervisor until every guest has shut down (or `until` says stop), yielding to the
 * event loop between slices so xenstored, backends and the step callback run.
 */
export async function runGuests(
  host: FrontendHost,
  guests: readonly Guest[],
  options: RunOptions = {},
): Promise<void> {
  const { hv } = host;
  const deadline = performance.now() + (options.timeoutMs ?? 120_000);
  const done = options.until ?? (() => guests.every((g) => g.domain.shutdownReason !== undefined));
  while (!done()) {
    if (performance.now() > deadline) {
      throw new Error(
        `Timed out; consoles so far:\n${
          guests.map((g) => `--- ${g.domain.name}\n${g.output()}`).join("\n")
        }`,
      );
    }
    await options.step?.();
    const seen = hv.wake.value;
    const result = hv.run(4e6);
    if (result.kind === "idle") {
      const waitMs = Number.isFinite(result.until)
        ? Math.min(2, Math.max(0, (result.until - hv.clock.now()) / 1e6))
        : 2;
      await hv.wake.wait(seen, waitMs);
    } else {
      await (yields.get(host) ?? (() => new Promise((r) => setTimeout(r, 0))))();
    }
  }
}

/** Reads a xenstore node, or undefined if it does not exist. */
export function tryRead(client: LocalClient, path: string): string | undefined {
  try {
    return client.read(path);
  } catch {
    return undefined;
  }
}
