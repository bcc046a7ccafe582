/**
 * The PV kernel as a paravirtualized guest: the same `guests/bin/pvkernel.elf` booted by the
 * hypervisor's domain builder (start-info, paging on), picking the hypervisor pv-ops because the
 * SBI probe says 1. The applications print what they print natively; two guests ping-pong over
 * an interdomain event channel; the hostile job is refused at every step while its neighbour
 * runs on unharmed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Hypervisor } from "@paravirt/hypervisor";
import { SHUTDOWN_crash, SHUTDOWN_poweroff } from "@paravirt/public";
import {
  bootNative,
  bootPv,
  createPv,
  expectedHello,
  expectedMemtest,
  expectedPrimes,
  pvKernel,
  runToShutdown,
  watch,
} from "./_boot.ts";

/** The lines an application prints, without the kernel's own lines. */
function appLines(output: string): string[] {
  return output.split("\n").filter((line) => line !== "" && !line.startsWith("pvkernel:"));
}

Deno.test("pv: hello boots from start-info and shuts down with SHUTDOWN_poweroff", async () => {
  const { output, reason } = await bootPv("app=hello");
  assert.match(output, /^pvkernel: booting mode=xen pages=2048 cmdline="app=hello"\n/);
  assert.match(output, /hello: hello from a U-mode application \(pid 1, paravirtualized\)\n/);
  assert.ok(output.includes(`${expectedHello()}\n`), output);
  assert.match(output, /pvkernel: all 1 app\(s\) done, powering off\n$/);
  assert.equal(reason, SHUTDOWN_poweroff);
});

Deno.test("pv: the same binaries print the same lines natively and as a PV guest", async () => {
  const cmdline = "app=primes,memtest n=40000 pages=16 rounds=2";
  const native = await bootNative(cmdline);
  const pv = await bootPv(cmdline, { memoryMiB: 8, maxMemoryMiB: 9 });
  assert.equal(native.outcome, "pass");
  assert.equal(pv.reason, SHUTDOWN_poweroff, pv.output);
  const withoutTicks = (lines: string[]) => lines.map((l) => l.replace(/ ticks=\d+/, "")).sort();
  assert.deepEqual(withoutTicks(appLines(pv.output)), withoutTicks(appLines(native.output)));
  assert.ok(pv.output.includes(expectedPrimes(40000).line));
  assert.ok(pv.output.includes(expectedMemtest(16, 2)));
});

Deno.test("pv: memtest grows and shrinks the reservation, page faults kill the process", async () => {
  const ok = await bootPv("app=memtest pages=64 rounds=2", { memoryMiB: 8, maxMemoryMiB: 9 });
  assert.ok(ok.output.includes(expectedMemtest(64, 2)), ok.output);
  assert.equal(ok.reason, SHUTDOWN_poweroff);
  // At its maximum reservation the domain gets no more frames: the app says so and fails.
  const full = await bootPv("app=memtest pages=8 rounds=1", { memoryMiB: 8 });
  assert.match(full.output, /app memtest: FAIL warm-up mem_map returned -12\n/);
  assert.equal(full.reason, SHUTDOWN_crash);
  const fault = await bootPv("app=memtest pages=8 rounds=1 fault=1", {
    memoryMiB: 8,
    maxMemoryMiB: 9,
  });
  assert.match(
    fault.output,
    /pvkernel: pid 1 \(memtest\): load page fault at 0x40000000, pc 0x[0-9a-f]{8} - killed\n/,
  );
  assert.equal(fault.reason, SHUTDOWN_crash);
});

Deno.test("pv: three processes switch address spaces through NEW_BASEPTR", async () => {
  const hv = new Hypervisor();
  const guest = await createPv(hv, "three", "app=hello,primes,memtest n=50000 pages=8 rounds=1", {
    maxMemoryMiB: 9,
  });
  hv.unpause(guest.domain);
  await runToShutdown(hv, [guest]);
  const out = guest.output();
  assert.match(out, /pvkernel: all 3 app\(s\) done, powering off\n$/);
  assert.ok(out.includes(expectedPrimes(50000).line));
  // Each process's root was pinned, made current and released through hypercalls.
  assert.ok((hv.hypercallCounts.get(26) ?? 0) >= 9, "mmuext_op calls");
  assert.ok((hv.hypercallCounts.get(1) ?? 0) >= 3, "mmu_update calls");
});

