/**
 * The guest's end of a xenstore ring page, for tests: what a PV kernel's xenbus driver does, in
 * TypeScript, on a SharedArrayBuffer page. It produces requests and consumes responses with the
 * same publish rules as the server (bytes first, then the index) and can also misbehave on
 * purpose (tests write the indices directly).
 *
 * @module
 */

import {
  XENSTORE_DOMAIN_INTERFACE,
  XENSTORE_RECONNECT,
  XENSTORE_RING_SIZE,
} from "@paravirt/public";
import { type Message, MessageAssembler } from "./wire.ts";

const RING = XENSTORE_RING_SIZE;
const MASK = RING - 1;
const REQ = XENSTORE_DOMAIN_INTERFACE.offset.req;
const RSP = XENSTORE_DOMAIN_INTERFACE.offset.rsp;

/** Word indices of the index area. */
export const WORD = {
  reqCons: 0,
  reqProd: 1,
  rspCons: 2,
  rspProd: 3,
  features: 4,
  connection: 5,
  error: 6,
} as const;

/** A guest driving its xenstore ring. */
export class GuestRing {
  /** The index words of the page (tests poke them). */
  readonly index: Uint32Array;
  #page: Uint8Array;
  #assembler = new MessageAssembler();
  #received: Message[] = [];

  /** Drives the ring in `page`. */
  constructor(page: Uint8Array) {
    this.#page = page;
    this.index = new Uint32Array(page.buffer, page.byteOffset + 2048, 7);
  }

  /** Writes as much of `bytes` as the request ring has room for; returns how much. */
  write(bytes: Uint8Array): number {
    const prod = Atomics.load(this.index, WORD.reqProd);
    const used = (prod - Atomics.load(this.index, WORD.reqCons)) >>> 0;
    let room = Math.max(0, RING - used);
    let written = 0;
    let at = prod;
    while (room > 0 && written < bytes.length) {
      const take = Math.min(room, bytes.length - written, RING - (at & MASK));
      this.#page.set(bytes.subarray(written, written + take), REQ + (at & MASK));
      written += take;
      room -= take;
      at = (at + take) >>> 0;
    }
    Atomics.store(this.index, WORD.reqProd, at);
    return written;
  }

  /**
   * Takes every response byte available; returns the whole messages received so far. Indices
   * that make no sense (tests corrupt them) skip to the producer; a garbled stream starts over.
   */
  read(): Message[] {
    const prod = Atomics.load(this.index, WORD.rspProd);
    let cons = Atomics.load(this.index, WORD.rspCons);
    if (((prod - cons) >>> 0) > RING) cons = prod;
    while (cons !== prod) {
      const take = Math.min((prod - cons) >>> 0, RING - (cons & MASK));
      const chunk = this.#page.slice(RSP + (cons & MASK), RSP + (cons & MASK) + take);
      cons = (cons + take) >>> 0;
      try {
        this.#assembler.push(chunk, (m) => this.#received.push(m));
      } catch {
        this.#assembler = new MessageAssembler();
      }
    }
    Atomics.store(this.index, WORD.rspCons, cons);
    return this.#received.splice(0);
  }

  /** Asks the server to reset the ring. */
  reconnect(): void {
    this.#assembler = new MessageAssembler();
    this.#received = [];
    Atomics.store(this.index, WORD.connection, XENSTORE_RECONNECT);
  }
}
