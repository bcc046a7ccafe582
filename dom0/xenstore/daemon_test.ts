import assert from "node:assert/strict";
import {
  XENSTORE_PAYLOAD_MAX,
  XS_DIRECTORY_PART,
  XS_ERROR,
  XS_READ,
  XS_WATCH_EVENT,
  type XsdErrorName,
} from "@paravirt/public";
import { LocalClient } from "./client.ts";
import { Xenstored } from "./daemon.ts";
import { XenstoreError } from "./errors.ts";
import type { RingEndpoint } from "./ring.ts";
import { decodeMessage, encodeMessage, joinStrings, splitStrings } from "./wire.ts";

function refused(fn: () => unknown, code: XsdErrorName) {
  assert.throws(fn, (e) => e instanceof XenstoreError && e.code === code, `expected ${code}`);
}

/** A daemon, dom0, and the usual home directories for guests 5 and 6 (owned by them). */
function setup(quota = {}) {
  const daemon = new Xenstored({ quota });
  const dom0 = new LocalClient(daemon);
  for (const domid of [5, 6]) {
    dom0.mkdir(`/local/domain/${domid}`);
    dom0.setPerms(`/local/domain/${domid}`, [`n${domid}`]);
  }
  const guest5 = new LocalClient(daemon, { domid: 5 });
  const guest6 = new LocalClient(daemon, { domid: 6 });
  return { daemon, dom0, guest5, guest6 };
}

function healthy(daemon: Xenstored) {
  assert.deepEqual(daemon.store.check(), []);
  assert.equal(daemon.metrics.internalErrors, 0);
}

Deno.test("read, write, mkdir, directory and rm behave as Xen's", () => {
  const { daemon, dom0 } = setup();
  dom0.write("/vm/uuid/name", "guest");
  assert.equal(dom0.read("/vm/uuid/name"), "guest");
  assert.equal(dom0.read("/vm/uuid"), "", "parents are created empty");
  assert.deepEqual(dom0.directory("/"), ["local", "vm"]);
  dom0.write("/vm/uuid/name", new Uint8Array([0, 1, 255]));
  assert.deepEqual([...dom0.readBytes("/vm/uuid/name")], [0, 1, 255]);
  dom0.write("/vm/uuid/empty", "");
  assert.equal(dom0.read("/vm/uuid/empty"), "");
  dom0.write("/vm/uuid", "x");
  dom0.mkdir("/vm/uuid"); // exists: value kept
  assert.equal(dom0.read("/vm/uuid"), "x");
  dom0.mkdir("/a/b/c");
  assert.deepEqual(dom0.directory("/a/b"), ["c"]);
  assert.deepEqual(dom0.directory("/a/b/c"), []);
  refused(() => dom0.read("/nope"), "ENOENT");
  refused(() => dom0.directory("/nope"), "ENOENT");
  dom0.rm("/vm/uuid/missing"); // missing, but its parent exists: fine
  refused(() => dom0.rm("/vm/nothing/missing"), "ENOENT");
  refused(() => dom0.rm("/"), "EINVAL");
  dom0.rm("/vm");
  refused(() => dom0.read("/vm/uuid/name"), "ENOENT");
  assert.deepEqual(dom0.directory("/"), ["local", "a"]);
  refused(() => dom0.read("/bad//path"), "EINVAL");
  refused(() => dom0.write("/trailing/", "x"), "EINVAL");
  refused(() => dom0.read("/sp ace"), "EINVAL");
  refused(() => dom0.read("@releaseDomain"), "EINVAL");
  healthy(daemon);
});

Deno.test("relative paths are the caller's home; GET_DOMAIN_PATH names it", () => {
  const { dom0, guest5 } = setup();
  guest5.write("device/vif/0/state", "1");
  assert.equal(dom0.read("/local/domain/5/device/vif/0/state"), "1");
  assert.equal(guest5.read("device/vif/0/state"), "1");
  dom0.write("name", "Domain-0");
  assert.equal(dom0.read("/local/domain/0/name"), "Domain-0");
  assert.equal(guest5.getDomainPath(12), "/local/domain/12");
  refused(() => guest5.getDomainPath(-1), "EINVAL");
});

