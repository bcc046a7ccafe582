/**
 * End to end: the pCPU client is dom0's DomainControl across threads. A real PV guest (the probe
 * kernel, `test=xenstore`) runs in the pCPU worker and talks to xenstored on the main thread over
 * its ring page, through the domain's memory view and a doorbell whose kicks wake the sleeping
 * pCPU.
 */
import assert from "node:assert/strict";
import { Pcpu, probeGuest } from "@paravirt/hypervisor";
import { connectXenstore, type DomainControl, LocalClient, Xenstored } from "@paravirt/dom0";
import { SHUTDOWN_poweroff } from "@paravirt/public";

Deno.test("pcpu: a guest in the worker reads and writes xenstore on the main thread", async () => {
  const pcpu = new Pcpu();
  try {
    const control: DomainControl = pcpu;
    const xenstored = new Xenstored();
    const dom0 = new LocalClient(xenstored);
    const domain = await pcpu.create(
      { name: "xs-guest", memoryMiB: 4, cmdline: "test=xenstore" },
      await probeGuest(),
      { paused: true },
    );
    const home = `/local/domain/${domain.id}`;
    dom0.mkdir(home);
    dom0.setPerms(home, [`b${domain.id}`]);
    dom0.write(`${home}/name`, "xs-guest");
    let output = "";
    pcpu.onConsole((_domid, bytes) => output += new TextDecoder().decode(bytes));
    const shutdown = new Promise<number>((resolve) => pcpu.onShutdown((_d, _n, r) => resolve(r)));
    const link = await connectXenstore(xenstored, control, domain.id);
    await pcpu.unpause(domain.id);
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out; output so far:\n${output}`)), 20_000)
    );
    const reason = await Promise.race([shutdown, timeout]);
    await link.close();
    assert.equal(reason, SHUTDOWN_poweroff, output);
    assert.doesNotMatch(output, /FAIL/);
    assert.match(output, /my name in xenstore: xs-guest/);
    assert.equal(dom0.read(`${home}/data/greeting`), "hello from the ring");
    const view = await pcpu.foreignView(domain.id);
    assert.equal(view.domid, domain.id);
    assert.ok(view.buffer instanceof SharedArrayBuffer, "the view shares the domain's memory");
    await assert.rejects(pcpu.foreignView(999), /No domain 999/);
  } finally {
    pcpu.close();
  }
});
