/**
 * The software L2 bridge: ports joined by {@link PortLinkHandle port links}, a MAC learning table,
 * and a {@link FilterChain} every frame passes on its way in.
 *
 * For each frame a port hands in (copied out of its queue first): parse the headers; drop a runt;
 * run the filter chain (a drop ends it); learn the source address on the ingress port (individual
 * addresses only); then forward — to the learned port of an individual destination (dropping it
 * if that is the ingress port), else flood to every other port. A frame that does not fit a
 * port's outbound queue is dropped and counted there: the bridge never waits for a slow port.
 *
 * Isolation: each port's worker is hostile to the bridge. Anything wrong in a port's shared
 * queues (see `frame_queue.ts`) marks that port broken — it is skipped from then on and its
 * learned addresses forgotten, and {@link BridgeOptions.onPortError} hears why — while every other
 * port goes on. Ports are served round-robin, at most {@link BRIDGE_PORT_BUDGET} frames each per
 * round, so a flooding port cannot starve the others.
 *
 * Rules of use: one thread drives a bridge — {@link Bridge.pump} moves what is waiting,
 * {@link Bridge.wait} sleeps until a port rings; {@link Bridge.run} does both until
 * {@link Bridge.stop}. The bridge worker (`bridge_worker.ts`) is that thread in production; tests
 * may pump a bridge directly.
 *
 * @module
 */

import { Doorbell } from "@paravirt/events";
import { FrameInfo, isGroupMac } from "./ethernet.ts";
import {
  FILTER_DROP,
  type FilterAlert,
  FilterChain,
  type FilterChainMetrics,
  type FilterPacket,
} from "./filter.ts";
import { FrameQueueError } from "./frame_queue.ts";
import { type MacEntry, MacTable, type MacTableOptions } from "./mac_table.ts";
import {
  BRIDGE_MAX_PORTS,
  BRIDGE_PORT_BUDGET,
  ETH_HLEN,
  NET_IDLE_POLL_MS,
  NET_MAX_FRAME,
} from "./params.ts";
import { type BellHandle, bridgeSide, type LinkSide, type PortLinkHandle } from "./port_link.ts";

/** Options of a {@link Bridge}. */
export interface BridgeOptions {
  /** The bridge's name (default `br0`). */
  name?: string;
  /** The bell its ports ring (the bridge sleeps on its doorbell). */
  bell: BellHandle;
  /** The filter chain (default: none). */
  filters?: FilterChain;
  /** MAC table capacity and aging. */
  macTable?: MacTableOptions;
  /** Millisecond clock (default `performance.now`). */
  clock?: () => number;
  /** Called when a port's queues break (the port is then skipped). */
  onPortError?: (port: string, reason: string) => void;
  /** Called with alerts the filters raised. */
  onAlert?: (alerts: FilterAlert[]) => void;
}

/** Counters of one port, from the bridge's side. */
export interface BridgePortMetrics {
  /** Frames the port handed in. */
  framesIn: number;
  /** Their bytes. */
  bytesIn: number;
  /** Frames the bridge handed to the port. */
  framesOut: number;
  /** Their bytes. */
  bytesOut: number;
  /** Frames for the port dropped because its queue was full. */
  dropsOut: number;
  /** Frames from the port dropped by the filter chain. */
  filtered: number;
  /** Frames from the port too short to be Ethernet. */
  runts: number;
  /** Frames from the port whose destination was learned on the same port. */
  local: number;
}

/** A port's counters and state. */
export interface BridgePortInfo extends BridgePortMetrics {
  /** The port's name. */
  readonly name: string;
  /** Why the port is broken, if it is. */
  readonly broken?: string;
}

/** Counters of a bridge. */
export interface BridgeMetrics {
  /** The bridge's name. */
  name: string;
  /** Frames forwarded to one learned port. */
  forwarded: number;
  /** Frames flooded to every other port. */
  flooded: number;
  /** Learned addresses. */
  macs: number;
  /** Addresses not learned (table full). */
  macsRefused: number;
  /** Addresses that moved between ports. */
  macMoves: number;
  /** The filter chain's counters. */
  filters: FilterChainMetrics;
  /** Per port. */
  ports: BridgePortInfo[];
}

/** What a bridge saves across a restart. */
export interface BridgeState {
  /** Learned addresses with the *name* of their port (ids change across restarts). */
  readonly macs: readonly { mac: number; port: string; seen: number }[];
}

interface Port extends BridgePortMetrics {
  readonly id: number;
  readonly name: string;
  readonly side: LinkSide;
  broken: string | undefined;
  pendingOut: boolean;
}

