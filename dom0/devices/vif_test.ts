/**
 * The device supervisor's networking: vifs attached from vif lines, each served by a netback
 * worker on a bridge worker the supervisor creates on demand with the filter chain a rules file
 * configured; the guests are TypeScript netfronts writing into in-thread domains' memory.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  buildFrame,
  IPPROTO_UDP,
  parseMac,
  publishVifFrontend,
  TsNetfront,
} from "@paravirt/drivers";
import { type Domain, Hypervisor } from "@paravirt/hypervisor";
import {
  XenbusStateClosed,
  XenbusStateConnected,
  XenbusStateInitialised,
  XenbusStateInitialising,
  XenbusStateInitWait,
} from "@paravirt/public";
import { Xenstored } from "../xenstore/daemon.ts";
import { LocalClient } from "../xenstore/client.ts";
import { localControl } from "../domain_control.ts";
import { DeviceSupervisor } from "./supervisor.ts";

interface Guest {
  readonly domain: Domain;
  readonly store: LocalClient;
  front?: TsNetfront;
  readonly ip: number;
}

async function setup(count = 2) {
  const hv = new Hypervisor();
  const xenstored = new Xenstored();
  const logs: string[] = [];
  const supervisor = new DeviceSupervisor({
    control: localControl(hv),
    xenstored,
    log: (line) => logs.push(line),
    netWatchdog: { intervalMs: 100, timeoutMs: 3000 },
  });
  const dom0 = new LocalClient(xenstored);
  const dir = await Deno.makeTempDir({ prefix: "vif-test-" });
  const guests: Guest[] = [];
  for (let n = 1; n <= count; n++) {
    const domain = hv.allocateDomain({ name: `g${n}`, memoryMiB: 2 });
    for (let i = 0; i < 40; i++) domain.populate(i, i);
    dom0.mkdir(`/local/domain/${domain.id}`);
    dom0.setPerms(`/local/domain/${domain.id}`, [`n${domain.id}`]);
    guests.push({
      domain,
      store: new LocalClient(xenstored, { domid: domain.id }),
      ip: 0x0a000000 + n,
    });
  }
  const step = () => {
    hv.run(0);
    for (const g of guests) g.front?.poll();
  };
  const until = async (what: string, done: () => boolean, timeoutMs = 15_000) => {
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      assert.ok(performance.now() < deadline, `timed out waiting for ${what}\n${logs.join("\n")}`);
      step();
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  /** The guest's netfront side of the handshake for vif `devid`. */
  const connect = async (guest: Guest, devid = 0) => {
    const id = guest.domain.id;
    const frontend = `/local/domain/${id}/device/vif/${devid}`;
    const backend = `/local/domain/0/backend/vif/${id}/${devid}`;
    await until("InitWait", () => dom0.read(`${backend}/state`) === String(XenbusStateInitWait));
    const port = guest.domain.events.allocUnbound(0);
    const front = new TsNetfront(hv.foreignView(guest.domain), {
      pages: Array.from({ length: 34 }, (_, i) => i),
      txBuffers: 16,
      rxBuffers: 16,
      notify: () => guest.domain.events.send(port),
    });
    publishVifFrontend(guest.store, { frontend, backend }, {
      txRingRef: front.txRingRef,
      rxRingRef: front.rxRingRef,
      eventChannelTx: port,
      eventChannelRx: port,
      split: false,
      sg: true,
      rxNotify: true,
    });
    guest.store.write(`${frontend}/state`, String(XenbusStateInitialised));
    await until(
      `vif ${id}/${devid} to connect`,
      () => dom0.read(`${backend}/state`) === String(XenbusStateConnected),
    );
    guest.store.write(`${frontend}/state`, String(XenbusStateConnected));
    guest.front = front;
  };
  const macOf = (guest: Guest) => parseMac(supervisor.listVifs(guest.domain.id)[0].mac);
  const udp = (from: Guest, to: Guest, dstPort: number, text: string) =>
    buildFrame({
      dst: macOf(to),
      src: macOf(from),
      ipSrc: from.ip,
      ipDst: to.ip,
      proto: IPPROTO_UDP,
      srcPort: 4000,
      dstPort,
      payload: new TextEncoder().encode(text),
    });
  const payloads = (guest: Guest) =>
    guest.front!.received.splice(0).map((f) => new TextDecoder().decode(f.subarray(42)));
  const cleanup = async () => {
    await supervisor.close();
    for (const g of guests) g.store.close();
    dom0.close();
    await Deno.remove(dir, { recursive: true });
  };
  return { hv, supervisor, dom0, dir, guests, logs, until, connect, udp, payloads, cleanup };
}