Deno.test("guests see and change only what permissions allow", () => {
  const { daemon, dom0, guest5, guest6 } = setup();
  dom0.write("/local/domain/5/secret", "s");
  dom0.setPerms("/local/domain/5/secret", ["n0"]);
  refused(() => guest5.read("/local/domain/5/secret"), "EACCES");
  // A missing node below an unreadable one does not reveal whether it exists.
  refused(() => guest6.read("/local/domain/5/nothing"), "EACCES");
  refused(() => guest5.read("/local/domain/5/secret/nothing"), "EACCES");
  refused(() => guest5.read("/local/domain/5/nothing"), "ENOENT");
  // Read-only for 5, invisible for 6.
  dom0.write("/local/domain/5/ro", "r");
  dom0.setPerms("/local/domain/5/ro", ["n0", "r5"]);
  assert.equal(guest5.read("/local/domain/5/ro"), "r");
  refused(() => guest5.write("/local/domain/5/ro", "w"), "EACCES");
  refused(() => guest5.write("/local/domain/5/ro/child", "w"), "EACCES");
  refused(() => guest5.rm("/local/domain/5/ro"), "EACCES");
  refused(() => guest6.read("/local/domain/5/ro"), "EACCES");
  refused(() => guest6.directory("/local/domain/5"), "EACCES");
  refused(() => guest6.write("/local/domain/5/x", "x"), "EACCES");
  refused(() => guest6.write("/x", "x"), "EACCES");
  // Write-only: may write, may not read.
  dom0.write("/local/domain/5/wo", "");
  dom0.setPerms("/local/domain/5/wo", ["n0", "w6"]);
  guest6.write("/local/domain/5/wo", "hi");
  refused(() => guest6.read("/local/domain/5/wo"), "EACCES");
  // The default (first entry's access) applies to unlisted domains.
  dom0.write("/pub", "p");
  dom0.setPerms("/pub", ["r0"]);
  assert.equal(guest6.read("/pub"), "p");
  assert.deepEqual(guest6.getPerms("/pub"), ["r0"]);
  healthy(daemon);
});

Deno.test("what a guest creates it owns, and only dom0 may give a node away", () => {
  const { daemon, dom0, guest5, guest6 } = setup();
  dom0.write("/local/domain/5/shared", "");
  dom0.setPerms("/local/domain/5/shared", ["n0", "b5"]);
  guest5.write("/local/domain/5/shared/a/b", "v");
  assert.deepEqual(dom0.getPerms("/local/domain/5/shared/a/b"), ["n5", "b5"]);
  assert.deepEqual(dom0.getPerms("/local/domain/5/shared/a"), ["n5", "b5"]);
  guest5.setPerms("/local/domain/5/shared/a/b", ["n5", "r6"]);
  assert.equal(guest6.read("/local/domain/5/shared/a/b"), "v");
  refused(() => guest5.setPerms("/local/domain/5/shared/a/b", ["n6"]), "EPERM");
  refused(() => guest5.setPerms("/local/domain/5/shared", ["n0", "b5", "r6"]), "EACCES");
  refused(() => guest6.setPerms("/local/domain/5/shared/a/b", ["n5", "b6"]), "EACCES");
  refused(() => guest5.setPerms("/local/domain/5/shared/a/b", []), "EINVAL");
  refused(() => dom0.setPerms("/local/domain/5/shared/a/b", ["q5"]), "EINVAL");
  dom0.setPerms("/local/domain/5/shared/a/b", ["n6"]);
  assert.equal(daemon.store.owned(6), 2, "its home and the node it was given");
  assert.equal(guest6.read("/local/domain/5/shared/a/b"), "v");
  healthy(daemon);
});