function newCounters(): BridgePortMetrics {
  return {
    framesIn: 0,
    bytesIn: 0,
    framesOut: 0,
    bytesOut: 0,
    dropsOut: 0,
    filtered: 0,
    runts: 0,
    local: 0,
  };
}

/** A learning L2 bridge with a filter chain (see the module doc). */
export class Bridge {
  /** The bridge's name. */
  readonly name: string;
  /** The filter chain. */
  readonly filters: FilterChain;
  /** The MAC table. */
  readonly macs: MacTable;
  readonly #byId: (Port | undefined)[] = [];
  #ports: Port[] = [];
  readonly #bell: Doorbell;
  readonly #clock: () => number;
  readonly #info = new FrameInfo();
  readonly #scratch = new Uint8Array(NET_MAX_FRAME);
  readonly #packet: FilterPacket;
  readonly #onPortError?: (port: string, reason: string) => void;
  readonly #onAlert?: (alerts: FilterAlert[]) => void;
  #forwarded = 0;
  #flooded = 0;
  #stopped = false;

  /** Creates a bridge with no ports. */
  constructor(options: BridgeOptions) {
    this.name = options.name ?? "br0";
    this.filters = options.filters ?? new FilterChain();
    this.macs = new MacTable(options.macTable);
    this.#bell = Doorbell.from(options.bell.buffer, new SharedArrayBuffer(4));
    this.#clock = options.clock ?? (() => performance.now());
    this.#onPortError = options.onPortError;
    this.#onAlert = options.onAlert;
    this.#packet = { bytes: this.#scratch, info: this.#info, inPort: "", now: 0 };
  }

  /**
   * Attaches a port named `name` over `link` (the bridge's side; the queues' current state is
   * adopted, so a restarted bridge picks up where the last one stopped). Throws a RangeError for
   * a duplicate name or a full bridge, and a FrameQueueError for broken queues.
   */
  attach(name: string, link: PortLinkHandle): void {
    if (typeof name !== "string" || !/^[A-Za-z0-9._:-]{1,64}$/.test(name)) {
      throw new RangeError(`Port name ${JSON.stringify(name)} is not 1-64 of [A-Za-z0-9._:-]`);
    }
    if (this.#ports.some((p) => p.name === name)) {
      throw new RangeError(`Bridge ${this.name} already has a port "${name}"`);
    }
    let id = this.#byId.indexOf(undefined);
    if (id < 0) id = this.#byId.length;
    if (id >= BRIDGE_MAX_PORTS) {
      throw new RangeError(`Bridge ${this.name} has no room for "${name}"`);
    }
    const port: Port = {
      id,
      name,
      side: bridgeSide(link),
      broken: undefined,
      pendingOut: false,
      ...newCounters(),
    };
    this.#byId[id] = port;
    this.#ports = [...this.#ports, port];
  }

  /** Detaches port `name`. Returns whether it was there. */
  detach(name: string): boolean {
    const port = this.#ports.find((p) => p.name === name);
    if (!port) return false;
    this.#ports = this.#ports.filter((p) => p !== port);
    this.#byId[port.id] = undefined;
    this.macs.forgetPort(port.id);
    return true;
  }

  /** Port names, in attach order. */
  get ports(): string[] {
    return this.#ports.map((p) => p.name);
  }

