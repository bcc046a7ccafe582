/// <reference lib="deno.worker" />
/**
 * A test guest in its own thread: drives a xenstore ring page (a SharedArrayBuffer) while
 * xenstored runs on the main thread, as a real guest on the hypervisor's pCPU worker would.
 * Kicks travel as worker messages (the event channel to dom0); the server's notifications bump
 * a counter word the guest waits on with `Atomics.wait` (the event channel to the guest).
 *
 * @module
 */

import { XS_READ, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_WRITE } from "@paravirt/public";
import { GuestRing } from "./_guest_ring.ts";
import { encodeMessage, type Message } from "./wire.ts";

interface Start {
  page: SharedArrayBuffer;
  events: SharedArrayBuffer;
  rounds: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

self.onmessage = (event: MessageEvent<Start>) => {
  const { page, events, rounds } = event.data;
  const ring = new GuestRing(new Uint8Array(page));
  const notified = new Int32Array(events);
  let reqId = 0;
  const call = (type: number, payload: Uint8Array, txId = 0): Message => {
    const id = ++reqId;
    const bytes = encodeMessage(type, id, txId, payload);
    for (let sent = 0; sent < bytes.length;) {
      const seen = Atomics.load(notified, 0);
      sent += ring.write(bytes.subarray(sent));
      self.postMessage("kick");
      if (sent < bytes.length) Atomics.wait(notified, 0, seen, 1000);
    }
    for (;;) {
      const seen = Atomics.load(notified, 0);
      const got = ring.read().filter((m) => m.reqId === id);
      // We consumed responses (perhaps only part of one): tell the server there is room.
      self.postMessage("kick");
      if (got.length > 0) return got[0];
      if (Atomics.wait(notified, 0, seen, 5000) === "timed-out") throw new Error("no reply");
    }
  };
  const strings = (...parts: string[]) => encoder.encode(parts.map((p) => p + "\0").join(""));
  let ok = 0;
  for (let i = 0; i < rounds; i++) {
    const value = `value ${i} `.repeat(i % 200);
    call(XS_WRITE, new Uint8Array([...strings(`data/${i % 10}`), ...encoder.encode(value)]));
    const reply = call(XS_READ, strings(`data/${i % 10}`));
    if (decoder.decode(reply.payload) === value) ok++;
  }
  const tx = Number(decoder.decode(call(XS_TRANSACTION_START, strings("")).payload).slice(0, -1));
  call(XS_WRITE, strings("committed"), tx);
  const end = call(XS_TRANSACTION_END, strings("T"), tx);
  self.postMessage({ ok, rounds, commit: decoder.decode(end.payload) });
};