Deno.test("quotas stop a guest, not dom0", () => {
  const { daemon, dom0, guest5 } = setup({
    maxNodes: 10,
    maxEntrySize: 64,
    maxWatches: 3,
    maxTransactions: 2,
    maxTransactionNodes: 8,
    maxPerms: 3,
  });
  // Nodes: the home node is already 5's; nine more fit, the tenth does not.
  for (let i = 0; i < 9; i++) guest5.write(`n${i}`, "x");
  refused(() => guest5.write("n9", "x"), "ENOSPC");
  refused(() => guest5.write("deep/a/b", "x"), "ENOSPC");
  assert.equal(daemon.store.owned(5), 10);
  guest5.rm("n8");
  guest5.write("n9", "x");
  // A refused multi-node create changed nothing.
  refused(() => guest5.mkdir("p/q"), "ENOSPC");
  refused(() => guest5.read("p"), "ENOENT");
  // Entry size: value plus child names.
  guest5.write("n0", "v".repeat(64));
  refused(() => guest5.write("n0", "v".repeat(65)), "ENOSPC");
  dom0.write("/local/domain/5/n0", "v".repeat(4000));
  // Watches.
  for (let i = 0; i < 3; i++) guest5.watch("n1", `t${i}`);
  refused(() => guest5.watch("n1", "t3"), "E2BIG");
  guest5.unwatch("n1", "t0");
  guest5.watch("n1", "t3");
  // Transactions open at once, and nodes touched by one.
  const a = guest5.transactionStart();
  const b = guest5.transactionStart();
  refused(() => guest5.transactionStart(), "ENOSPC");
  guest5.transactionEnd(b, false);
  // Each read of a missing node touches it and the nearest ancestor (the home, once).
  for (let i = 0; i < 7; i++) refused(() => guest5.read(`missing${i}`, a), "ENOENT");
  refused(() => guest5.read("n1", a), "ENOSPC");
  guest5.transactionEnd(a, false);
  // Permission entries.
  guest5.setPerms("n1", ["n5", "r6", "r7"]);
  refused(() => guest5.setPerms("n1", ["n5", "r6", "r7", "r8"]), "ENOSPC");
  // Dom0 has none of these limits.
  for (let i = 0; i < 20; i++) dom0.write(`/local/domain/5/d${i}`, "x");
  for (let i = 0; i < 5; i++) dom0.transactionStart();
  healthy(daemon);
});

Deno.test("transactions: isolation, commit, discard and EAGAIN on conflict", () => {
  const { daemon, dom0, guest5 } = setup();
  dom0.write("/counter", "0");
  const tx = dom0.transactionStart();
  dom0.write("/counter", "1", tx);
  dom0.write("/new/node", "n", tx);
  assert.equal(dom0.read("/counter"), "0", "invisible outside until commit");
  assert.equal(dom0.read("/counter", tx), "1");
  refused(() => dom0.read("/new/node"), "ENOENT");
  dom0.transactionEnd(tx, true);
  assert.equal(dom0.read("/new/node"), "n");
  const discarded = dom0.transactionStart();
  dom0.rm("/new", discarded);
  dom0.transactionEnd(discarded, false);
  assert.equal(dom0.read("/new/node"), "n");
  // A node the transaction read is changed by someone else: EAGAIN, nothing applied.
  const t1 = guest5.transactionStart();
  assert.equal(guest5.read("/local/domain/5", t1), "");
  guest5.write("mine", "a", t1);
  dom0.write("/local/domain/5", "changed");
  refused(() => guest5.transactionEnd(t1, true), "EAGAIN");
  refused(() => guest5.read("mine"), "ENOENT");
  refused(() => guest5.transactionEnd(t1, true), "ENOENT"); // gone either way
  // A change elsewhere does not conflict.
  const t2 = guest5.transactionStart();
  guest5.write("mine", "b", t2);
  dom0.write("/elsewhere", "x");
  guest5.transactionEnd(t2, true);
  assert.equal(guest5.read("mine"), "b");
  // A listed directory that gains a child conflicts.
  const t3 = dom0.transactionStart();
  dom0.directory("/local/domain", t3);
  dom0.write("/other", "o", t3);
  dom0.mkdir("/local/domain/7");
  refused(() => dom0.transactionEnd(t3, true), "EAGAIN");
  // The retry helper gets through.
  let attempts = 0;
  dom0.transaction((t) => {
    attempts++;
    const n = Number(dom0.read("/counter", t));
    if (attempts === 1) dom0.write("/counter", "100"); // a racing writer
    dom0.write("/counter", String(n + 1), t);
  });
  assert.equal(attempts, 2);
  assert.equal(dom0.read("/counter"), "101");
  refused(() => dom0.read("/counter", 999), "ENOENT");
  assert.equal(daemon.metrics.conflicts, 3);
  healthy(daemon);
});

Deno.test("transaction start does not nest and end needs T or F", () => {
  const { dom0 } = setup();
  const tx = dom0.transactionStart();
  refused(() => dom0.request(6, joinStrings([""]), tx), "EBUSY");
  refused(() => dom0.request(7, joinStrings(["X"]), tx), "EINVAL");
  dom0.transactionEnd(tx, true);
});