Deno.test("vifs: Xen's nodes, a bridge with the rules file's filter, frames, network-list", async () => {
  const s = await setup();
  try {
    const [a, b] = s.guests;
    const rules = join(s.dir, "lab.rules");
    await Deno.writeTextFile(rules, "# lab\ndeny proto=udp dport=9\n");
    const sigs = join(s.dir, "lab.sigs");
    await Deno.writeTextFile(sigs, "signature secret text SECRET\n");
    const info = await s.supervisor.attachVif(
      a.domain.id,
      "mac=00:16:3e:00:00:0a, bridge=lab, filter=lab.rules, ids=lab.sigs, ip=10.0.0.1",
      { baseDir: s.dir },
    );
    const back = `/local/domain/0/backend/vif/${a.domain.id}/0`;
    const front = `/local/domain/${a.domain.id}/device/vif/0`;
    assert.equal(info.backendPath, back);
    assert.equal(info.frontendPath, front);
    assert.equal(info.devid, 0);
    assert.equal(info.state, XenbusStateInitialising);
    assert.equal(info.backendState, XenbusStateInitWait);
    assert.equal(info.eventChannel, -1);
    assert.equal(info.port, `vif${a.domain.id}.0`);
    const read = (path: string) => s.dom0.read(path);
    assert.equal(read(`${back}/mac`), "00:16:3e:00:00:0a");
    assert.equal(read(`${back}/bridge`), "lab");
    assert.equal(read(`${back}/ip`), "10.0.0.1");
    assert.equal(read(`${back}/type`), "vif");
    assert.equal(read(`${back}/online`), "1");
    assert.equal(read(`${back}/feature-rx-copy`), "1");
    assert.equal(read(`${front}/mac`), "00:16:3e:00:00:0a");
    assert.equal(read(`${front}/backend`), back);
    // The second vif joins the running bridge without naming the files (or naming the same).
    await s.supervisor.attachVif(b.domain.id, "mac=00:16:3e:00:00:0b, bridge=lab");
    assert.deepEqual(await s.supervisor.listBridges(), [{
      name: "lab",
      filters: ["intrusion-detector", "packet-filter"],
      ports: [],
      restarts: 0,
      alerts: 0,
      error: undefined,
    }]);
    await s.connect(a);
    await s.connect(b);
    const listed = s.supervisor.listVifs(a.domain.id)[0];
    assert.equal(listed.state, XenbusStateConnected);
    assert.equal(listed.backendState, XenbusStateConnected);
    assert.equal(listed.eventChannel, Number(read(`${front}/event-channel`)));
    assert.equal(listed.txRingRef, a.front!.txRingRef);
    assert.equal(listed.rxRingRef, a.front!.rxRingRef);

    a.front!.send(s.udp(a, b, 7, "to the echo port"));
    a.front!.send(s.udp(a, b, 9, "to the discard port"));
    a.front!.send(s.udp(a, b, 7, "a SECRET"));
    b.front!.send(s.udp(b, a, 7, "back"));
    const got = { a: [] as string[], b: [] as string[] };
    await s.until("frames", () => {
      got.a.push(...s.payloads(a));
      got.b.push(...s.payloads(b));
      return got.a.length >= 1 && got.b.length >= 2;
    });
    await new Promise((r) => setTimeout(r, 50));
    got.b.push(...s.payloads(b));
    assert.deepEqual(got.a, ["back"]);
    assert.deepEqual(got.b, ["to the echo port", "a SECRET"], "the filter blocked port 9");
    const metrics = await s.supervisor.bridgeMetrics("lab");
    assert.equal(metrics.filters.filters["packet-filter"]["rule.0"], 1);
    assert.equal((await s.supervisor.vifMetrics(a.domain.id, 0))!.txFrames, 3);
    await s.until(
      "the alert",
      () => s.logs.some((l) => /alert 1 intrusion-detector\/secret/.test(l)),
    );
    assert.equal((await s.supervisor.bridgeAlerts("lab"))[0].rule, "secret");
  } finally {
    await s.cleanup();
  }
});

