import assert from "node:assert/strict";
import {
  XENSTORE_CONNECTED,
  XENSTORE_ERROR_NONE,
  XENSTORE_ERROR_PROTO,
  XENSTORE_ERROR_RINGIDX,
  XENSTORE_PAYLOAD_MAX,
  XENSTORE_SERVER_FEATURE_ERROR,
  XENSTORE_SERVER_FEATURE_RECONNECTION,
  XS_ERROR,
  XS_READ,
  XS_WATCH,
  XS_WATCH_EVENT,
  XS_WRITE,
} from "@paravirt/public";
import { GuestRing, WORD } from "./_guest_ring.ts";
import { LocalClient } from "./client.ts";
import { Xenstored } from "./daemon.ts";
import { RingServer } from "./ring.ts";
import { encodeMessage, joinStrings, type Message, splitStrings } from "./wire.ts";
import { mulberry32, randomPayload } from "./_random.ts";

const text = new TextDecoder();

/** A daemon serving guest `domid` on a fresh SharedArrayBuffer page. */
function guest(
  domid = 5,
  options: { quota?: object; before?: (ring: GuestRing) => void; daemon?: Xenstored } = {},
) {
  const daemon = options.daemon ?? new Xenstored({ quota: options.quota });
  const dom0 = new LocalClient(daemon);
  dom0.mkdir(`/local/domain/${domid}`);
  dom0.setPerms(`/local/domain/${domid}`, [`n${domid}`]);
  const page = new Uint8Array(new SharedArrayBuffer(4096));
  const ring = new GuestRing(page);
  options.before?.(ring);
  let notifications = 0;
  const server = daemon.introduceDomain(domid, { page, notify: () => notifications++ });
  let reqId = 0;
  /** Messages read from the ring that were not the reply being waited for (watch events). */
  const mailbox: Message[] = [];
  /** Sends one request through the ring (in pieces if needed) and returns its reply. */
  const call = (type: number, payload: Uint8Array, txId = 0): Message => {
    const id = ++reqId;
    const bytes = encodeMessage(type, id, txId, payload);
    for (let sent = 0; sent < bytes.length;) {
      sent += ring.write(bytes.subarray(sent));
      server.onEvent();
      mailbox.push(...ring.read());
    }
    for (
      let spins = 0;
      !mailbox.some((m) => m.reqId === id && m.type !== XS_WATCH_EVENT);
      spins++
    ) {
      assert.ok(spins < 100, "no reply");
      server.onEvent();
      mailbox.push(...ring.read());
    }
    const index = mailbox.findIndex((m) => m.reqId === id && m.type !== XS_WATCH_EVENT);
    return mailbox.splice(index, 1)[0];
  };
  return { daemon, dom0, page, ring, server, call, mailbox, notifications: () => notifications };
}

const strings = (...parts: string[]) => joinStrings(parts);
const writeRequest = (path: string, value: string) =>
  new Uint8Array([...strings(path), ...new TextEncoder().encode(value)]);

Deno.test("a guest reads, writes and watches through its ring page", () => {
  const { dom0, ring, server, call, mailbox, notifications, page } = guest();
  const index = new Uint32Array(page.buffer, 2048, 7);
  assert.equal(
    index[WORD.features],
    XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR,
  );
  assert.equal(call(XS_WRITE, writeRequest("name", "guest five")).type, XS_WRITE);
  assert.equal(dom0.read("/local/domain/5/name"), "guest five");
  const read = call(XS_READ, strings("name"));
  assert.equal(text.decode(read.payload), "guest five");
  const denied = call(XS_READ, strings("/local/domain/0"));
  assert.equal(denied.type, XS_ERROR);
  assert.deepEqual(splitStrings(denied.payload, 1), ["EACCES"]);
  // A watch fires at once, then when dom0 writes: the event arrives through the ring.
  call(XS_WATCH, strings("control", "tok"));
  dom0.write("/local/domain/5/control/shutdown", "poweroff");
  const events = [...mailbox.splice(0), ...ring.read()];
  assert.ok(events.every((m) => m.type === XS_WATCH_EVENT && m.reqId === 0 && m.txId === 0));
  assert.deepEqual(events.map((m) => splitStrings(m.payload, 2)), [
    ["control", "tok"],
    ["control/shutdown", "tok"],
  ]);
  assert.ok(notifications() > 0);
  assert.equal(server.failure, undefined);
});

