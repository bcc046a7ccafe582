import assert from "node:assert/strict";
import { XenbusStateInitialising, XenbusStateInitWait } from "@paravirt/public";
import {
  advertiseVifBackend,
  createVifNodes,
  publishVifFrontend,
  readVifFrontend,
  readXenbusState,
  removeVifNodes,
  VifHandshakeError,
  vifPaths,
  type VifStore,
} from "./vif_xenbus.ts";

/** A store of plain paths (no permissions), enough to check what is written where. */
function memoryStore() {
  const nodes = new Map<string, string>();
  const perms = new Map<string, readonly string[]>();
  const store: VifStore = {
    read(path) {
      const value = nodes.get(path);
      if (value === undefined) throw new Error(`ENOENT ${path}`);
      return value;
    },
    write: (path, value) => void nodes.set(path, value),
    mkdir: (path) => void (nodes.has(path) || nodes.set(path, "")),
    rm: (path) => {
      for (const key of [...nodes.keys()]) {
        if (key === path || key.startsWith(`${path}/`)) nodes.delete(key);
      }
    },
    setPerms: (path, p) => void perms.set(path, p),
  };
  return { store, nodes, perms };
}

Deno.test("vif xenbus: the toolstack's nodes, the backend's features, Xen's paths", () => {
  const { store, nodes, perms } = memoryStore();
  const paths = createVifNodes(store, {
    domid: 5,
    devid: 1,
    mac: "00:16:3E:00:00:05",
    bridge: "br0",
  });
  assert.deepEqual(paths, vifPaths(5, 1));
  assert.equal(paths.backend, "/local/domain/0/backend/vif/5/1");
  assert.equal(paths.frontend, "/local/domain/5/device/vif/1");
  assert.equal(nodes.get(`${paths.frontend}/backend`), paths.backend);
  assert.equal(nodes.get(`${paths.frontend}/mac`), "00:16:3e:00:00:05");
  assert.equal(nodes.get(`${paths.backend}/bridge`), "br0");
  assert.equal(nodes.get(`${paths.backend}/frontend-id`), "5");
  assert.deepEqual(perms.get(paths.frontend), ["n5", "r0"]);
  assert.deepEqual(perms.get(paths.backend), ["n0", "r5"]);
  assert.equal(readXenbusState(store, `${paths.backend}/state`), XenbusStateInitialising);
  advertiseVifBackend(store, paths);
  assert.equal(readXenbusState(store, `${paths.backend}/state`), XenbusStateInitWait);
  assert.equal(nodes.get(`${paths.backend}/feature-rx-copy`), "1");
  assert.equal(nodes.get(`${paths.backend}/feature-split-event-channels`), "1");
  removeVifNodes(store, paths);
  assert.equal(nodes.size, 0);
  assert.throws(() => vifPaths(70000, 0), RangeError);
  assert.throws(
    () => createVifNodes(store, { domid: 1, devid: 0, mac: "nope", bridge: "br0" }),
    RangeError,
  );
  assert.throws(
    () => createVifNodes(store, { domid: 1, devid: 0, mac: "00:16:3e:00:00:01", bridge: "b r" }),
    RangeError,
  );
});

Deno.test("vif xenbus: the frontend's keys are read strictly", () => {
  const { store } = memoryStore();
  const paths = vifPaths(3, 0);
  const good = {
    txRingRef: 16,
    rxRingRef: 17,
    eventChannelTx: 5,
    eventChannelRx: 6,
    split: true,
    sg: true,
    rxNotify: true,
  };
  publishVifFrontend(store, paths, good);
  assert.deepEqual(readVifFrontend(store, paths), good);
  const single = { ...good, split: false, eventChannelRx: 5, sg: false };
  const { store: store2 } = memoryStore();
  publishVifFrontend(store2, paths, single);
  assert.deepEqual(readVifFrontend(store2, paths), single);
  const f = paths.frontend;
  const bad: [string, string | undefined, RegExp][] = [
    ["tx-ring-ref", undefined, /tx-ring-ref is missing/],
    ["tx-ring-ref", "-1", /is not a number/],
    ["rx-ring-ref", "0x10", /is not a number/],
    ["rx-ring-ref", "99999999999", /is not a number/],
    ["event-channel-rx", undefined, /event-channel-rx is missing/],
    ["request-rx-copy", "0", /only copies/],
    ["feature-sg", "yes", /is not 0 or 1/],
    ["multi-queue-num-queues", "2", /one queue only/],
  ];
  for (const [key, value, reason] of bad) {
    const { store: s } = memoryStore();
    publishVifFrontend(s, paths, good);
    if (value === undefined) s.rm(`${f}/${key}`);
    else s.write(`${f}/${key}`, value);
    assert.throws(() => readVifFrontend(s, paths), (e: Error) => {
      assert.ok(e instanceof VifHandshakeError, `${key}: ${e}`);
      assert.match(e.message, reason);
      return true;
    });
  }
});