Deno.test("vifs: a killed bridge and a killed netback come back, traffic goes on", async () => {
  const s = await setup();
  try {
    const [a, b] = s.guests;
    await s.supervisor.attachVif(a.domain.id, "mac=00:16:3e:00:00:0a");
    await s.supervisor.attachVif(b.domain.id, "mac=00:16:3e:00:00:0b");
    await s.connect(a);
    await s.connect(b);
    const roundTrip = async (text: string) => {
      a.front!.send(s.udp(a, b, 7, text));
      const seen: string[] = [];
      await s.until(`"${text}" to arrive`, () => {
        seen.push(...s.payloads(b));
        return seen.includes(text);
      });
    };
    await roundTrip("before");
    await s.supervisor.killBridge("xenbr0");
    await s.until("the bridge restart", () => s.logs.some((l) => /restarted with 2 port/.test(l)));
    await roundTrip("after the bridge restart");
    assert.equal((await s.supervisor.listBridges())[0].restarts, 1);
    s.supervisor.killVif(a.domain.id, "00:16:3e:00:00:0a");
    await s.until("the netback restart", () => s.logs.some((l) => /worker restarted/.test(l)));
    await roundTrip("after the netback restart");
    assert.equal(s.supervisor.listVifs(a.domain.id)[0].restarts, 1);
  } finally {
    await s.cleanup();
  }
});

Deno.test("vifs: detach waits for the frontend, removes the nodes, ends the bridge with its last port", async () => {
  const s = await setup();
  try {
    const [a, b] = s.guests;
    await s.supervisor.attachVif(a.domain.id, "");
    await s.supervisor.attachVif(a.domain.id, "bridge=other");
    await s.supervisor.attachVif(b.domain.id, "devid=3");
    const macs = s.supervisor.listVifs(a.domain.id).map((v) => v.mac);
    assert.deepEqual(s.supervisor.listVifs(a.domain.id).map((v) => v.devid), [0, 1]);
    assert.match(macs[0], /^00:16:3e:/);
    assert.notEqual(macs[0], macs[1]);
    await s.connect(a, 0);
    const back = `/local/domain/0/backend/vif/${a.domain.id}/0`;
    const front = `/local/domain/${a.domain.id}/device/vif/0`;
    // The frontend closes when it sees the backend Closed (as netfront does).
    const detached = s.supervisor.detachVif(a.domain.id, macs[0]);
    await s.until(
      "backend Closed",
      () => s.dom0.read(`${back}/state`) === String(XenbusStateClosed),
    );
    assert.equal(s.dom0.read(`${back}/online`), "0");
    assert.equal(s.supervisor.listVifs(a.domain.id).length, 2, "still there until it closes");
    a.store.write(`${front}/state`, String(XenbusStateClosed));
    await detached;
    assert.throws(() => s.dom0.read(back), /ENOENT/);
    assert.throws(() => s.dom0.read(front), /ENOENT/);
    // A frontend that never connected is removed at once; so is the bridge it was alone on.
    await s.supervisor.detachVif(a.domain.id, 1);
    assert.deepEqual((await s.supervisor.listBridges()).map((x) => x.name), ["xenbr0"]);
    await s.supervisor.releaseDomain(b.domain.id);
    assert.deepEqual(await s.supervisor.listBridges(), []);
    assert.deepEqual(s.supervisor.listVifs(), []);
    assert.throws(() => s.dom0.read(`/local/domain/0/backend/vif/${b.domain.id}/3`), /ENOENT/);
    await assert.rejects(s.supervisor.detachVif(a.domain.id, 0), /has no vif "0"/);
  } finally {
    await s.cleanup();
  }
});