Deno.test("messages larger than the ring cross it in pieces, both ways", () => {
  const { call, dom0 } = guest(5, { quota: { maxEntrySize: 8192 } });
  const big = "0123456789abcdef".repeat(250); // 4000 bytes, the reply is 4016
  call(XS_WRITE, writeRequest("big", big));
  assert.equal(dom0.read("/local/domain/5/big").length, 4000);
  assert.equal(text.decode(call(XS_READ, strings("big")).payload), big);
  // The largest legal payload.
  const path = "max";
  const value = "v".repeat(XENSTORE_PAYLOAD_MAX - path.length - 1);
  dom0.write("/local/domain/5/max", "");
  assert.equal(call(XS_WRITE, writeRequest(path, value)).type, XS_WRITE);
  assert.equal(call(XS_READ, strings(path)).payload.length, XENSTORE_PAYLOAD_MAX - 4);
});

Deno.test("indices wrap around 2^32 and requests queued before introduction are served", () => {
  const start = 0xffff_ff00;
  const { call, dom0 } = guest(5, {
    before(ring) {
      for (const word of [WORD.reqCons, WORD.reqProd, WORD.rspCons, WORD.rspProd]) {
        ring.index[word] = start;
      }
      ring.write(encodeMessage(XS_WRITE, 1000, 0, writeRequest("early", "bird")));
    },
  });
  assert.equal(dom0.read("/local/domain/5/early"), "bird");
  for (let i = 0; i < 20; i++) call(XS_WRITE, writeRequest(`k${i}`, "x".repeat(100)));
  assert.equal(dom0.directory("/local/domain/5").length, 21);
});

Deno.test("a producer index over a ring ahead fails the ring; reconnecting recovers", () => {
  const { daemon, ring, server, call, page } = guest();
  const index = new Uint32Array(page.buffer, 2048, 7);
  call(XS_WATCH, strings("w", "t"));
  ring.read();
  index[WORD.reqProd] = (index[WORD.reqCons] + 1025) >>> 0;
  server.onEvent();
  assert.equal(index[WORD.error], XENSTORE_ERROR_RINGIDX);
  assert.match(server.failure!, /ahead/);
  // Failed: nothing is read, nothing sent, even watch events.
  const before = index[WORD.reqCons];
  new LocalClient(daemon).write("/local/domain/5/w", "x");
  server.onEvent();
  assert.equal(index[WORD.reqCons], before);
  // Reconnect: indices zeroed, error cleared, CONNECTED written, watches forgotten.
  ring.reconnect();
  server.onEvent();
  assert.deepEqual([...index.subarray(0, 4)], [0, 0, 0, 0]);
  assert.equal(index[WORD.error], XENSTORE_ERROR_NONE);
  assert.equal(index[WORD.connection], XENSTORE_CONNECTED);
  new LocalClient(daemon).write("/local/domain/5/w", "y");
  assert.equal(ring.read().length, 0, "the watch went with the old connection state");
  assert.equal(text.decode(call(XS_READ, strings("w")).payload), "y");
  assert.equal(server.metrics.resets, 1);
});

Deno.test("an oversized payload fails the ring with PROTO; a bad rsp_cons with RINGIDX", () => {
  const a = guest();
  const header = encodeMessage(XS_READ, 1, 0, new Uint8Array(0));
  new DataView(header.buffer).setUint32(12, XENSTORE_PAYLOAD_MAX + 1, true);
  a.ring.write(header);
  a.server.onEvent();
  assert.equal(a.ring.index[WORD.error], XENSTORE_ERROR_PROTO);
  const b = guest();
  b.ring.index[WORD.rspCons] = (b.ring.index[WORD.rspProd] + 5) >>> 0; // consumer ahead
  b.ring.write(encodeMessage(XS_READ, 1, 0, strings("x")));
  b.server.onEvent();
  assert.equal(b.ring.index[WORD.error], XENSTORE_ERROR_RINGIDX);
  assert.equal(a.daemon.metrics.internalErrors + b.daemon.metrics.internalErrors, 0);
});

