/**
 * A network testbed: an in-thread hypervisor with guest domains whose vifs are served by real
 * netback workers attached to a real bridge worker, connected through xenstore the Xen way — and
 * TypeScript frontends ({@link TsNetfront}) playing the guests' netfronts in their memory. This is
 * the part of the device supervisor that concerns networking, done by hand until the supervisor
 * (`dom0/devices/`) drives {@link VifBackend}s itself; it shows exactly what the supervisor calls.
 *
 * Rules of use: {@link NetTestbed.create} builds and connects everything; drive it with
 * {@link NetTestbed.until} (which runs the hypervisor's loop — event channels are delivered there —
 * and polls every frontend) and always {@link NetTestbed.close} it.
 *
 * @module
 */

import {
  BridgeWorker,
  createVifNodes,
  type FilterAlert,
  type FilterSpec,
  formatMac,
  publishVifFrontend,
  readXenbusState,
  TsNetfront,
  VifBackend,
  type VifFrontendConfig,
} from "@paravirt/drivers";
import { type Domain, Hypervisor } from "@paravirt/hypervisor";
import { LocalClient, localControl, Xenstored } from "@paravirt/dom0";
import { XenbusStateConnected, XenbusStateInitialised } from "@paravirt/public";

/** One guest of the testbed. */
export interface TestbedGuest {
  /** Its domain (allocated, never booted: the TypeScript frontend plays its kernel). */
  readonly domain: Domain;
  /** Its netfront. */
  front: TsNetfront;
  /** Its vif's backend device. */
  readonly vif: VifBackend;
  /** Its MAC address. */
  readonly mac: number;
  /** Its IPv4 address (10.0.0.<n>). */
  readonly ip: number;
  /** Its xenstore client (unprivileged, as the guest). */
  readonly store: LocalClient;
  /** The frontend's event channel ports (tx, rx). */
  readonly ports: readonly [number, number];
}

/** Options of {@link NetTestbed.create}. */
export interface NetTestbedOptions {
  /** Guests (default 2). */
  guests?: number;
  /** The bridge's filter chain. */
  filters?: FilterSpec[];
  /** Where relative filter modules are resolved from. */
  filterBase?: string;
  /** Whether frontends use one event channel per ring (default true). */
  split?: boolean;
  /** Whether frontends accept multi-slot frames (default true). */
  sg?: boolean;
  /** Transmit buffers per frontend (default 64). */
  txBuffers?: number;
  /** Receive buffers per frontend (default 64). */
  rxBuffers?: number;
  /** Bytes per frame queue (default: the drivers' default). */
  queueBytes?: number;
  /** MAC aging in ms. */
  macAgeMs?: number;
  /** The netback worker module (default: the built-in). */
  netbackModule?: string | URL;
}

/** The testbed (see the module doc). */
export class NetTestbed {
  /** The hypervisor. */
  readonly hv: Hypervisor = new Hypervisor();
  /** xenstored. */
  readonly xenstored: Xenstored = new Xenstored();
  /** dom0's xenstore client. */
  readonly dom0: LocalClient;
  /** The guests. */
  readonly guests: TestbedGuest[] = [];
  /** Alerts the bridge's filters raised. */
  readonly alerts: FilterAlert[] = [];
  /** Ports the bridge cut off, with why. */
  readonly portErrors: string[] = [];
  /** The vifs' log lines. */
  readonly log: string[] = [];
  /** The bridge worker. */
  bridge!: BridgeWorker;
  readonly #watchers = new Map<string, VifBackend>();

  private constructor() {
    this.dom0 = new LocalClient(this.xenstored, {
      onWatch: (event) => void this.#watchers.get(event.token)?.frontendChanged(),
    });
  }

  /** Builds a testbed and connects every guest's vif. */
  static async create(options: NetTestbedOptions = {}): Promise<NetTestbed> {
    const bed = new NetTestbed();
    try {
      bed.bridge = await BridgeWorker.start({
        name: "br0",
        filters: options.filters,
        filterBase: options.filterBase,
        macTable: options.macAgeMs ? { ageMs: options.macAgeMs } : undefined,
      }, {
        onAlert: (alerts) => bed.alerts.push(...alerts),
        onPortError: (port, reason) => bed.portErrors.push(`${port}: ${reason}`),
      });
      for (let n = 1; n <= (options.guests ?? 2); n++) await bed.#addGuest(n, options);
    } catch (error) {
      await bed.close();
      throw error;
    }
    return bed;
  }