  /** Marks `port` broken: its queues broke their rules (FrameQueueError) or worse. */
  #break(port: Port, error: unknown): void {
    if (port.broken) return;
    port.broken = error instanceof FrameQueueError
      ? error.message
      : `Unexpected failure: ${error instanceof Error ? error.message : String(error)}`;
    this.macs.forgetPort(port.id);
    this.#onPortError?.(port.name, port.broken);
  }

  /** Moves the frames waiting at every port (one round). Returns how many were taken in. */
  pump(): number {
    const ports = this.#ports;
    const packet = this.#packet;
    packet.now = this.#clock();
    let moved = 0;
    for (let p = 0; p < ports.length; p++) {
      const port = ports[p];
      if (port.broken) continue;
      const inbound = port.side.inbound;
      try {
        let n = 0;
        for (; n < BRIDGE_PORT_BUDGET; n++) {
          const length = inbound.read(this.#scratch);
          if (length < 0) break;
          this.#handle(port, length);
        }
        moved += n;
        if (n > 0 && inbound.release()) port.side.peer.ring();
      } catch (error) {
        this.#break(port, error);
      }
    }
    for (let p = 0; p < ports.length; p++) {
      const port = ports[p];
      if (!port.pendingOut) continue;
      port.pendingOut = false;
      if (port.broken) continue;
      try {
        if (port.side.outbound.publish()) port.side.peer.ring();
      } catch (error) {
        this.#break(port, error);
      }
    }
    if (moved > 0 && this.#onAlert) {
      const alerts = this.filters.takeAlerts();
      if (alerts.length > 0) this.#onAlert(alerts);
    }
    return moved;
  }

  #handle(port: Port, length: number): void {
    port.framesIn++;
    port.bytesIn += length;
    const info = this.#info;
    const packet = this.#packet;
    const frame = this.#scratch.subarray(0, length);
    if (!info.parse(frame, length) || length < ETH_HLEN) {
      port.runts++;
      return;
    }
    packet.bytes = frame;
    packet.inPort = port.name;
    if (this.filters.run(packet) === FILTER_DROP) {
      port.filtered++;
      return;
    }
    const now = packet.now;
    if (!isGroupMac(info.src)) this.macs.learn(info.src, port.id, now);
    if (!isGroupMac(info.dst)) {
      const out = this.macs.lookup(info.dst, now);
      if (out === port.id) {
        port.local++;
        return;
      }
      const target = out >= 0 ? this.#byId[out] : undefined;
      if (target && !target.broken) {
        this.#forwarded++;
        this.#send(target, frame, length);
        return;
      }
    }
    this.#flooded++;
    const ports = this.#ports;
    for (let p = 0; p < ports.length; p++) {
      const target = ports[p];
      if (target !== port && !target.broken) this.#send(target, frame, length);
    }
  }

  #send(target: Port, frame: Uint8Array, length: number): void {
    try {
      if (target.side.outbound.write(frame, length)) {
        target.framesOut++;
        target.bytesOut += length;
        target.pendingOut = true;
      } else {
        target.dropsOut++;
      }
    } catch (error) {
      this.#break(target, error);
    }
  }

  /**
   * Sleeps until a port rings or `timeoutMs` passes; returns at once if frames are waiting. Each
   * port is asked to ring first (its queue's consumer flag).
   */
  async wait(timeoutMs: number = NET_IDLE_POLL_MS): Promise<void> {
    for (const port of this.#ports) {
      if (port.broken) continue;
      try {
        if (port.side.inbound.prepareWait()) return;
      } catch (error) {
        this.#break(port, error);
      }
    }
    await this.#bell.wait(timeoutMs);
    this.#bell.takeRings();
  }

  /** Pumps and waits until {@link stop}; yields to the event loop now and then when busy. */
  async run(): Promise<void> {
    this.#stopped = false;
    let busySince = performance.now();
    while (!this.#stopped) {
      if (this.pump() > 0) {
        if (performance.now() - busySince > 5) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          busySince = performance.now();
        }
        continue;
      }
      await this.wait();
      busySince = performance.now();
    }
  }

  /** Makes {@link run} return (within one idle poll). */
  stop(): void {
    this.#stopped = true;
    this.#bell.ring(0);
  }

  /** Counters of the bridge, its filters and its ports. */
  metrics(): BridgeMetrics {
    return {
      name: this.name,
      forwarded: this.#forwarded,
      flooded: this.#flooded,
      macs: this.macs.size,
      macsRefused: this.macs.refused,
      macMoves: this.macs.moves,
      filters: this.filters.metrics(),
      ports: this.#ports.map((p) => ({
        name: p.name,
        ...(p.broken ? { broken: p.broken } : {}),
        framesIn: p.framesIn,
        bytesIn: p.bytesIn,
        framesOut: p.framesOut,
        bytesOut: p.bytesOut,
        dropsOut: p.dropsOut,
        filtered: p.filtered,
        runts: p.runts,
        local: p.local,
      })),
    };
  }

  /** The state worth keeping across a restart: the learned addresses, by port name. */
  save(): BridgeState {
    const names = new Map(this.#ports.map((p) => [p.id, p.name]));
    return {
      macs: this.macs.save().flatMap((e) => {
        const port = names.get(e.port);
        return port === undefined ? [] : [{ mac: e.mac, port, seen: e.seen }];
      }),
    };
  }

  /** Restores saved addresses for the ports attached now (others are skipped). */
  restore(state: BridgeState): void {
    const ids = new Map(this.#ports.map((p) => [p.name, p.id]));
    const entries: MacEntry[] = [];
    for (const e of state?.macs ?? []) {
      const id = ids.get(e?.port);
      if (id !== undefined) entries.push({ mac: e.mac, port: id, seen: e.seen });
    }
    this.macs.restore(entries);
  }
}
