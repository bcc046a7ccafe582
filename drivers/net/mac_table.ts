/**
 * The bridge's forwarding database: which port each source MAC address was last seen on, and
 * when. Entries age out after `ageMs` without traffic; a full table learns nothing new until
 * entries age (so a guest spraying fake source addresses cannot grow it, it only loses the
 * benefit of learning — its frames are flooded).
 *
 * Rules of use: keys are 48-bit MAC numbers (see `ethernet.ts`), ports small integers; only
 * individual (non-group) addresses should be learned, which the bridge checks. Time is whatever
 * millisecond clock the caller passes, so tests control aging.
 *
 * @module
 */

import { BRIDGE_MAC_AGE_MS, BRIDGE_MAC_TABLE_SIZE } from "./params.ts";

interface Entry {
  port: number;
  seen: number;
}

/** A saved entry (see {@link MacTable.save}). */
export interface MacEntry {
  /** The MAC address (48-bit number). */
  readonly mac: number;
  /** Its port. */
  readonly port: number;
  /** When it was last seen (ms). */
  readonly seen: number;
}

/** Options of a {@link MacTable}. */
export interface MacTableOptions {
  /** Most entries (default {@link BRIDGE_MAC_TABLE_SIZE}). */
  capacity?: number;
  /** Age after which an entry is forgotten, in ms (default {@link BRIDGE_MAC_AGE_MS}). */
  ageMs?: number;
}

/** A MAC learning table with aging and a size cap. */
export class MacTable {
  /** Most entries. */
  readonly capacity: number;
  /** Entry lifetime without traffic, in ms. */
  readonly ageMs: number;
  /** Addresses not learned because the table was full. */
  refused = 0;
  /** Times an address moved to another port. */
  moves = 0;
  readonly #entries = new Map<number, Entry>();

  /** Creates an empty table. Throws a RangeError for a bad capacity or age. */
  constructor(options: MacTableOptions = {}) {
    const capacity = options.capacity ?? BRIDGE_MAC_TABLE_SIZE;
    const ageMs = options.ageMs ?? BRIDGE_MAC_AGE_MS;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`MAC table capacity ${capacity} is not a positive integer`);
    }
    if (!(ageMs > 0)) throw new RangeError(`MAC age ${ageMs} ms is not positive`);
    this.capacity = capacity;
    this.ageMs = ageMs;
  }

  /** Entries held (some may have aged but not been swept yet). */
  get size(): number {
    return this.#entries.size;
  }

  /** Records that `mac` was seen on `port` at `now`. */
  learn(mac: number, port: number, now: number): void {
    const entry = this.#entries.get(mac);
    if (entry) {
      if (entry.port !== port) {
        entry.port = port;
        this.moves++;
      }
      entry.seen = now;
      return;
    }
    if (this.#entries.size >= this.capacity && this.sweep(now) === 0) {
      this.refused++;
      return;
    }
    this.#entries.set(mac, { port, seen: now });
  }

  /** The port `mac` was learned on, or -1 if unknown or aged out at `now`. */
  lookup(mac: number, now: number): number {
    const entry = this.#entries.get(mac);
    if (!entry) return -1;
    if (now - entry.seen > this.ageMs) {
      this.#entries.delete(mac);
      return -1;
    }
    return entry.port;
  }

  /** Forgets entries aged out at `now`. Returns how many. */
  sweep(now: number): number {
    let removed = 0;
    for (const [mac, entry] of this.#entries) {
      if (now - entry.seen > this.ageMs) {
        this.#entries.delete(mac);
        removed++;
      }
    }
    return removed;
  }

  /** Forgets every address learned on `port` (the port went away). */
  forgetPort(port: number): void {
    for (const [mac, entry] of this.#entries) if (entry.port === port) this.#entries.delete(mac);
  }

  /** The entries, for saving or showing. */
  save(): MacEntry[] {
    return [...this.#entries].map(([mac, e]) => ({ mac, port: e.port, seen: e.seen }));
  }

  /** Restores saved entries (invalid ones are skipped; the cap holds). */
  restore(entries: readonly MacEntry[]): void {
    for (const e of entries) {
      if (this.#entries.size >= this.capacity) break;
      if (
        Number.isInteger(e?.mac) && e.mac >= 0 && e.mac < 2 ** 48 && Number.isInteger(e.port) &&
        e.port >= 0 && Number.isFinite(e.seen)
      ) {
        this.#entries.set(e.mac, { port: e.port, seen: e.seen });
      }
    }
  }
}