Deno.test("watches fire once when set, then at or below their path, after commit", async () => {
  const { daemon, dom0, guest5 } = setup();
  dom0.watch("/local/domain/5", "home");
  assert.deepEqual(dom0.events.splice(0), [{ path: "/local/domain/5", token: "home" }]);
  guest5.write("device/vbd/state", "1");
  dom0.write("/local/domain/5x", "sibling");
  dom0.write("/local/domain/55", "not below");
  assert.deepEqual(dom0.events.splice(0), [
    { path: "/local/domain/5/device/vbd/state", token: "home" },
  ]);
  const tx = guest5.transactionStart();
  guest5.write("a", "1", tx);
  guest5.write("b", "2", tx);
  assert.equal(dom0.events.length, 0, "nothing before commit");
  guest5.transactionEnd(tx, true);
  assert.deepEqual(dom0.events.splice(0).map((e) => e.path), [
    "/local/domain/5/a",
    "/local/domain/5/b",
  ]);
  const aborted = guest5.transactionStart();
  guest5.write("c", "3", aborted);
  guest5.transactionEnd(aborted, false);
  assert.equal(dom0.events.length, 0);
  // Removing a parent fires watches set below it, with their own path.
  dom0.watch("/local/domain/5/device/vbd/state", "deep");
  dom0.events.length = 0;
  dom0.rm("/local/domain/5/device");
  assert.deepEqual(dom0.events.splice(0).map((e) => `${e.token}:${e.path}`).sort(), [
    "deep:/local/domain/5/device/vbd/state",
    "home:/local/domain/5/device",
  ]);
  // Permission changes fire; unwatch stops events; duplicates are refused.
  dom0.setPerms("/local/domain/5/a", ["n5"]);
  assert.deepEqual(dom0.events.splice(0).map((e) => e.path), ["/local/domain/5/a"]);
  refused(() => dom0.watch("/local/domain/5", "home"), "EEXIST");
  dom0.unwatch("/local/domain/5", "home");
  refused(() => dom0.unwatch("/local/domain/5", "home"), "ENOENT");
  dom0.write("/local/domain/5/a", "again");
  assert.equal(dom0.events.length, 0);
  // With a callback, events come from a microtask.
  const seen: string[] = [];
  const cb = new LocalClient(daemon, { onWatch: (e) => seen.push(e.path) });
  cb.watch("/w", "t");
  assert.deepEqual(seen, []);
  await Promise.resolve();
  assert.deepEqual(seen, ["/w"]);
  healthy(daemon);
});

Deno.test("relative watches report relative paths; guests hear only what they may read", () => {
  const { dom0, guest5, guest6 } = setup();
  guest5.watch("device", "dev");
  assert.deepEqual(guest5.events.splice(0), [{ path: "device", token: "dev" }]);
  dom0.write("/local/domain/5/device/vif/0/state", "4");
  assert.deepEqual(guest5.events.splice(0), [{ path: "device/vif/0/state", token: "dev" }]);
  guest6.watch("/local/domain/5", "spy");
  guest6.events.length = 0;
  dom0.write("/local/domain/5/device/x", "1"); // owned by 5, default none: 6 may not read
  assert.equal(guest6.events.length, 0);
  dom0.setPerms("/local/domain/5/device/x", ["n5", "r6"]); // now 6 may: it hears of it
  assert.deepEqual(guest6.events.splice(0).map((e) => e.path), ["/local/domain/5/device/x"]);
  dom0.setPerms("/local/domain/5/device/x", ["n5"]); // losing access is heard too
  assert.deepEqual(guest6.events.splice(0).map((e) => e.path), ["/local/domain/5/device/x"]);
  dom0.write("/local/domain/5/device/x", "2");
  assert.equal(guest6.events.length, 0);
});

function fakeRing(): RingEndpoint & { closed: boolean } {
  return {
    page: new Uint8Array(new SharedArrayBuffer(4096)),
    notify() {},
    closed: false,
    close() {
      this.closed = true;
    },
  };
}

