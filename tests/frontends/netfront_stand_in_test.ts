/**
 * The guest's netfront between two guests joined by a stand-in bridge
 * (`_stand_in_netback.ts`): a ping-pong, a bulk transfer with frames larger than a page (sent as
 * fragments, received across several buffers), and a flow the bridge's filter rule blocks, which
 * must never arrive.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SHUTDOWN_poweroff } from "@paravirt/public";
import { createGuest, type FrontendHost, type Guest, newHost, runGuests } from "./_harness.ts";
import { StandInBridge } from "./_stand_in_netback.ts";

const MAC_A = "00:16:3e:00:00:0a";
const MAC_B = "00:16:3e:00:00:0b";

async function pair(
  cmdA: string,
  cmdB: string,
): Promise<{ host: FrontendHost; a: Guest; b: Guest; bridge: StandInBridge }> {
  const host = newHost();
  const bridge = new StandInBridge(host);
  const a = await createGuest(host, "a", cmdA, {
    beforeConnect: (domain) => bridge.attach(domain, MAC_A),
  });
  const b = await createGuest(host, "b", cmdB, {
    beforeConnect: (domain) => bridge.attach(domain, MAC_B),
  });
  return { host, a, b, bridge };
}

function fnvLine(values: number[]): string {
  let hash = 2166136261;
  for (const v of values) hash = Math.imul((hash ^ v) >>> 0, 16777619) >>> 0;
  return `app nettest: done checksum=0x${hash.toString(16).padStart(8, "0")}`;
}

Deno.test("netfront: ping-pong between two guests; the blocked flow never arrives", async () => {
  const { host, a, b, bridge } = await pair(
    `app=nettest role=ping peer=${MAC_B} rounds=50 size=200 blocked=5`,
    "app=nettest role=pong rounds=50",
  );
  host.hv.unpause(b.domain);
  host.hv.unpause(a.domain);
  await runGuests(host, [a, b], { step: () => bridge.step() });
  await host.close();
  for (const g of [a, b]) assert.equal(g.domain.shutdownReason, SHUTDOWN_poweroff, g.output());
  const expected = fnvLine([...Array(50).keys()]);
  assert.ok(a.output().includes(expected), a.output());
  assert.ok(b.output().includes(expected), b.output());
  assert.match(a.output(), /nettest: ping rounds=50 size=200 rtt_avg_ns=\d+ /);
  assert.match(b.output(), /nettest: pong rounds=50 blocked_seen=0\n/);
  assert.equal(bridge.filtered, 5);
});

Deno.test("netfront: a bulk transfer in 6000-byte frames (fragments both ways), one flow blocked", async () => {
  const bytes = 300_000;
  const size = 6000;
  const { host, a, b, bridge } = await pair(
    `app=nettest role=send peer=${MAC_B} bytes=${bytes} size=${size} blocked=7`,
    "app=nettest role=recv",
  );
  host.hv.unpause(b.domain);
  host.hv.unpause(a.domain);
  await runGuests(host, [a, b], { step: () => bridge.step() });
  await host.close();
  for (const g of [a, b]) assert.equal(g.domain.shutdownReason, SHUTDOWN_poweroff, g.output());
  const frames = Math.ceil(bytes / size);
  const values: number[] = [];
  for (let seq = 0; seq < frames; seq++) values.push(seq, size);
  const expected = fnvLine(values);
  assert.ok(a.output().includes(expected), a.output());
  assert.ok(b.output().includes(expected), b.output());
  assert.match(
    b.output(),
    new RegExp(
      `nettest: recv frames=${frames} bytes=${
        frames * size
      } mbps=[0-9.]+ blocked_seen=0 out_of_order=0\n`,
    ),
  );
  assert.match(a.output(), /blocked_sent=7 retransmits=0\n/);
  assert.equal(bridge.filtered, 7);
});