  async #addGuest(n: number, options: NetTestbedOptions): Promise<void> {
    const hv = this.hv;
    const domain = hv.allocateDomain({ name: `net${n}`, memoryMiB: 2 });
    const txBuffers = options.txBuffers ?? 64;
    const rxBuffers = options.rxBuffers ?? 64;
    const pages = Array.from({ length: 2 + txBuffers + rxBuffers }, (_, i) => i);
    for (const index of pages) domain.populate(index, index);
    const mac = 0x00163e000000 + n;
    const paths = createVifNodes(this.dom0, {
      domid: domain.id,
      devid: 0,
      mac: formatMac(mac),
      bridge: "br0",
    });
    const vif = new VifBackend({
      store: this.dom0,
      control: localControl(hv),
      bridge: this.bridge,
      domid: domain.id,
      devid: 0,
      module: options.netbackModule,
      link: options.queueBytes ? { queueBytes: options.queueBytes } : undefined,
      onEvent: (line) => this.log.push(line),
    });
    await vif.start();
    const token = `vif-${domain.id}-0`;
    this.#watchers.set(token, vif);
    this.dom0.watch(`${paths.frontend}/state`, token);
    // The guest's side: event channels for dom0, rings and buffers, keys, Initialised.
    const split = options.split ?? true;
    const tx = domain.events.allocUnbound(0);
    const rx = split ? domain.events.allocUnbound(0) : tx;
    const front = new TsNetfront(hv.foreignView(domain), {
      pages,
      txBuffers,
      rxBuffers,
      notify: (ring) => domain.events.send(ring === "tx" ? tx : rx),
    });
    const store = new LocalClient(this.xenstored, { domid: domain.id });
    const config: VifFrontendConfig = {
      txRingRef: front.txRingRef,
      rxRingRef: front.rxRingRef,
      eventChannelTx: tx,
      eventChannelRx: rx,
      split,
      sg: options.sg ?? true,
      rxNotify: true,
    };
    publishVifFrontend(store, paths, config);
    store.write(`${paths.frontend}/state`, String(XenbusStateInitialised));
    const guest: TestbedGuest = {
      domain,
      front,
      vif,
      mac,
      ip: 0x0a000000 + n,
      store,
      ports: [tx, rx],
    };
    this.guests.push(guest);
    await this.until(
      () => readXenbusState(this.dom0, `${paths.backend}/state`) === XenbusStateConnected,
      10_000,
      `${vif.portName} to connect (log: ${this.log.join("; ")})`,
    );
    store.write(`${paths.frontend}/state`, String(XenbusStateConnected));
  }

  /**
   * Runs the hypervisor loop and polls every frontend until `predicate` holds; throws after
   * `timeoutMs` naming `what`. When nothing moves for a while it naps a millisecond, unless
   * `spin` (benchmarks) keeps it polling.
   */
  async until(
    predicate: () => boolean,
    timeoutMs = 10_000,
    what = "the condition",
    spin = false,
  ): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let yielded = performance.now();
    let idle = 0;
    while (!predicate()) {
      if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      idle = this.step() > 0 || spin ? 0 : idle + 1;
      // Let workers' messages and xenstore watches in now and then; when nothing moves for a
      // while, sleep a millisecond rather than spin (the machine is shared with the workers).
      if (idle > 200 || performance.now() - yielded > 1) {
        await new Promise((resolve) => setTimeout(resolve, idle > 200 ? 1 : 0));
        yielded = performance.now();
        if (idle > 200) idle = 0;
      }
    }
  }

  /**
   * Waits until the network is quiet: every frame a frontend sent was answered, taken by the
   * bridge, and every frame the bridge handed a port was delivered (or dropped) by its netback;
   * then collects what arrived. Deterministic, unlike waiting a while.
   */
  async settle(timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      await this.until(
        () => this.guests.every((g) => g.front.txInFlight === 0),
        Math.max(1, deadline - performance.now()),
        "transmits to be answered",
      );
      const bridge = await this.bridge.metrics();
      const vifs = await Promise.all(this.guests.map((g) => g.vif.metrics()));
      const quiet = this.guests.every((g, i) => {
        const port = bridge.ports.find((p) => p.name === g.vif.portName);
        const vif = vifs[i];
        return port && vif && port.framesIn === vif.txFrames &&
          port.framesOut === vif.rxFrames + vif.rxDropped + vif.rxErrors;
      });
      this.step();
      if (quiet) return;
      if (performance.now() > deadline) {
        throw new Error("Timed out waiting for the network to settle");
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** One round: the hypervisor's loop (event channels both ways) and every frontend's poll. */
  step(): number {
    this.hv.run(0);
    let taken = 0;
    for (const guest of this.guests) taken += guest.front.poll();
    return taken;
  }

  /** Stops every vif and the bridge. */
  async close(): Promise<void> {
    for (const guest of this.guests) {
      await guest.vif.stop().catch(() => {});
      guest.store.close();
    }
    await this.bridge?.stop();
    this.dom0.close();
  }
}