Deno.test("vifs: bad lines, bad files and conflicts are refused, leaving nothing behind", async () => {
  const s = await setup();
  try {
    const [a, b] = s.guests;
    const id = a.domain.id;
    await Deno.writeTextFile(join(s.dir, "bad.rules"), "allow\nforbid everything\n");
    await Deno.writeTextFile(join(s.dir, "one.rules"), "deny proto=udp dport=9\n");
    await Deno.writeTextFile(join(s.dir, "two.rules"), "deny proto=udp dport=7\n");
    const opts = { baseDir: s.dir };
    await assert.rejects(s.supervisor.attachVif(id, "colour=red"), TypeError);
    await assert.rejects(
      s.supervisor.attachVif(id, "filter=bad.rules", opts),
      /bad\.rules:2: /,
    );
    await assert.rejects(s.supervisor.attachVif(id, "filter=none.rules", opts), /Cannot read/);
    await assert.rejects(s.supervisor.attachVif(999, ""), /999/);
    await s.supervisor.attachVif(id, "mac=00:16:3e:00:00:01, filter=one.rules", opts);
    await assert.rejects(
      s.supervisor.attachVif(b.domain.id, "filter=two.rules", opts),
      /Bridge xenbr0 already runs with other filters \(set by vif \d+\/0\)/,
    );
    await s.supervisor.attachVif(b.domain.id, "filter=one.rules", opts); // the same rules: fine
    await assert.rejects(
      s.supervisor.attachVif(id, "devid=0"),
      /already has a vif 0/,
    );
    await assert.rejects(
      s.supervisor.attachVif(id, "mac=00:16:3e:00:00:01, devid=5"),
      /MAC 00:16:3e:00:00:01 is already on bridge xenbr0/,
    );
    assert.deepEqual(s.supervisor.listVifs().map((v) => [v.domid, v.devid]), [[id, 0], [
      b.domain.id,
      0,
    ]]);
    assert.deepEqual(s.dom0.directory(`/local/domain/${id}/device/vif`), ["0"]);
    assert.equal((await s.supervisor.listBridges()).length, 1);
  } finally {
    await s.cleanup();
  }
});

Deno.test("vifs: a vif naming rules gives a running bridge without filters its chain", async () => {
  const s = await setup();
  try {
    const [a, b] = s.guests;
    await Deno.writeTextFile(join(s.dir, "lab.rules"), "deny proto=udp dport=9\n");
    await s.supervisor.attachVif(a.domain.id, "mac=00:16:3e:00:00:0a");
    await s.connect(a);
    assert.deepEqual((await s.supervisor.listBridges())[0].filters, []);
    await s.supervisor.attachVif(b.domain.id, "mac=00:16:3e:00:00:0b, filter=lab.rules", {
      baseDir: s.dir,
    });
    assert.deepEqual((await s.supervisor.listBridges())[0].filters, ["packet-filter"]);
    await s.connect(b);
    a.front!.send(s.udp(a, b, 9, "blocked"));
    a.front!.send(s.udp(a, b, 7, "passed"));
    const seen: string[] = [];
    await s.until("the frame on port 7", () => {
      seen.push(...s.payloads(b));
      return seen.length > 0;
    });
    await new Promise((r) => setTimeout(r, 50));
    seen.push(...s.payloads(b));
    assert.deepEqual(seen, ["passed"]);
    const metrics = await s.supervisor.bridgeMetrics("xenbr0");
    assert.equal(metrics.filters.filters["packet-filter"]["rule.0"], 1);
    assert.deepEqual(metrics.ports.map((p) => p.name).sort(), [
      `vif${a.domain.id}.0`,
      `vif${b.domain.id}.0`,
    ]);
  } finally {
    await s.cleanup();
  }
});
