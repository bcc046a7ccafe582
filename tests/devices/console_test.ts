/**
 * The console backend end to end: a domain built by the hypervisor's builder (its console ring
 * page and port named in start-info), served by the device supervisor's console worker; a
 * TypeScript "guest" writes output into the ring and reads typed input from it. The worker is
 * killed and comes back without losing output.
 */
import assert from "node:assert/strict";
import { probeGuest } from "@paravirt/hypervisor";
import { XENCONS_INTERFACE } from "@paravirt/public";
import { blockRig } from "../block/rig.ts";

const o = XENCONS_INTERFACE.offset;

Deno.test("console: output to xl console, interactive input, recovery, hostile indices", async () => {
  const rig = blockRig({ watchdog: { intervalMs: 50, timeoutMs: 1000 } });
  try {
    const domain = rig.hv.createDomain({ name: "talker", memoryMiB: 4 }, await probeGuest());
    const view = rig.hv.foreignView(domain);
    const { mfn, port } = view.console!;
    const page = new Uint8Array(view.buffer, (mfn - view.firstFrame) * 4096, 4096);
    const words = new Int32Array(view.buffer, (mfn - view.firstFrame) * 4096, 1024);
    let outProd = Atomics.load(words, o.out_prod / 4) >>> 0;
    let inCons = Atomics.load(words, o.in_cons / 4) >>> 0;
    const guest = {
      write(text: string) {
        for (const byte of new TextEncoder().encode(text)) {
          page[o.out + (outProd & 2047)] = byte;
          outProd = (outProd + 1) >>> 0;
        }
        Atomics.store(words, o.out_prod / 4, outProd | 0);
        domain.events.send(port);
        rig.hv.run(0);
      },
      read(): string {
        const prod = Atomics.load(words, o.in_prod / 4) >>> 0;
        const bytes = [];
        while (inCons !== prod) bytes.push(page[o.in + (inCons++ & 1023)]);
        Atomics.store(words, o.in_cons / 4, inCons | 0);
        return new TextDecoder().decode(new Uint8Array(bytes));
      },
    };
    const device = await rig.supervisor.attachConsole(domain.id);
    assert.equal(rig.dom0.read(`/local/domain/${domain.id}/console/ring-ref`), String(mfn));
    assert.equal(rig.dom0.read(`/local/domain/${domain.id}/console/port`), String(port));
    assert.equal(rig.dom0.read(`/local/domain/${domain.id}/console/type`), "xenconsoled");
    let shown = "";
    device.output.listen((bytes) => shown += new TextDecoder().decode(bytes));

    guest.write("hello from the ring\n");
    await rig.until("output", () => shown.includes("hello from the ring\n"));
    await device.input(new TextEncoder().encode("ls -l\n"));
    await rig.until("the input event", () => domain.events.bits!.testAndClearPending(port));
    assert.equal(guest.read(), "ls -l\n");

    // Kill the worker; output written while it is down arrives once it is back.
    device.kill();
    guest.write("while you were out\n");
    await rig.until("output after the restart", () => shown.includes("while you were out\n"));
    assert.equal(device.restarts, 1);
    await device.input(new TextEncoder().encode("still here?\n"));
    await rig.until("input after the restart", () => {
      rig.hv.run(0);
      return guest.read() === "still here?\n";
    });

    // A guest that claims 5000 bytes of output: dropped and counted; the console goes on.
    Atomics.store(words, o.out_prod / 4, (outProd + 5000) | 0);
    outProd = (outProd + 5000) >>> 0;
    domain.events.send(port);
    rig.hv.run(0);
    const deadline = performance.now() + 10_000;
    while ((await device.metrics())?.corruptOutput !== 1) {
      assert.ok(performance.now() < deadline, "the corruption was not counted");
      rig.hv.run(0);
      await new Promise((r) => setTimeout(r, 5));
    }
    guest.write("and on\n");
    await rig.until("output after corruption", () => shown.endsWith("and on\n"));
    assert.equal(shown, "hello from the ring\nwhile you were out\nand on\n");
    assert.match(new TextDecoder().decode(device.output.history()), /hello from the ring/);
  } finally {
    await rig.cleanup();
  }
});
