import assert from "node:assert/strict";
import { SHUTDOWN_crash, SHUTDOWN_poweroff } from "@paravirt/public";
import { Hypervisor } from "./hypervisor.ts";
import { BuildError } from "./builder.ts";
import { createProbe, runProbe, runUntil } from "./_test_util.ts";
import { probeGuest } from "./probe_guest.ts";

function failures(output: string): string[] {
  return output.split("\n").filter((line) => line.startsWith("FAIL"));
}

Deno.test("a PV guest boots, prints through console_io and powers off", async () => {
  const { output, reason } = await runProbe("test=hello");
  assert.match(output, /hello from a PV test guest: test=hello/);
  assert.deepEqual(failures(output), []);
  assert.match(output, /result: 0 failed/);
  assert.equal(reason, SHUTDOWN_poweroff);
});

Deno.test("validated paging: every attack is refused, legal updates work", async () => {
  const { output, reason } = await runProbe("test=paging", 8);
  assert.deepEqual(failures(output), [], output);
  assert.match(output, /result: 0 failed/);
  assert.equal(reason, SHUTDOWN_poweroff);
});

Deno.test("timers: set_timer_op wakes a blocked vCPU via VIRQ_TIMER; the SBI timer ends wfi", async () => {
  const { output, reason } = await runProbe("test=timer rounds=5");
  assert.deepEqual(failures(output), [], output);
  assert.equal(reason, SHUTDOWN_poweroff);
});

Deno.test("a crashing guest is reported as crashed", async () => {
  const { reason } = await runProbe("test=crash");
  assert.equal(reason, SHUTDOWN_crash);
});

Deno.test("malformed kernels and bad configs are refused with a clear error", async () => {
  const hv = new Hypervisor();
  const good = await probeGuest();
  assert.throws(
    () => hv.createDomain({ name: "x", memoryMiB: 4 }, new Uint8Array(100)),
    (e: Error) => e instanceof BuildError && /Kernel image/.test(e.message),
  );
  assert.throws(
    () => hv.createDomain({ name: "bad name!", memoryMiB: 4 }, good),
    /not 1-64/,
  );
  assert.throws(() => hv.createDomain({ name: "x", memoryMiB: 0 }, good), /memory 0/);
  assert.throws(() => hv.createDomain({ name: "x", memoryMiB: 1e6 }, good), /outside/);
  assert.throws(() => hv.createDomain({ name: "x", memoryMiB: 4, vcpus: 99 }, good), /vcpus/);
  const truncated = good.slice(0, 200);
  assert.throws(() => hv.createDomain({ name: "x", memoryMiB: 4 }, truncated), BuildError);
  assert.equal(hv.domains.length, 0, "nothing was left behind");
  assert.equal(hv.machine.framesInUse, 0);
  hv.createDomain({ name: "x", memoryMiB: 4 }, good);
  assert.throws(() => hv.createDomain({ name: "x", memoryMiB: 4 }, good), /already exists/);
});

Deno.test("two guests run side by side and destroying one frees its memory", async () => {
  const hv = new Hypervisor();
  const a = await createProbe(hv, "a", "test=spin n=2000000");
  const b = await createProbe(hv, "b", "test=spin n=1000000");
  hv.unpause(a.domain);
  hv.unpause(b.domain);
  await runUntil(
    hv,
    () => a.domain.shutdownReason !== undefined && b.domain.shutdownReason !== undefined,
  );
  assert.match(a.output(), /spin done checksum=/);
  assert.match(b.output(), /spin done checksum=/);
  const used = hv.machine.framesInUse;
  hv.destroy(a.domain);
  assert.equal(hv.machine.framesInUse, used - a.domain.region.frameCount);
  assert.equal(hv.domain(a.domain.id), undefined);
});

Deno.test("memory_op: reservations grow to the maximum, shrink, and freed frames are gone", async () => {
  const hv = new Hypervisor();
  const probe = await createProbe(hv, "mem", "test=memory", 4, { maxMemoryMiB: 4 + 8 / 256 });
  hv.unpause(probe.domain);
  await runUntil(hv, () => probe.domain.shutdownReason !== undefined);
  assert.deepEqual(failures(probe.output()), [], probe.output());
  assert.equal(probe.domain.shutdownReason, SHUTDOWN_poweroff);
  assert.equal(probe.domain.pages, 4 * 256, "every extra frame went back");
});

Deno.test("event channels: bad ports and foreign bindings are refused", async () => {
  const hv = new Hypervisor();
  const victim = await createProbe(hv, "victim", "test=spin n=100");
  const port = victim.domain.events.allocUnbound(0);
  const attacker = await createProbe(
    hv,
    "attacker",
    `test=evtchn victim_dom=${victim.domain.id} victim_port=${port}`,
  );
  hv.unpause(attacker.domain);
  await runUntil(hv, () => attacker.domain.shutdownReason !== undefined);
  assert.deepEqual(failures(attacker.output()), [], attacker.output());
  assert.equal(attacker.domain.shutdownReason, SHUTDOWN_poweroff);
  const status = victim.domain.events.status(port);
  assert.equal(typeof status === "object" && status.status, 1, "still unbound, for dom0 only");
});

