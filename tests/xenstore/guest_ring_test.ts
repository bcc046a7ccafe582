/**
 * End to end: a real PV guest (the hypervisor's probe kernel) talks to xenstored over its
 * xenstore ring page, through the domain's memory view and a doorbell, as Xen guests do.
 */
import assert from "node:assert/strict";
import { Hypervisor, probeGuest } from "@paravirt/hypervisor";
import { connectXenstore, LocalClient, localControl, Xenstored } from "@paravirt/dom0";
import { SHUTDOWN_poweroff } from "@paravirt/public";

Deno.test("a guest writes and reads xenstore over its ring; permissions hold", async () => {
  const hv = new Hypervisor();
  const xenstored = new Xenstored();
  const dom0 = new LocalClient(xenstored);
  const domain = hv.createDomain(
    { name: "xs-guest", memoryMiB: 4, cmdline: "test=xenstore" },
    await probeGuest(),
  );
  const home = `/local/domain/${domain.id}`;
  dom0.mkdir(home);
  dom0.setPerms(home, [`b${domain.id}`]);
  dom0.write(`${home}/name`, "xs-guest");
  const link = await connectXenstore(xenstored, localControl(hv), domain.id);
  let output = "";
  domain.console.listen((b) => output += new TextDecoder().decode(b));
  hv.unpause(domain);
  const deadline = performance.now() + 20_000;
  while (domain.shutdownReason === undefined) {
    assert.ok(performance.now() < deadline, `timed out; output so far:\n${output}`);
    const seen = hv.wake.value;
    const result = hv.run(5e6);
    // Let the doorbell pump (on this thread) run; sleep when the guest waits.
    if (result.kind === "idle") await hv.wake.wait(seen, 2);
    else await new Promise((r) => setTimeout(r, 0));
  }
  await link.close();
  assert.equal(domain.shutdownReason, SHUTDOWN_poweroff, output);
  assert.doesNotMatch(output, /FAIL/);
  assert.match(output, /my name in xenstore: xs-guest/);
  assert.equal(dom0.read(`${home}/data/greeting`), "hello from the ring");
});
