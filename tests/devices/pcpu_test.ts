/**
 * The device supervisor over the pCPU worker's `DomainControl` (the hypervisor in another
 * thread, as in the toolstack's daemon): a disk opens and reaches InitWait, and a built domain's
 * console ring is served — output the guest left in the ring reaches `xl console`, typed input
 * reaches the ring with the guest's event routed by the pCPU.
 */
import assert from "node:assert/strict";
import { DeviceSupervisor, LocalClient, Xenstored } from "@paravirt/dom0";
import { Pcpu, probeGuest } from "@paravirt/hypervisor";
import { XenbusStateInitWait, XENCONS_INTERFACE } from "@paravirt/public";

const o = XENCONS_INTERFACE.offset;

Deno.test("devices over the pCPU worker: a disk to InitWait, the console both ways", async () => {
  const pcpu = new Pcpu();
  const xenstored = new Xenstored();
  const supervisor = new DeviceSupervisor({ control: pcpu, xenstored });
  const dom0 = new LocalClient(xenstored);
  const image = await Deno.makeTempFile({ suffix: ".img" });
  try {
    await Deno.truncate(image, 1 << 20);
    const domain = await pcpu.create({ name: "far", memoryMiB: 4 }, await probeGuest(), {
      paused: true,
    });
    const info = await supervisor.attachDisk(domain.id, `vdev=xvda, target=${image}`);
    assert.equal(info.state, XenbusStateInitWait);
    assert.equal(dom0.read(`${info.backendPath}/feature-flush-cache`), "1");

    const view = await pcpu.foreignView(domain.id);
    const at = (view.console!.mfn - view.firstFrame) * 4096;
    const page = new Uint8Array(view.buffer, at, 4096);
    const words = new Int32Array(view.buffer, at, 1024);
    const text = new TextEncoder().encode("written before the backend came\n");
    page.set(text, o.out);
    Atomics.store(words, o.out_prod / 4, text.length);
    const console = await supervisor.attachConsole(domain.id);
    // What came before attaching a listener is in the history (what `xl console` shows first).
    let shown = new TextDecoder().decode(console.output.history());
    console.output.listen((bytes) => shown += new TextDecoder().decode(bytes));
    const deadline = performance.now() + 10_000;
    while (!shown.includes("written before")) {
      assert.ok(performance.now() < deadline, "no console output");
      await new Promise((r) => setTimeout(r, 10));
    }
    await console.input(new TextEncoder().encode("hi"));
    while ((Atomics.load(words, o.in_prod / 4) >>> 0) < 2) {
      assert.ok(performance.now() < deadline, "no console input");
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(new TextDecoder().decode(page.subarray(o.in, o.in + 2)), "hi");
    assert.equal((await console.metrics())!.notificationsOut >= 1, true);
  } finally {
    await supervisor.close();
    dom0.close();
    pcpu.close();
    await Deno.remove(image);
  }
});