Deno.test("event channels: two guests ping-pong over an interdomain channel", async () => {
  const hv = new Hypervisor();
  const kernel = await probeGuest();
  // The toolstack's way: create both domains, wire the channel, then build each with its port.
  const ping = hv.allocateDomain({ name: "ping", memoryMiB: 4 });
  const pong = hv.allocateDomain({ name: "pong", memoryMiB: 4 });
  const pingPort = ping.events.allocUnbound(pong.id);
  const pongPort = pong.events.bindInterdomain(ping.id, pingPort);
  assert.ok(pingPort > 0 && pongPort > 0);
  hv.buildDomain(ping, kernel, { cmdline: `test=pingpong role=ping port=${pingPort} rounds=200` });
  hv.buildDomain(pong, kernel, { cmdline: `test=pingpong role=pong port=${pongPort} rounds=200` });
  let pingOut = "";
  ping.console.listen((b) => pingOut += new TextDecoder().decode(b));
  hv.unpause(pong);
  hv.unpause(ping);
  await runUntil(hv, () => ping.shutdownReason !== undefined && pong.shutdownReason !== undefined);
  assert.equal(ping.shutdownReason, SHUTDOWN_poweroff);
  assert.equal(pong.shutdownReason, SHUTDOWN_poweroff);
  assert.match(pingOut, /ping: 200 rounds, \d+ ns per round trip/);
});

Deno.test("console input reaches the guest through CONSOLEIO_read", async () => {
  const hv = new Hypervisor();
  const probe = await createProbe(hv, "echo", "test=console");
  hv.unpause(probe.domain);
  await runUntil(hv, () => probe.output().includes("echo ready"));
  hv.consoleInput(probe.domain, new TextEncoder().encode("abc q"));
  await runUntil(hv, () => probe.domain.shutdownReason !== undefined);
  assert.match(probe.output(), /echo ready\nabc q/);
});

Deno.test("null calls: a hypercall and a guest-handled ecall from U both round-trip", async () => {
  const { output, reason } = await runProbe("test=nullcall n=2000");
  assert.deepEqual(failures(output), [], output);
  assert.match(output, /nullcall: hypercall \d+ ns, guest ecall \d+ ns/);
  assert.equal(reason, SHUTDOWN_poweroff);
});

Deno.test("a hostile guest's attacks leave a neighbour untouched", async () => {
  const hv = new Hypervisor();
  const victim = await createProbe(hv, "victim", "test=spin n=3000000");
  const attacker = await createProbe(
    hv,
    "attacker",
    `test=paging victim_mfn=${victim.domain.region.firstFrame + 5}`,
    8,
  );
  const before = victim.domain.region.bytes.slice(0, 64 * 4096);
  hv.unpause(attacker.domain);
  await runUntil(hv, () => attacker.domain.shutdownReason !== undefined);
  assert.deepEqual(failures(attacker.output()), [], attacker.output());
  assert.deepEqual(victim.domain.region.bytes.slice(0, 64 * 4096), before, "victim memory intact");
  hv.unpause(victim.domain);
  await runUntil(hv, () => victim.domain.shutdownReason !== undefined);
  assert.equal(victim.domain.shutdownReason, SHUTDOWN_poweroff);
  // The same computation on a fresh hypervisor gives the same checksum.
  const alone = await runProbe("test=spin n=3000000");
  const checksum = (text: string) => text.match(/checksum=(0x[0-9a-f]+)/)?.[1];
  assert.equal(checksum(victim.output()), checksum(alone.output));
});

Deno.test("a second vCPU: initialise with a validated root, run, count atomically, go down", async () => {
  const { output, reason } = await runProbe("test=smp", 4, 2);
  assert.deepEqual(failures(output), [], output);
  assert.equal(reason, SHUTDOWN_poweroff);
});

Deno.test("IPIs, masking, unmask, status, poll timeouts and multicalls", async () => {
  const { output, reason } = await runProbe("test=events2");
  assert.deepEqual(failures(output), [], output);
  assert.equal(reason, SHUTDOWN_poweroff);
});

Deno.test("grant-table frames (setup, query, never page tables) and the SBI base/legacy calls", async () => {
  const { output, reason } = await runProbe("test=grants");
  assert.deepEqual(failures(output), [], output);
  assert.match(output, /!\n/, "legacy putchar reached the console");
  assert.equal(reason, SHUTDOWN_poweroff);
});