Deno.test("introduce, release and the special watches", () => {
  const bound: [number, number, number][] = [];
  const endpoints: ReturnType<typeof fakeRing>[] = [];
  const daemon = new Xenstored({
    rings: {
      bind(domid, mfn, port) {
        if (mfn === 666) throw new Error("not that domain's frame");
        bound.push([domid, mfn, port]);
        endpoints.push(fakeRing());
        return endpoints.at(-1)!;
      },
    },
  });
  const dom0 = new LocalClient(daemon);
  dom0.watch("@introduceDomain", "in");
  dom0.watch("@releaseDomain", "out");
  dom0.events.length = 0;
  assert.ok(!dom0.isDomainIntroduced(3));
  assert.ok(dom0.isDomainIntroduced(0));
  dom0.introduce(3, 1234, 7);
  assert.deepEqual(bound, [[3, 1234, 7]]);
  assert.ok(dom0.isDomainIntroduced(3));
  assert.ok(daemon.ring(3));
  assert.deepEqual(dom0.events.splice(0), [{ path: "@introduceDomain", token: "in" }]);
  refused(() => dom0.introduce(4, 666, 1), "EINVAL");
  refused(() => dom0.introduce(0, 1, 1), "EINVAL");
  refused(() => dom0.introduce(0x7ff0, 1, 1), "EINVAL");
  refused(() => dom0.request(8, joinStrings(["4", "x", "1"])), "EINVAL");
  // A guest may not introduce or release, nor hear of it without permission.
  const guest = new LocalClient(daemon, { domid: 9 });
  refused(() => guest.introduce(4, 1, 1), "EACCES");
  refused(() => guest.release(3), "EACCES");
  guest.watch("@releaseDomain", "g");
  guest.events.length = 0;
  dom0.release(3);
  assert.ok(!dom0.isDomainIntroduced(3));
  assert.ok(endpoints[0].closed, "the ring was given back");
  assert.deepEqual(dom0.events.splice(0), [{ path: "@releaseDomain", token: "out" }]);
  assert.equal(guest.events.length, 0);
  refused(() => dom0.release(3), "ENOENT");
  // Dom0 may open the special node to a guest.
  refused(() => guest.setPerms("@releaseDomain", ["n0", "r9"]), "EACCES");
  dom0.setPerms("@releaseDomain", ["n0", "r9"]);
  assert.deepEqual(guest.getPerms("@releaseDomain"), ["n0", "r9"]);
  dom0.introduce(3, 1, 1);
  dom0.release(3);
  assert.deepEqual(guest.events.splice(0), [{ path: "@releaseDomain", token: "g" }]);
  refused(() => dom0.getPerms("@nosuch"), "ENOENT");
  assert.equal(daemon.metrics.internalErrors, 0);
  // A binder that hands back an unusable page: refused before anything changes.
  const broken = new Xenstored({
    rings: { bind: () => ({ page: new Uint8Array(16), notify() {} }) },
  });
  refused(() => new LocalClient(broken).introduce(3, 1, 1), "EINVAL");
  assert.ok(!broken.isIntroduced(3));
  // Without a binder there is no way to reach guest memory.
  refused(() => new LocalClient(new Xenstored()).introduce(3, 1, 1), "EINVAL");
});

Deno.test("a target domain acts for the domain it serves", () => {
  const { daemon, dom0 } = setup();
  daemon.introduceDomain(7, fakeRing());
  const dm = new LocalClient(daemon, { domid: 7 });
  refused(() => dm.read("/local/domain/5"), "EACCES");
  dom0.request(19, joinStrings(["7", "5"]));
  assert.equal(dm.read("/local/domain/5"), "");
  dm.write("/local/domain/5/dm", "x");
  refused(() => dm.request(19, joinStrings(["7", "6"])), "EACCES");
  refused(() => dom0.request(19, joinStrings(["8", "5"])), "ENOENT");
});

Deno.test("long directories: E2BIG for DIRECTORY, DIRECTORY_PART in slices", () => {
  const { dom0 } = setup();
  const names = Array.from({ length: 500 }, (_, i) => `child-with-a-long-name-${i}`);
  for (const name of names) dom0.write(`/big/${name}`, "");
  refused(() => dom0.directory("/big"), "E2BIG");
  const got: string[] = [];
  let generation = "";
  for (let offset = 0;;) {
    const reply = dom0.request(XS_DIRECTORY_PART, joinStrings(["/big", String(offset)]));
    assert.ok(reply.length <= XENSTORE_PAYLOAD_MAX);
    const parts = splitStrings(reply, 1, true);
    generation ||= parts[0];
    assert.equal(parts[0], generation, "same generation in every slice");
    const slice = parts.slice(1);
    if (slice.at(-1) === "") {
      got.push(...slice.slice(0, -1));
      break;
    }
    got.push(...slice);
    offset += slice.reduce((n, s) => n + s.length + 1, 0);
  }
  assert.deepEqual(got, names);
  const past = splitStrings(dom0.request(XS_DIRECTORY_PART, joinStrings(["/big", "999999"])), 2);
  assert.deepEqual(past, [generation, ""]);
  refused(() => dom0.request(XS_DIRECTORY_PART, joinStrings(["/big", "-1"])), "EINVAL");
});

