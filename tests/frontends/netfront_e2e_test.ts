/**
 * The guest's netfront against the real network backends: two PV kernel guests whose vifs are
 * served by netback workers attached to a bridge worker with a packet filter (the supervisor's
 * networking part, as `@paravirt/drivers`' net README describes it): a ping-pong, a bulk
 * transfer with frames larger than a page, a flow the filter's rule blocks, which must never
 * arrive, and a transfer during which both netback workers are killed (restarted on the same
 * rings; frames lost meanwhile are sent again by the transfer's own go-back-N).
 *
 * @module
 */

import assert from "node:assert/strict";
import { BridgeWorker, createVifNodes, type FilterSpec, VifBackend } from "@paravirt/drivers";
import { LocalClient } from "@paravirt/dom0";
import { SHUTDOWN_poweroff } from "@paravirt/public";
import { createGuest, type FrontendHost, type Guest, newHost, runGuests } from "./_harness.ts";

const MAC_A = "00:16:3e:00:00:0a";
const MAC_B = "00:16:3e:00:00:0b";

interface NetSetup {
  host: FrontendHost;
  bridge: BridgeWorker;
  vifs: VifBackend[];
  store: LocalClient;
  log: string[];
  a: Guest;
  b: Guest;
}

async function pair(cmdA: string, cmdB: string, filters: FilterSpec[]): Promise<NetSetup> {
  const host = newHost();
  const log: string[] = [];
  const watchers = new Map<string, VifBackend>();
  const store = new LocalClient(host.xenstored, {
    onWatch: (event) => void watchers.get(event.token)?.frontendChanged(),
  });
  const bridge = await BridgeWorker.start({ name: "br0", filters }, {
    onPortError: (port, reason) => log.push(`${port}: ${reason}`),
  });
  const vifs: VifBackend[] = [];
  const guests: Guest[] = [];
  for (const [name, cmdline, mac] of [["a", cmdA, MAC_A], ["b", cmdB, MAC_B]]) {
    const guest = await createGuest(host, name, cmdline);
    const paths = createVifNodes(store, { domid: guest.domain.id, devid: 0, mac, bridge: "br0" });
    const vif = new VifBackend({
      store,
      control: host.control,
      bridge,
      domid: guest.domain.id,
      devid: 0,
      onEvent: (line) => log.push(line),
    });
    await vif.start();
    const token = `vif-${guest.domain.id}-0`;
    watchers.set(token, vif);
    store.watch(`${paths.frontend}/state`, token);
    vifs.push(vif);
    guests.push(guest);
  }
  return { host, bridge, vifs, store, log, a: guests[0], b: guests[1] };
}

async function close(s: NetSetup): Promise<void> {
  for (const vif of s.vifs) await vif.stop().catch(() => {});
  await s.bridge.stop();
  s.store.close();
  await s.host.close();
}

function fnvLine(values: number[]): string {
  let hash = 2166136261;
  for (const v of values) hash = Math.imul((hash ^ v) >>> 0, 16777619) >>> 0;
  return `app nettest: done checksum=0x${hash.toString(16).padStart(8, "0")}`;
}

const FILTER: FilterSpec[] = [
  { module: "packet-filter", options: { rules: ["deny proto=udp dport=9", "allow"] } },
];

