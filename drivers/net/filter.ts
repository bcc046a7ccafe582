/**
 * Pluggable filters in the bridge's I/O path: the interface a filter module implements, the
 * chain the bridge runs every frame through, and the loader that turns a configuration entry
 * (`{ module, options }`) into a filter.
 *
 * The interface (every implementation runs `filterConformance` from `filter_conformance.ts`):
 * - a filter module exports `createFilter(options: unknown): NetFilter | Promise<NetFilter>`;
 *   it validates its options and throws a RangeError/TypeError quoting the bad value;
 * - {@link NetFilter.inspect} is called once per frame entering the bridge, before learning and
 *   forwarding, with a {@link FilterPacket}: the frame's bytes (a copy the bridge owns, exactly
 *   the frame's length), its parsed headers, the ingress port and the time. It returns
 *   {@link FILTER_PASS} or {@link FILTER_DROP}, synchronously, without modifying the bytes and
 *   without keeping the packet (the bridge reuses it for the next frame);
 * - frames are hostile: a filter must cope with any bytes (runts, bogus headers, 64 KiB frames)
 *   and must not throw for them. If it throws anyway, the chain drops the frame (fails closed)
 *   and counts the error;
 * - {@link NetFilter.metrics} returns plain numbers (JSON-safe); {@link NetFilter.takeAlerts}
 *   (optional) hands over the alerts raised since the last call;
 * - the first filter that drops a frame ends the chain: later filters do not see it.
 *
 * `filter_loader.ts` turns configuration entries into filters (built-ins by name, other modules by
 * specifier).
 *
 * @module
 */

import type { FrameInfo } from "./ethernet.ts";

/** Verdict: let the frame through. */
export const FILTER_PASS = 0;
/** Verdict: drop the frame. */
export const FILTER_DROP = 1;
/** A filter's verdict. */
export type FilterVerdict = typeof FILTER_PASS | typeof FILTER_DROP;

/** One frame as a filter sees it (reused for every frame; do not keep it). */
export interface FilterPacket {
  /** The frame, exactly its length (the bridge's copy; read only). */
  bytes: Uint8Array;
  /** Its parsed headers. */
  info: FrameInfo;
  /** Name of the port it entered on. */
  inPort: string;
  /** Milliseconds on the bridge's clock. */
  now: number;
}

/** Something a filter noticed. */
export interface FilterAlert {
  /** The filter's name. */
  readonly filter: string;
  /** The rule or signature that matched. */
  readonly rule: string;
  /** The ingress port. */
  readonly inPort: string;
  /** When (ms on the bridge's clock). */
  readonly time: number;
  /** Source (IPv4 address or MAC). */
  readonly src: string;
  /** Destination (IPv4 address or MAC). */
  readonly dst: string;
  /** What happened, in a sentence. */
  readonly detail: string;
}

/** A filter module's product. */
export interface NetFilter {
  /** A name for metrics and alerts. */
  readonly name: string;
  /** Decides on one frame (see the module rules). */
  inspect(packet: FilterPacket): FilterVerdict;
  /** Counters (plain numbers). */
  metrics(): Record<string, number>;
  /** Alerts raised since the last call (optional). */
  takeAlerts?(): FilterAlert[];
}

/** What a filter module exports. */
export type FilterFactory = (options: unknown) => NetFilter | Promise<NetFilter>;

/** Counters of a {@link FilterChain}. */
export interface FilterChainMetrics {
  /** Frames inspected. */
  inspected: number;
  /** Frames dropped by a filter. */
  dropped: number;
  /** Frames dropped because a filter threw. */
  errors: number;
  /** Each filter's counters, by filter name. */
  filters: Record<string, Record<string, number>>;
}

/** Filters run in order on every frame (first drop wins). */
export class FilterChain {
  /** The filters, in order. */
  readonly filters: readonly NetFilter[];
  #inspected = 0;
  #dropped = 0;
  #errors = 0;
  /** The last error a filter threw (for the operator). */
  lastError: string | undefined;

  /** A chain of `filters`. */
  constructor(filters: readonly NetFilter[] = []) {
    this.filters = filters;
  }

  /** Runs the frame through the chain. */
  run(packet: FilterPacket): FilterVerdict {
    const filters = this.filters;
    if (filters.length === 0) return FILTER_PASS;
    this.#inspected++;
    for (let i = 0; i < filters.length; i++) {
      let verdict: FilterVerdict;
      try {
        verdict = filters[i].inspect(packet);
      } catch (error) {
        this.#errors++;
        this.lastError = `${filters[i].name}: ${error}`;
        return FILTER_DROP;
      }
      if (verdict !== FILTER_PASS) {
        this.#dropped++;
        return FILTER_DROP;
      }
    }
    return FILTER_PASS;
  }

  /** Alerts from every filter since the last call. */
  takeAlerts(): FilterAlert[] {
    const alerts: FilterAlert[] = [];
    for (const filter of this.filters) {
      if (filter.takeAlerts) alerts.push(...filter.takeAlerts());
    }
    return alerts;
  }

  /** The chain's and each filter's counters. */
  metrics(): FilterChainMetrics {
    const filters: Record<string, Record<string, number>> = {};
    for (const filter of this.filters) filters[filter.name] = filter.metrics();
    return {
      inspected: this.#inspected,
      dropped: this.#dropped,
      errors: this.#errors,
      filters,
    };
  }
}
