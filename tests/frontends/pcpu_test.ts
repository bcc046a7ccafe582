/**
 * The whole architecture at once: the hypervisor's loop in the pCPU worker, dom0 (xenstored, the
 * vif backends' handshake) on the main thread, the netback and bridge workers in their own
 * threads, and two PV kernel guests whose netfronts (C, in the guests) exchange frames over the
 * bridge — a ping-pong, with the blocked flow dropped by the bridge's packet filter.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Pcpu } from "@paravirt/hypervisor";
import { BridgeWorker, createVifNodes, VifBackend } from "@paravirt/drivers";
import { connectXenstore, LocalClient, Xenstored, type XenstoreLink } from "@paravirt/dom0";
import { SHUTDOWN_poweroff } from "@paravirt/public";
import { pvKernel } from "./_harness.ts";

const MACS = ["00:16:3e:00:01:0a", "00:16:3e:00:01:0b"];

Deno.test("pcpu: two PV guests in the pCPU worker ping-pong through netback and bridge workers", async () => {
  const pcpu = new Pcpu();
  const xenstored = new Xenstored();
  const watchers = new Map<string, VifBackend>();
  const store = new LocalClient(xenstored, {
    onWatch: (event) => void watchers.get(event.token)?.frontendChanged(),
  });
  const links: XenstoreLink[] = [];
  const vifs: VifBackend[] = [];
  const bridge = await BridgeWorker.start({
    name: "br0",
    filters: [{ module: "packet-filter", options: { rules: ["deny proto=udp dport=9"] } }],
  }, {});
  try {
    const outputs = new Map<number, string>();
    pcpu.onConsole((domid, bytes) =>
      outputs.set(domid, (outputs.get(domid) ?? "") + new TextDecoder().decode(bytes))
    );
    const reasons = new Map<number, number>();
    const bothDown = new Promise<void>((resolve) =>
      pcpu.onShutdown((domid, _name, reason) => {
        reasons.set(domid, reason);
        if (reasons.size === 2) resolve();
      })
    );
    const cmdlines = [
      `app=nettest role=ping peer=${MACS[1]} rounds=50 blocked=5`,
      "app=nettest role=pong rounds=50",
    ];
    const ids: number[] = [];
    for (let i = 0; i < 2; i++) {
      const domain = await pcpu.create(
        { name: `net${i}`, memoryMiB: 8, cmdline: cmdlines[i] },
        await pvKernel(),
        { paused: true },
      );
      ids.push(domain.id);
      const home = `/local/domain/${domain.id}`;
      store.mkdir(home);
      store.setPerms(home, [`n${domain.id}`]);
      links.push(await connectXenstore(xenstored, pcpu, domain.id));
      const paths = createVifNodes(store, {
        domid: domain.id,
        devid: 0,
        mac: MACS[i],
        bridge: "br0",
      });
      const vif = new VifBackend({ store, control: pcpu, bridge, domid: domain.id, devid: 0 });
      await vif.start();
      watchers.set(`vif-${domain.id}`, vif);
      store.watch(`${paths.frontend}/state`, `vif-${domain.id}`);
      vifs.push(vif);
    }
    for (const id of [...ids].reverse()) await pcpu.unpause(id);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new Error(`timed out:\n${[...outputs.values()].join("\n---\n")}`)),
        120_000,
      )
    );
    await Promise.race([bothDown, timeout]);
    clearTimeout(timer);
    for (const id of ids) assert.equal(reasons.get(id), SHUTDOWN_poweroff, outputs.get(id));
    assert.match(outputs.get(ids[0])!, /nettest: ping rounds=50 size=64 rtt_avg_ns=\d+ /);
    assert.match(outputs.get(ids[1])!, /nettest: pong rounds=50 blocked_seen=0\n/);
    const metrics = await bridge.metrics();
    assert.equal(metrics.filters.filters["packet-filter"]["rule.0"], 5);
  } finally {
    for (const vif of vifs) await vif.stop().catch(() => {});
    for (const link of links) await link.close();
    await bridge.stop();
    store.close();
    pcpu.close();
  }
});