Deno.test("e2e netfront: two guests ping-pong over the bridge; the filtered flow never arrives", async () => {
  const s = await pair(
    `app=nettest role=ping peer=${MAC_B} rounds=100 size=128 blocked=10`,
    "app=nettest role=pong rounds=100",
    FILTER,
  );
  try {
    s.host.hv.unpause(s.b.domain);
    s.host.hv.unpause(s.a.domain);
    await runGuests(s.host, [s.a, s.b]);
    for (const g of [s.a, s.b]) {
      assert.equal(
        g.domain.shutdownReason,
        SHUTDOWN_poweroff,
        `${g.output()}\n${s.log.join("\n")}`,
      );
    }
    const expected = fnvLine([...Array(100).keys()]);
    assert.ok(s.a.output().includes(expected), s.a.output());
    assert.ok(s.b.output().includes(expected), s.b.output());
    assert.match(s.b.output(), /nettest: pong rounds=100 blocked_seen=0\n/);
    // The bridge's packet filter is what dropped the blocked flow.
    const metrics = await s.bridge.metrics();
    const filter = metrics.filters.filters["packet-filter"];
    assert.equal(filter["rule.0"], 10, JSON.stringify(metrics.filters));
  } finally {
    await close(s);
  }
});

Deno.test("e2e netfront: a bulk transfer in 9000-byte frames over the bridge, one flow filtered", async () => {
  const bytes = 2_000_000;
  const size = 9000;
  const s = await pair(
    `app=nettest role=send peer=${MAC_B} bytes=${bytes} size=${size} blocked=20`,
    "app=nettest role=recv",
    FILTER,
  );
  try {
    s.host.hv.unpause(s.b.domain);
    s.host.hv.unpause(s.a.domain);
    await runGuests(s.host, [s.a, s.b]);
    for (const g of [s.a, s.b]) {
      assert.equal(
        g.domain.shutdownReason,
        SHUTDOWN_poweroff,
        `${g.output()}\n${s.log.join("\n")}`,
      );
    }
    const frames = Math.ceil(bytes / size);
    const values: number[] = [];
    for (let seq = 0; seq < frames; seq++) {
      values.push(seq, seq + 1 === frames && bytes % size !== 0 ? bytes % size : size);
    }
    const expected = fnvLine(values);
    assert.ok(s.a.output().includes(expected), s.a.output());
    assert.ok(s.b.output().includes(expected), s.b.output());
    assert.match(
      s.b.output(),
      /nettest: recv frames=\d+ bytes=2000000 mbps=[0-9.]+ blocked_seen=0 out_of_order=\d+\n/,
    );
    assert.match(
      s.a.output(),
      /nettest: send frames=\d+ bytes=2000000 mbps=[0-9.]+ blocked_sent=20 /,
    );
    const metrics = await s.bridge.metrics();
    assert.equal(metrics.filters.filters["packet-filter"]["rule.0"], 20);
  } finally {
    await close(s);
  }
});

Deno.test("e2e netfront: the netback workers die mid-transfer; the transfer completes", async () => {
  const bytes = 1_500_000;
  const s = await pair(
    `app=nettest role=send peer=${MAC_B} bytes=${bytes} size=1514`,
    "app=nettest role=recv",
    FILTER,
  );
  try {
    let killed = 0;
    s.host.hv.unpause(s.b.domain);
    s.host.hv.unpause(s.a.domain);
    await runGuests(s.host, [s.a, s.b], {
      step: async () => {
        if (killed >= 2) return;
        const metrics = await s.vifs[1].metrics();
        // (A restarted worker counts from zero.)
        const received = metrics?.rxFrames ?? 0;
        // Kill the receiver's netback a third of the way in, then the sender's.
        if (killed === 0 && received > 300) {
          s.vifs[1].killWorker();
          killed = 1;
        } else if (killed === 1 && received > 250) {
          s.vifs[0].killWorker();
          killed = 2;
        }
      },
    });
    for (const g of [s.a, s.b]) {
      assert.equal(
        g.domain.shutdownReason,
        SHUTDOWN_poweroff,
        `${g.output()}\n${s.log.join("\n")}`,
      );
    }
    assert.equal(killed, 2);
    assert.equal(s.vifs[0].restarts + s.vifs[1].restarts, 2);
    const frames = Math.ceil(bytes / 1514);
    assert.match(s.b.output(), new RegExp(`nettest: recv frames=${frames} bytes=${bytes} `));
  } finally {
    await close(s);
  }
});