Deno.test("pv: two guests ping-pong over an interdomain event channel", async () => {
  const hv = new Hypervisor();
  const kernel = await pvKernel();
  const ping = hv.allocateDomain({ name: "ping", memoryMiB: 8 });
  const pong = hv.allocateDomain({ name: "pong", memoryMiB: 8 });
  const pingPort = ping.events.allocUnbound(pong.id);
  const pongPort = pong.events.bindInterdomain(ping.id, pingPort);
  const rounds = 50;
  hv.buildDomain(ping, kernel, {
    cmdline: `app=pingpong role=ping port=${pingPort} rounds=${rounds}`,
  });
  hv.buildDomain(pong, kernel, {
    cmdline: `app=pingpong role=pong port=${pongPort} rounds=${rounds}`,
  });
  const guests = [watch(ping), watch(pong)];
  hv.unpause(ping); // ping starts first: its first event waits, counted, for pong
  hv.unpause(pong);
  await runToShutdown(hv, guests);
  const [pingOut, pongOut] = guests.map((g) => g.output());
  assert.match(
    pingOut,
    new RegExp(
      `pingpong: role=ping rounds=${rounds} rtt_avg_ns=\\d+ rtt_min_ns=\\d+ rtt_max_ns=\\d+`,
    ),
  );
  assert.match(pongOut, new RegExp(`pingpong: role=pong rounds=${rounds}\\n`));
  const checksum = (out: string) => out.match(/app pingpong: done checksum=(0x[0-9a-f]{8})/)?.[1];
  assert.ok(checksum(pingOut) !== undefined && checksum(pingOut) === checksum(pongOut));
  assert.equal(ping.shutdownReason, SHUTDOWN_poweroff);
  assert.equal(pong.shutdownReason, SHUTDOWN_poweroff);
});

Deno.test("pv: the hostile job is refused every time and its neighbour is unaffected", async () => {
  const hv = new Hypervisor();
  const neighbour = await createPv(hv, "neighbour", "app=primes,memtest n=80000 pages=16", {
    maxMemoryMiB: 9,
  });
  const victimMfn = neighbour.domain.region.firstFrame + 3;
  const hostile = await createPv(
    hv,
    "hostile",
    `app=hostile victim_mfn=0x${victimMfn.toString(16)} victim_dom=${neighbour.domain.id}`,
  );
  hv.unpause(neighbour.domain);
  hv.unpause(hostile.domain);
  await runToShutdown(hv, [neighbour, hostile]);
  const out = hostile.output();
  const attempts = out.split("\n").filter((l) => /^hostile: \w+: rc=/.test(l));
  assert.ok(attempts.length >= 50, out);
  for (const line of attempts) {
    assert.match(line, /^hostile: \w+: rc=-?\d+ expected=[A-Za-z0-9:-]+ ok$/);
  }
  assert.match(
    out,
    new RegExp(
      `hostile: summary attempts=${attempts.length} ok=${attempts.length} denied=0 failed=0\\n`,
    ),
  );
  assert.equal(hostile.domain.shutdownReason, SHUTDOWN_poweroff);
  // The neighbour computed exactly what it computes alone.
  assert.ok(neighbour.output().includes(expectedPrimes(80000).line), neighbour.output());
  assert.ok(neighbour.output().includes(expectedMemtest(16, 3)), neighbour.output());
  assert.equal(neighbour.domain.shutdownReason, SHUTDOWN_poweroff);
});

Deno.test("pv: an unknown app crashes the domain with a message", async () => {
  const { output, reason } = await bootPv("app=nope");
  assert.match(output, /pvkernel: unknown app "nope"/);
  assert.equal(reason, SHUTDOWN_crash);
});