Deno.test("a guest that stops reading stalls only itself; its watch events drop", () => {
  const { daemon, ring, server, page } = guest(5, { quota: { maxPendingMessages: 4 } });
  const index = new Uint32Array(page.buffer, 2048, 7);
  const other = guest(6);
  // Set a watch, then flood requests without reading a single reply.
  ring.write(encodeMessage(XS_WATCH, 1, 0, strings("w", "t")));
  server.onEvent();
  let sent = 0;
  for (let i = 0; i < 200; i++) {
    const bytes = encodeMessage(XS_READ, 100 + i, 0, strings("w"));
    if (ring.write(bytes) < bytes.length) break;
    sent++;
    server.onEvent();
  }
  assert.ok(server.pending >= 4, `${server.pending} queued`);
  const consumed = index[WORD.reqCons];
  server.onEvent();
  assert.equal(index[WORD.reqCons], consumed, "no request is taken while the queue is full");
  const dom0 = new LocalClient(daemon);
  for (let i = 0; i < 10; i++) dom0.write("/local/domain/5/w", String(i));
  assert.ok(server.metrics.droppedEvents > 0);
  // Other guests are served meanwhile.
  assert.equal(other.call(XS_WRITE, writeRequest("alive", "yes")).type, XS_WRITE);
  // Once the guest reads, everything it asked gets its answer, in order.
  const replies: Message[] = [];
  for (let i = 0; i < 1000 && replies.filter((m) => m.reqId >= 100).length < sent; i++) {
    replies.push(...ring.read());
    server.onEvent();
  }
  const answers = replies.filter((m) => m.type !== XS_WATCH_EVENT && m.reqId >= 100);
  assert.deepEqual(answers.map((m) => m.reqId), Array.from({ length: sent }, (_, i) => 100 + i));
});

Deno.test("the ring page must be big enough and aligned", () => {
  const opts = { notify() {}, onMessage() {} };
  assert.throws(() => new RingServer(new Uint8Array(100), opts), RangeError);
  assert.throws(
    () => new RingServer(new Uint8Array(new ArrayBuffer(4100), 2, 4096), opts),
    RangeError,
  );
  assert.throws(() => new RingServer({} as Uint8Array, opts), TypeError);
});

Deno.test("a guest in another thread talks to xenstored through a shared page", async () => {
  const daemon = new Xenstored();
  const dom0 = new LocalClient(daemon);
  dom0.mkdir("/local/domain/7");
  dom0.setPerms("/local/domain/7", ["n7"]);
  const page = new SharedArrayBuffer(4096);
  const events = new SharedArrayBuffer(4);
  const notified = new Int32Array(events);
  const server = daemon.introduceDomain(7, {
    page: new Uint8Array(page),
    notify() {
      Atomics.add(notified, 0, 1);
      Atomics.notify(notified, 0);
    },
  });
  const worker = new Worker(new URL("./_ring_guest_worker.ts", import.meta.url), {
    type: "module",
  });
  try {
    const result = await new Promise<{ ok: number; rounds: number; commit: string }>(
      (resolve, reject) => {
        worker.onmessage = (event) => {
          if (event.data === "kick") server.onEvent();
          else resolve(event.data);
        };
        worker.onerror = (event) => {
          event.preventDefault();
          reject(new Error(event.message));
        };
        worker.postMessage({ page, events, rounds: 300 });
      },
    );
    assert.deepEqual(result, { ok: 300, rounds: 300, commit: "OK\0" });
    assert.equal(dom0.read("/local/domain/7/committed"), "");
    assert.equal(dom0.directory("/local/domain/7/data").length, 10);
    assert.equal(server.failure, undefined);
  } finally {
    worker.terminate();
  }
});

Deno.test("fuzz: well-formed random requests on a ring are each answered exactly once", () => {
  const outcomes = new Map<string, number>();
  for (let seed = 1; seed <= 30; seed++) {
    const rand = mulberry32(seed);
    const daemon = new Xenstored();
    const other = guest(6, { daemon });
    const dom0 = new LocalClient(daemon);
    dom0.write("/local/domain/6/secret", "s");
    dom0.setPerms("/local/domain/6/secret", ["n0", "r6"]);
    const { ring, server } = guest(5, { daemon });
    const sent: number[] = [];
    const answered: number[] = [];
    const count = (m: Message) => {
      const key = m.type === XS_ERROR ? splitStrings(m.payload, 1)[0] : "success";
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    };
    let queue = new Uint8Array(0);
    for (let i = 0; i < 300; i++) {
      const type = rand() < 0.9 ? Math.floor(rand() * 24) : Math.floor(rand() * 2 ** 32);
      const txId = rand() < 0.7 ? 0 : Math.floor(rand() * 4);
      const message = encodeMessage(type, 1000 + i, txId, randomPayload(rand));
      sent.push(1000 + i);
      queue = new Uint8Array([...queue, ...message]);
      const written = ring.write(queue);
      queue = queue.slice(written);
      server.onEvent();
      for (const m of ring.read()) {
        if (m.type === XS_WATCH_EVENT) continue;
        answered.push(m.reqId);
        count(m);
      }
    }
    for (let spins = 0; spins < 200 && answered.length < sent.length; spins++) {
      queue = queue.slice(ring.write(queue));
      server.onEvent();
      for (const m of ring.read()) {
        if (m.type === XS_WATCH_EVENT) continue;
        answered.push(m.reqId);
        count(m);
      }
    }
    assert.equal(server.failure, undefined, `seed ${seed}`);
    assert.deepEqual(answered, sent, `seed ${seed}: every request answered once, in order`);
    assert.deepEqual(daemon.store.check(), [], `seed ${seed}`);
    assert.equal(daemon.metrics.internalErrors, 0, `seed ${seed}`);
    assert.equal(text.decode(other.call(XS_READ, strings("secret")).payload), "s");
  }
  // The fuzz reaches both successes and the interesting refusals.
  for (const key of ["success", "EINVAL", "ENOENT", "EACCES", "ENOSYS"]) {
    assert.ok((outcomes.get(key) ?? 0) > 10, `${key}: ${JSON.stringify([...outcomes])}`);
  }
});

