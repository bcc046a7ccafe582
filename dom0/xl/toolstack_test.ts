import assert from "node:assert/strict";
import { probeGuest } from "@paravirt/hypervisor";
import { SHUTDOWN_crash, SHUTDOWN_poweroff, SHUTDOWN_reboot } from "@paravirt/public";
import { parseConfig } from "./config.ts";
import { type ConsoleEvent, RESTART_BURST, Toolstack } from "./toolstack.ts";

function config(name: string, cmdline: string, extra = "") {
  return parseConfig(
    `name = "${name}"\nmemory = 4\nkernel = "probe.elf"\ncmdline = "${cmdline}"\n${extra}`,
    "/test/guest.cfg",
  ).config;
}

async function until(done: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error("Timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function collect() {
  const events: ConsoleEvent[] = [];
  const decoder = new TextDecoder();
  return {
    events,
    subscriber: (event: ConsoleEvent) => events.push(event),
    text: () =>
      events.map((e) => e.kind === "output" ? decoder.decode(e.bytes) : `<end ${e.why}>`).join(""),
  };
}

Deno.test("toolstack: on_poweroff destroy removes the domain; its output was kept until then", async () => {
  const log: string[] = [];
  const ts = new Toolstack({ log: (line) => log.push(line) });
  try {
    const seen = collect();
    const created = await ts.create(config("hello", "test=hello"), await probeGuest(), {
      paused: true,
    });
    assert.equal(created.state, "paused");
    await ts.attach("hello", seen.subscriber);
    await ts.unpause(created.id);
    await until(() => seen.text().endsWith("<end destroyed>") || seen.text().includes("<end"));
    assert.match(seen.text(), /hello from a PV test guest[\s\S]*result: 0 failed\n<end shutdown>$/);
    await ts.settled();
    assert.deepEqual(await ts.list(), []);
    assert.ok(log.some((l) => /d\d+ "hello" poweroff: destroy/.test(l)), log.join("\n"));
    await assert.rejects(ts.attach("hello", () => {}), /Domain "hello" does not exist/);
  } finally {
    await ts.close();
  }
});

Deno.test("toolstack: on_poweroff preserve keeps the domain and its console history", async () => {
  const ts = new Toolstack();
  try {
    const created = await ts.create(
      config("kept", "test=hello", 'on_poweroff = "preserve"\n'),
      await probeGuest(),
    );
    await until(async () => (await ts.find("kept")).flags.shutdown);
    await ts.settled();
    const [listed] = await ts.list();
    assert.equal(listed.id, created.id);
    assert.equal(listed.shutdownReason, SHUTDOWN_poweroff);
    const seen = collect();
    await ts.attach(String(created.id), seen.subscriber);
    assert.match(
      seen.text(),
      /^hello from a PV test guest[\s\S]*result: 0 failed\n<end shutdown>$/,
    );
    await assert.rejects(ts.shutdown("kept"), /already shut down/);
    await ts.destroy("kept");
    assert.deepEqual(await ts.list(), []);
  } finally {
    await ts.close();
  }
});

Deno.test("toolstack: on_crash restart rebuilds the domain, and a crash loop is stopped", async () => {
  const log: string[] = [];
  const ts = new Toolstack({ log: (line) => log.push(line) });
  try {
    const first = await ts.create(
      config("crashy", "test=crash", 'on_crash = "restart"\n'),
      await probeGuest(),
    );
    // It crashes at once, is restarted RESTART_BURST times, then kept as crashed.
    await until(() => log.some((l) => l.includes("preserving it instead")));
    await ts.settled();
    const domains = await ts.list();
    assert.equal(domains.length, 1);
    const [last] = domains;
    assert.equal(last.name, "crashy");
    assert.equal(last.id, first.id + RESTART_BURST, "each restart is a new domain");
    assert.equal(last.shutdownReason, SHUTDOWN_crash);
    assert.equal(last.flags.crashed, true);
    assert.equal(log.filter((l) => /restarted "crashy" as d\d+/.test(l)).length, RESTART_BURST);
    assert.equal(ts.record(last.id)?.config.name, "crashy");
  } finally {
    await ts.close();
  }
});

Deno.test("toolstack: on_reboot restart on xl reboot; on_crash destroy; sched params", async () => {
  const ts = new Toolstack();
  try {
    const kernel = await probeGuest();
    const spin = await ts.create(
      config("spin", "test=spin n=2000000000", "cpu_weight = 512\ncap = 40\n"),
      kernel,
    );
    assert.deepEqual(await ts.schedGet("spin"), [{
      id: spin.id,
      name: "spin",
      weight: 512,
      cap: 40,
    }]);
    await ts.schedSet(spin.id, { weight: 128 });
    assert.equal((await ts.schedGet(spin.id))[0].weight, 128);
    await ts.shutdown("spin", SHUTDOWN_reboot);
    await ts.settled();
    const [again] = await ts.list();
    assert.equal(again.name, "spin");
    assert.notEqual(again.id, spin.id);
    assert.equal(again.state, "running");
    assert.equal(again.weight, 512, "the config's weight applies again after a restart");

    const crash = await ts.create(config("crash", "test=crash"), kernel);
    await until(async () => !(await ts.list()).some((d) => d.id === crash.id));
    await assert.rejects(ts.find(crash.id), RangeError);
    await assert.rejects(ts.pause("nobody"), /Domain "nobody" does not exist/);
  } finally {
    await ts.close();
  }
});

Deno.test("toolstack: a console subscriber gets history, live output and the end", async () => {
  const ts = new Toolstack();
  try {
    const created = await ts.create(config("echo", "test=console"), await probeGuest());
    await until(async () => {
      const seen = collect();
      await ts.attach("echo", seen.subscriber);
      return seen.text().includes("echo ready");
    });
    const seen = collect();
    const { detach } = await ts.attach(created.id, seen.subscriber);
    assert.match(seen.text(), /echo ready/);
    // Subscribers that throw (at once, or on live output) are dropped; the others go on.
    await ts.attach("echo", () => {
      throw new Error("a broken subscriber");
    });
    let calls = 0;
    await ts.attach("echo", (event) => {
      calls++;
      if (event.kind === "output" && calls > 1) throw new Error("broken later");
    });
    await ts.consoleInput("echo", new TextEncoder().encode("hi q"));
    await until(() => seen.text().includes("<end"));
    assert.match(seen.text(), /echo ready\n[\s\S]*hi q[\s\S]*<end shutdown>$/);
    detach();
    await ts.settled();
    await assert.rejects(ts.attach("echo", () => {}), /does not exist/);
  } finally {
    await ts.close();
  }
});
