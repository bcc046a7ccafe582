import assert from "node:assert/strict";
import { SHUTDOWN_crash, SHUTDOWN_poweroff } from "@paravirt/public";
import { Pcpu } from "./pcpu.ts";
import { BuildError } from "./builder.ts";
import { probeGuest } from "./probe_guest.ts";

/** Collects console text per domain and shutdown events from a Pcpu. */
function watch(pcpu: Pcpu) {
  const text = new Map<number, string>();
  const decoder = new TextDecoder();
  const batches = new Map<number, number>();
  const shutdowns = new Map<number, { reason: number; outputBefore: string }>();
  pcpu.onConsole((domid, bytes) => {
    text.set(domid, (text.get(domid) ?? "") + decoder.decode(bytes));
    batches.set(domid, (batches.get(domid) ?? 0) + 1);
  });
  const waiters: (() => void)[] = [];
  pcpu.onShutdown((domid, _name, reason) => {
    shutdowns.set(domid, { reason, outputBefore: text.get(domid) ?? "" });
    for (const w of waiters.splice(0)) w();
  });
  return {
    output: (domid: number) => text.get(domid) ?? "",
    batches: (domid: number) => batches.get(domid) ?? 0,
    shutdowns,
    async shutdownOf(domid: number, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!shutdowns.has(domid)) {
        if (Date.now() > deadline) throw new Error(`Domain ${domid} did not shut down`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return shutdowns.get(domid)!;
    },
  };
}

async function until(done: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error("Timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("pcpu: the probe guest boots in the worker, prints and powers off", async () => {
  const pcpu = new Pcpu();
  try {
    await pcpu.ready;
    const seen = watch(pcpu);
    const dom = await pcpu.create(
      { name: "hello", memoryMiB: 4, cmdline: "test=hello" },
      await probeGuest(),
    );
    assert.equal(dom.name, "hello");
    assert.equal(dom.vcpus, 1);
    assert.equal(dom.pages, 4 * 256);
    const { reason, outputBefore } = await seen.shutdownOf(dom.id);
    assert.equal(reason, SHUTDOWN_poweroff);
    // All of the output arrived before the shutdown was announced.
    assert.match(outputBefore, /hello from a PV test guest: test=hello/);
    assert.match(outputBefore, /result: 0 failed\n/);
    assert.ok(
      seen.batches(dom.id) < outputBefore.length / 4,
      "output is batched, not a message per byte",
    );
    const [listed] = await pcpu.list();
    assert.equal(listed.state, "shutdown");
    assert.equal(listed.flags.shutdown, true);
    assert.equal(listed.flags.crashed, false);
    assert.equal(listed.shutdownReason, SHUTDOWN_poweroff);
    assert.ok(listed.cpuTimeNs > 0);
    const history = new TextDecoder().decode(await pcpu.consoleHistory(dom.id));
    assert.equal(history, outputBefore);
    assert.ok((await pcpu.dmesg()).some((line) => line.includes(`d${dom.id} "hello"`)));
    const destroyed: number[] = [];
    pcpu.onDestroyed((domid) => destroyed.push(domid));
    await pcpu.destroy("hello");
    assert.deepEqual(destroyed, [dom.id], "destroyed is announced before destroy resolves");
    assert.deepEqual(await pcpu.list(), []);
    const info = await pcpu.info();
    assert.equal(info.freePages, info.totalPages);
    assert.equal(info.scheduler, "credit");
    assert.ok(info.instructions > 0);
  } finally {
    pcpu.close();
  }
});

Deno.test("pcpu: bad images and configs reject with the hypervisor's error", async () => {
  const pcpu = new Pcpu();
  try {
    await assert.rejects(
      pcpu.create({ name: "bad", memoryMiB: 4 }, new Uint8Array(100)),
      (e: Error) => e instanceof BuildError && /Kernel image/.test(e.message),
    );
    const good = await probeGuest();
    await assert.rejects(
      pcpu.create({ name: "bad", memoryMiB: 4 }, good.slice(0, 200)),
      BuildError,
    );
    await assert.rejects(
      pcpu.create({ name: "bad name!", memoryMiB: 4 }, good),
      (e: Error) => e instanceof RangeError && /not 1-64/.test(e.message),
    );
    await assert.rejects(pcpu.create({ name: "x", memoryMiB: 0 }, good), /memory 0/);
    await assert.rejects(
      pcpu.pause(42),
      (e: Error) => e instanceof RangeError && /No domain 42/.test(e.message),
    );
    await assert.rejects(pcpu.destroy("nobody"), /No domain "nobody"/);
    const info = await pcpu.info();
    assert.equal(info.domains, 0, "nothing was left behind");
    assert.equal(info.freePages, info.totalPages);
    await assert.rejects(pcpu.schedSet(1, { weight: 0 }), /No domain 1/);
  } finally {
    pcpu.close();
  }
  await assert.rejects(pcpu.list(), /closed/);
});

Deno.test("pcpu: the main thread stays responsive while a CPU-bound guest runs", async () => {
  const pcpu = new Pcpu();
  try {
    const dom = await pcpu.create(
      { name: "spin", memoryMiB: 4, cmdline: "test=spin n=2000000000" },
      await probeGuest(),
    );
    // A 10 ms timer, again and again while the guest spins in the worker: it fires on time.
    // A loop on this thread would hold every timer for the guest's whole run (seconds); the
    // bounds leave room for a loaded 2-core machine running other tests in parallel.
    const late: number[] = [];
    for (let i = 0; i < 40; i++) {
      const start = performance.now();
      await new Promise((r) => setTimeout(r, 10));
      late.push(performance.now() - start - 10);
    }
    const [listed] = await pcpu.list();
    assert.equal(listed.state, "running");
    assert.equal(listed.flags.running, true);
    assert.ok(listed.cpuTimeNs > 200e6, `the guest ran (${listed.cpuTimeNs} ns)`);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    assert.ok(median(late) < 20, `main-thread timers were late by ${median(late).toFixed(1)} ms`);
    assert.ok(Math.max(...late) < 1000, `a timer was ${Math.max(...late).toFixed(0)} ms late`);
    // A call is answered within a few run budgets even while the guest spins.
    const latencies: number[] = [];
    for (let i = 0; i < 11; i++) {
      const before = performance.now();
      await pcpu.info();
      latencies.push(performance.now() - before);
    }
    assert.ok(median(latencies) < 100, `a call took ${median(latencies).toFixed(1)} ms`);
    await pcpu.destroy(dom.id);
  } finally {
    pcpu.close();
  }
});

Deno.test("pcpu: pause stops a guest's CPU time, unpause resumes it; sched params", async () => {
  const pcpu = new Pcpu();
  try {
    const dom = await pcpu.create(
      { name: "spin", memoryMiB: 4, cmdline: "test=spin n=2000000000", weight: 512 },
      await probeGuest(),
    );
    assert.deepEqual(await pcpu.schedGet(dom.id), [{
      id: dom.id,
      name: "spin",
      weight: 512,
      cap: 0,
    }]);
    await until(async () => (await pcpu.list())[0].cpuTimeNs > 20e6);
    const paused = await pcpu.pause("spin");
    assert.equal(paused.state, "paused");
    assert.deepEqual(paused.flags, {
      running: false,
      blocked: false,
      paused: true,
      shutdown: false,
      crashed: false,
      dying: false,
    });
    await new Promise((r) => setTimeout(r, 50));
    const [a] = await pcpu.list();
    await new Promise((r) => setTimeout(r, 100));
    const [b] = await pcpu.list();
    assert.equal(b.cpuTimeNs, a.cpuTimeNs, "no CPU time while paused");
    await pcpu.unpause(dom.id);
    await until(async () => (await pcpu.list())[0].cpuTimeNs > b.cpuTimeNs + 20e6);
    await assert.rejects(pcpu.unpause(dom.id), /not paused/);
    const set = await pcpu.schedSet(dom.id, { cap: 20 });
    assert.deepEqual(set, { id: dom.id, name: "spin", weight: 512, cap: 20 });
    await assert.rejects(pcpu.schedSet(dom.id, { weight: 70000 }), RangeError);
    const down = await pcpu.shutdown(dom.id, SHUTDOWN_crash);
    assert.equal(down.flags.crashed, true);
  } finally {
    pcpu.close();
  }
});

Deno.test("pcpu: console input reaches the guest", async () => {
  const pcpu = new Pcpu();
  try {
    const seen = watch(pcpu);
    const dom = await pcpu.create(
      { name: "echo", memoryMiB: 4, cmdline: "test=console" },
      await probeGuest(),
    );
    await until(() => seen.output(dom.id).includes("echo ready"));
    assert.equal(await pcpu.consoleInput(dom.id, new TextEncoder().encode("abc q")), 5);
    await seen.shutdownOf(dom.id);
    assert.match(seen.output(dom.id), /echo ready\nabc q/);
  } finally {
    pcpu.close();
  }
});

Deno.test("pcpu: two guests wired before boot ping-pong over an event channel", async () => {
  const pcpu = new Pcpu();
  try {
    const seen = watch(pcpu);
    const kernel = await probeGuest();
    const ping = await pcpu.allocate({ name: "ping", memoryMiB: 4 });
    const pong = await pcpu.allocate({ name: "pong", memoryMiB: 4 });
    assert.equal(ping.built, false);
    await assert.rejects(pcpu.unpause(ping.id), /no kernel yet/);
    const [pingPort, pongPort] = await pcpu.bindInterdomain(ping.id, pong.id);
    await pcpu.build(ping.id, kernel, {
      cmdline: `test=pingpong role=ping port=${pingPort} rounds=100`,
    });
    await pcpu.build(pong.id, kernel, {
      cmdline: `test=pingpong role=pong port=${pongPort} rounds=100`,
    });
    await pcpu.unpause(pong.id);
    await pcpu.unpause(ping.id);
    assert.equal((await seen.shutdownOf(ping.id)).reason, SHUTDOWN_poweroff);
    assert.equal((await seen.shutdownOf(pong.id)).reason, SHUTDOWN_poweroff);
    assert.match(seen.output(ping.id), /ping: 100 rounds, \d+ ns per round trip/);
  } finally {
    pcpu.close();
  }
});