Deno.test("fuzz: garbage bytes and hostile indices never escape the ring server", () => {
  const totals = { failures: 0, resets: 0, requests: 0 };
  for (let seed = 1; seed <= 40; seed++) {
    const rand = mulberry32(seed);
    const daemon = new Xenstored();
    const bystander = guest(6, { daemon });
    const { ring, server, call } = guest(5, { daemon });
    for (let step = 0; step < 200; step++) {
      const r = rand();
      if (r < 0.35) {
        ring.write(Uint8Array.from({ length: Math.floor(rand() * 600) }, () => rand() * 256));
      } else if (r < 0.6) {
        const len = rand() < 0.1 ? XENSTORE_PAYLOAD_MAX + 1 + Math.floor(rand() * 1e6) : 0;
        const message = encodeMessage(Math.floor(rand() * 30), step, 0, randomPayload(rand));
        if (len) new DataView(message.buffer).setUint32(12, len, true);
        ring.write(message);
      } else if (r < 0.75) {
        const word = Math.floor(rand() * 7);
        ring.index[word] = rand() < 0.5 ? Math.floor(rand() * 2 ** 32) : ring.index[word] + 1;
      } else if (r < 0.9) {
        ring.read();
      } else {
        ring.reconnect();
      }
      server.onEvent(); // must never throw
    }
    totals.failures += server.metrics.failures;
    totals.resets += server.metrics.resets;
    totals.requests += server.metrics.requests;
    assert.equal(daemon.metrics.internalErrors, 0, `seed ${seed}`);
    assert.deepEqual(daemon.store.check(), [], `seed ${seed}`);
    // The bystander never noticed; the fuzzed guest recovers by reconnecting.
    assert.equal(bystander.call(XS_WRITE, writeRequest("ok", "1")).type, XS_WRITE, `seed ${seed}`);
    ring.reconnect();
    server.onEvent();
    assert.equal(call(XS_WRITE, writeRequest("back", "1")).type, XS_WRITE, `seed ${seed}`);
  }
  // It did break rings, reconnect them and get requests through in between.
  assert.ok(
    totals.failures > 40 && totals.resets > 40 && totals.requests > 200,
    JSON.stringify(totals),
  );
});

Deno.test("work beyond the budget is rescheduled; re-entrant events are not lost", () => {
  const page = new Uint8Array(new SharedArrayBuffer(4096));
  const ring = new GuestRing(page);
  const later: (() => void)[] = [];
  const server: RingServer = new RingServer(page, {
    // An embedder that delivers the guest's next kick synchronously from inside notify().
    notify: () => server.onEvent(),
    onMessage: (m) => server.send(encodeMessage(m.type, m.reqId, 0, joinStrings(["OK"]))),
    budget: 3,
    schedule: (fn) => later.push(fn),
  });
  for (let i = 0; i < 20; i++) ring.write(encodeMessage(XS_READ, i, 0, strings("x")));
  server.onEvent();
  const answered = ring.read().map((m) => m.reqId);
  assert.ok(answered.length < 20, "the budget stopped it");
  assert.equal(later.length, 1, "and it asked to be called again");
  while (later.length > 0) {
    later.shift()!();
    answered.push(...ring.read().map((m) => m.reqId));
  }
  assert.deepEqual(answered, Array.from({ length: 20 }, (_, i) => i));
});
