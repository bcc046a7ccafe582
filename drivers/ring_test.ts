import assert from "node:assert/strict";
import { BackRing, RingOverflowError, ringSlots } from "./ring.ts";

/** A frontend writing into the same page, as a guest would. */
function frontend(buffer: SharedArrayBuffer, offset: number, slotSize: number) {
  const words = new Int32Array(buffer, offset, 16);
  const bytes = new Uint8Array(buffer, offset, 4096);
  const size = ringSlots(slotSize);
  let reqProd = 0;
  let rspCons = 0;
  return {
    push(request: Uint8Array, publish = true) {
      bytes.set(request, 64 + (reqProd & (size - 1)) * slotSize);
      reqProd = (reqProd + 1) >>> 0;
      if (publish) Atomics.store(words, 0, reqProd | 0);
    },
    publish() {
      Atomics.store(words, 0, reqProd | 0);
    },
    setProducer(value: number) {
      Atomics.store(words, 0, value | 0);
    },
    responses(): Uint8Array[] {
      const prod = Atomics.load(words, 2) >>> 0;
      const out = [];
      while (rspCons !== prod) {
        const at = 64 + (rspCons & (size - 1)) * slotSize;
        out.push(bytes.slice(at, at + slotSize));
        rspCons = (rspCons + 1) >>> 0;
      }
      Atomics.store(words, 3, (rspCons + 1) | 0); // rsp_event: notify me on the next one
      return out;
    },
  };
}

Deno.test("ring sizes follow __CONST_RING_SIZE", () => {
  assert.equal(ringSlots(112), 32, "blkif: 112-byte requests give 32 slots");
  assert.equal(ringSlots(12), 256);
  assert.equal(ringSlots(4032), 1);
  assert.throws(() => ringSlots(5000), RangeError);
});

Deno.test("requests are copied out, responses published, notifications held off", () => {
  const buffer = new SharedArrayBuffer(8192);
  const front = frontend(buffer, 4096, 16);
  const back = new BackRing(buffer, 4096, 16);
  front.push(new Uint8Array(16).fill(1));
  assert.equal(back.unconsumed(), 1);
  const request = new Uint8Array(16);
  back.takeRequest(request);
  new Uint8Array(buffer, 4096 + 64, 16).fill(9); // the frontend scribbles over the slot
  front.push(new Uint8Array(16).fill(2), false); // (and pushes nothing more)
  assert.deepEqual(request, new Uint8Array(16).fill(1), "the copy is unaffected");
  front.publish();
  back.takeRequest(request);
  assert.deepEqual(request, new Uint8Array(16).fill(2));
  back.putResponse(new Uint8Array([7]));
  // rsp_event starts at 0: the frontend has not asked for a notification yet.
  assert.equal(back.pushResponses(), false);
  assert.equal(front.responses()[0][0], 7);
  back.putResponse(new Uint8Array([8]));
  assert.equal(back.pushResponses(), true, "the frontend asked for the next response");
  front.push(new Uint8Array(16).fill(3));
  back.takeRequest(request);
  back.putResponse(new Uint8Array([9]));
  assert.equal(back.pushResponses(), false, "already notified for an unread response");
  assert.equal(back.finalCheckForRequests(), false);
  assert.equal(new Int32Array(buffer, 4096, 4)[1], back.reqCons + 1, "req_event armed");
  // A backend needing three requests at once arms req_event three ahead.
  front.push(new Uint8Array(16).fill(4));
  assert.equal(back.finalCheckForRequests(3), false);
  assert.equal(new Int32Array(buffer, 4096, 4)[1], back.reqCons + 3);
  front.push(new Uint8Array(16).fill(5));
  front.push(new Uint8Array(16).fill(6));
  assert.equal(back.finalCheckForRequests(3), true);
});

Deno.test("a producer index more than a ring ahead is an overflow, never followed", () => {
  const buffer = new SharedArrayBuffer(4096);
  const front = frontend(buffer, 0, 64);
  const back = new BackRing(buffer, 0, 64);
  front.setProducer(back.size + 1);
  assert.throws(() => back.unconsumed(), RingOverflowError);
  front.setProducer(-5);
  assert.throws(() => back.finalCheckForRequests(), RingOverflowError);
  front.setProducer(back.size);
  assert.equal(back.unconsumed(), back.size, "exactly full is allowed");
});

Deno.test("a producer index moved back behind consumed requests is an overflow", () => {
  const buffer = new SharedArrayBuffer(4096);
  const front = frontend(buffer, 0, 64);
  const back = new BackRing(buffer, 0, 64);
  front.setProducer(5);
  for (let i = 0; i < 5; i++) back.takeRequest(new Uint8Array(64));
  back.putResponse(new Uint8Array(1));
  back.pushResponses(); // one answered, four consumed and in flight
  front.setProducer(3);
  assert.throws(() => back.unconsumed(), RingOverflowError, "not 2^32 - 2 requests");
  front.setProducer(5);
  assert.equal(back.unconsumed(), 0);
});

Deno.test("indices wrap at 2^32", () => {
  const buffer = new SharedArrayBuffer(4096);
  const words = new Int32Array(buffer, 0, 4);
  const start = 0xffff_fffe;
  words[0] = start | 0;
  words[2] = start | 0;
  const back = new BackRing(buffer, 0, 32);
  back.resume();
  assert.equal(back.unconsumed(), 0);
  words[0] = (start + 4) | 0;
  assert.equal(back.unconsumed(), 4);
  for (let i = 0; i < 4; i++) back.takeRequest(new Uint8Array(32));
  assert.equal(back.reqCons, 2);
});