Deno.test("replies echo req_id and tx_id; unknown and server-only types are ENOSYS", () => {
  const daemon = new Xenstored();
  const replies: Uint8Array[] = [];
  const conn = daemon.connect({ domid: 0, privileged: true, deliver: (m) => replies.push(m) });
  const send = (type: number, reqId: number, txId: number, payload: Uint8Array) =>
    daemon.handle(conn, decodeMessage(encodeMessage(type, reqId, txId, payload)));
  send(XS_READ, 0xdeadbeef, 0, joinStrings(["/"]));
  send(XS_READ, 42, 77, joinStrings(["/"]));
  send(99, 43, 0, new Uint8Array(0));
  send(XS_WATCH_EVENT, 44, 0, joinStrings(["/", "t"]));
  send(XS_ERROR, 45, 0, joinStrings(["EINVAL"]));
  const decoded = replies.map(decodeMessage);
  assert.deepEqual(decoded.map((m) => [m.type, m.reqId, m.txId]), [
    [XS_READ, 0xdeadbeef, 0],
    [XS_ERROR, 42, 77],
    [XS_ERROR, 43, 0],
    [XS_ERROR, 44, 0],
    [XS_ERROR, 45, 0],
  ]);
  assert.deepEqual(decoded.slice(1).map((m) => splitStrings(m.payload, 1)[0]), [
    "ENOENT",
    "ENOSYS",
    "ENOSYS",
    "ENOSYS",
  ]);
});

Deno.test("control commands are dom0's: check, quota, quota-set, print, help", () => {
  const lines: string[] = [];
  const daemon = new Xenstored({ log: (line) => lines.push(line) });
  const dom0 = new LocalClient(daemon);
  const control = (...args: string[]) =>
    splitStrings(dom0.request(0, joinStrings(args)), 1, true)[0];
  assert.equal(control("check"), "OK");
  assert.match(control("help"), /quota-set/);
  assert.match(control("quota"), /maxNodes 1000/);
  assert.equal(control("quota-set", "maxNodes", "7"), "OK");
  assert.equal(daemon.quota.maxNodes, 7);
  refused(() => control("quota-set", "nonsense", "1"), "EINVAL");
  refused(() => control("frobnicate"), "EINVAL");
  control("print", "hello");
  assert.deepEqual(lines, ["xenstored: hello"]);
  refused(() => new LocalClient(daemon, { domid: 3 }).request(0, joinStrings(["check"])), "EACCES");
});

Deno.test("reset_watches drops a client's watches and transactions", () => {
  const { dom0, guest5 } = setup();
  guest5.watch("x", "t");
  const tx = guest5.transactionStart();
  guest5.request(21, joinStrings([""]));
  refused(() => guest5.transactionEnd(tx, true), "ENOENT");
  guest5.events.length = 0;
  dom0.write("/local/domain/5/x", "1");
  assert.equal(guest5.events.length, 0);
});

Deno.test("an event too long for one message is dropped, not thrown", () => {
  const { daemon, dom0, guest5 } = setup();
  const token = "t".repeat(3000);
  guest5.watch("a", token); // the initial event ("a" + token) fits
  assert.equal(guest5.events.splice(0).length, 1);
  dom0.write(`/local/domain/5/a/${"x".repeat(1500)}`, "");
  assert.equal(guest5.events.length, 0);
  assert.equal(daemon.metrics.droppedEvents, 1);
  healthy(daemon);
});

Deno.test("an in-process payload over the limit is E2BIG; a failing embedder is contained", () => {
  const lines: string[] = [];
  const daemon = new Xenstored({
    log: (line) => lines.push(line),
    rings: {
      bind: () => ({
        page: new Uint8Array(new SharedArrayBuffer(4096)),
        notify() {},
        close() {
          throw new Error("unmap failed");
        },
      }),
    },
  });
  const dom0 = new LocalClient(daemon);
  refused(() => dom0.write("/x", "v".repeat(XENSTORE_PAYLOAD_MAX)), "E2BIG");
  dom0.introduce(3, 1, 1);
  dom0.release(3); // the OK reply went out; the failing close is logged, not thrown
  assert.ok(!daemon.isIntroduced(3));
  assert.equal(daemon.metrics.internalErrors, 1);
  assert.match(lines.join(), /unmap failed/);
});
