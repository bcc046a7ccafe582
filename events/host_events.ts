/**
 * Event delivery to a domain whose kernel is TypeScript (domain 0: the toolstack, xenstored, the
 * device supervisor). Such a domain has no vCPU to take an upcall; its "shared-info page" is a
 * private SharedArrayBuffer page with the same 2-level bitmaps, and an upcall becomes a call to
 * {@link HostEvents.dispatch}, which hands each pending port to its registered handler.
 *
 * Rules of use: register a handler per port before events can arrive on it; handlers run
 * synchronously inside `dispatch` and must not throw (a throwing handler is reported and skipped).
 *
 * @module
 */

import { EVTCHN_2L_NR_CHANNELS } from "@paravirt/public";
import { PendingBits } from "./pending_bits.ts";
import type { ChannelTable } from "./channel_table.ts";

/** Called with the port an event arrived on. */
export type PortHandler = (port: number) => void;

/** The host side of a TypeScript domain's event channels. */
export class HostEvents {
  /** The page holding the bitmaps (shareable with another thread). */
  readonly page: SharedArrayBuffer = new SharedArrayBuffer(4096);
  /** The bitmaps in {@link page}. */
  readonly bits: PendingBits;
  /** Called when a handler throws (default: log to stderr). */
  onHandlerError: (port: number, error: unknown) => void = (port, error) => {
    console.error(`event handler for port ${port} failed:`, error);
  };
  readonly #handlers = new Map<number, PortHandler>();
  readonly #table: ChannelTable;

  /** Attaches to `table` (the domain's channel table): events on it now reach {@link dispatch}. */
  constructor(table: ChannelTable) {
    this.#table = table;
    this.bits = new PendingBits(new Int32Array(this.page), 0);
    table.attach(this.bits);
  }

  /** Routes events on `port` to `handler` (replacing any earlier one). */
  handle(port: number, handler: PortHandler): void {
    this.#handlers.set(port, handler);
  }

  /** Stops routing events on `port`. */
  forget(port: number): void {
    this.#handlers.delete(port);
  }

  /** Whether an upcall is due (some unmasked port is pending). */
  get due(): boolean {
    return this.bits.upcallDue();
  }

  /** Takes every pending, unmasked port and calls its handler. Returns how many were handled. */
  dispatch(): number {
    const bits = this.bits;
    if (!bits.upcallDue()) return 0;
    bits.clearUpcallPending();
    bits.clearSelector();
    let handled = 0;
    const words = Math.min(this.#table.maxPorts, EVTCHN_2L_NR_CHANNELS) >>> 5;
    for (let word = 0; word < words; word++) {
      let ready = bits.takePendingWord(word);
      while (ready !== 0) {
        const bit = 31 - Math.clz32(ready);
        ready &= ~(1 << bit);
        const port = word * 32 + bit;
        const handler = this.#handlers.get(port);
        if (!handler) continue;
        handled++;
        try {
          handler(port);
        } catch (error) {
          this.onHandlerError(port, error);
        }
      }
    }
    return handled;
  }
}
