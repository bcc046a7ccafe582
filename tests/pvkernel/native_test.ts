/**
 * The PV kernel booted natively: `guests/bin/pvkernel.elf` on the board in S-mode under the
 * board's SBI firmware (paging off, a0 = hart id, a1 = device tree), picking the native pv-ops
 * because the SBI probe of the hypercall extension says 0. Each application runs in U-mode and
 * prints what an independent computation here says it must.
 *
 * @module
 */

import assert from "node:assert/strict";
import { bootNative, expectedHello, expectedMemtest, expectedPrimes } from "./_boot.ts";

Deno.test("native: hello runs in U-mode and the kernel powers off through SRST", async () => {
  const run = await bootNative("app=hello");
  assert.match(run.output, /^pvkernel: booting mode=native pages=32768 cmdline="app=hello"\n/);
  assert.match(run.output, /hello: hello from a U-mode application \(pid 1, native\)\n/);
  assert.ok(run.output.includes(`${expectedHello()}\n`), run.output);
  assert.match(run.output, /pvkernel: job hello \(pid 1\) exited with status 0\n/);
  assert.match(run.output, /pvkernel: all 1 app\(s\) done, powering off\n$/);
  assert.equal(run.outcome, "pass");
});

Deno.test("native: primes prints the count and checksum of an independent sieve", async () => {
  const n = 30000;
  const run = await bootNative(`app=primes n=${n}`);
  const want = expectedPrimes(n);
  assert.match(run.output, new RegExp(`primes: n=${n} count=${want.count} ticks=\\d+\\n`));
  assert.ok(run.output.includes(`${want.line}\n`), run.output);
  assert.equal(run.outcome, "pass");
});

Deno.test("native: memtest maps, verifies and frees pages through the frame allocator", async () => {
  const run = await bootNative("app=memtest pages=32 rounds=2");
  assert.match(run.output, /memtest: round 0 ok \(32 pages\)\nmemtest: round 1 ok \(32 pages\)\n/);
  assert.ok(run.output.includes(`${expectedMemtest(32, 2)}\n`), run.output);
  assert.equal(run.outcome, "pass");
});

Deno.test("native: three processes with their own address spaces run to the end", async () => {
  const run = await bootNative("app=hello,primes,memtest n=60000 pages=16 rounds=1");
  for (const [name, pid] of [["hello", 1], ["primes", 2], ["memtest", 3]] as const) {
    assert.ok(run.output.includes(`pvkernel: started app ${name} as pid ${pid}\n`), run.output);
    assert.ok(
      run.output.includes(`pvkernel: job ${name} (pid ${pid}) exited with status 0\n`),
      run.output,
    );
  }
  assert.ok(run.output.includes(expectedPrimes(60000).line), run.output);
  assert.ok(run.output.includes(expectedMemtest(16, 1)), run.output);
  assert.match(run.output, /pvkernel: all 3 app\(s\) done, powering off\n$/);
  assert.equal(run.outcome, "pass");
});

Deno.test("native: a U-mode page fault kills the process with a clear report", async () => {
  const run = await bootNative("app=memtest pages=4 rounds=1 fault=1");
  assert.match(
    run.output,
    /pvkernel: pid 1 \(memtest\): load page fault at 0x40000000, pc 0x[0-9a-f]{8} - killed\n/,
  );
  assert.match(run.output, /pvkernel: job memtest \(pid 1\) exited with status 269\n/);
  assert.match(run.output, /pvkernel: 1 of 1 app\(s\) failed, crashing\n$/);
  assert.equal(run.outcome, "fail");
});

Deno.test("native: apps that need the hypervisor fail clearly", async () => {
  const pingpong = await bootNative("app=pingpong role=ping port=1");
  assert.match(pingpong.output, /app pingpong: FAIL needs the hypervisor \(event channels\)\n/);
  assert.equal(pingpong.outcome, "fail");
  const hostile = await bootNative("app=hostile");
  assert.match(hostile.output, /app hostile: error: needs the hypervisor/);
  assert.equal(hostile.outcome, "fail");
});

Deno.test("native: bad command lines are refused with a message", async () => {
  const unknown = await bootNative("app=nope");
  assert.match(
    unknown.output,
    /pvkernel: unknown app "nope" \(known: hello primes pingpong memtest disktest nettest echo hostile xstest ringgarbage\)\n/,
  );
  assert.equal(unknown.outcome, "fail");
  const badN = await bootNative("app=primes n=12x");
  assert.match(badN.output, /app primes: FAIL bad n= \(0 \.\. 100000000\)\n/);
  assert.equal(badN.outcome, "fail");
});

Deno.test("native: a malformed device tree stops the boot with a message", async () => {
  const run = await bootNative("app=hello", {
    patch: (board, fdt) => board.memory.writeBytes(fdt, new Uint8Array([0xd0, 0x0d, 0xfe, 0xef])),
  });
  assert.match(
    run.output,
    /pvkernel: native boot failed: malformed device tree at 0x[0-9a-f]{8}\n/,
  );
  assert.equal(run.outcome, "fail");
});

Deno.test("native: the split-driver frontends are absent, and the apps that need them say why", async () => {
  const run = await bootNative("app=disktest,nettest,xstest,ringgarbage role=ping console=ring");
  assert.equal(run.outcome, "fail");
  assert.match(
    run.output,
    /pvkernel: console=ring needs the hypervisor; natively the SBI console stays\n/,
  );
  assert.match(
    run.output,
    /app disktest: FAIL no block device: the kernel runs natively \(block frontends need the hypervisor and xenstore\)\n/,
  );
  assert.match(
    run.output,
    /app nettest: FAIL no network interface: the kernel runs natively \(network frontends need the hypervisor and xenstore\)\n/,
  );
  assert.match(
    run.output,
    /app xstest: FAIL xenstore and grant tables need the hypervisor \(running natively\)\n/,
  );
  assert.match(
    run.output,
    /app ringgarbage: FAIL block device 0: error -38 \(running natively: no frontends\)\n/,
  );
  assert.match(run.output, /pvkernel: 4 of 4 app\(s\) failed, crashing\n$/);
});

Deno.test("native: echo reads typed lines from the SBI console", async () => {
  const run = await bootNative("app=echo timeout_ms=5000", {
    patch: (board) => board.uart.receive(new TextEncoder().encode("native line\nquit\n")),
  });
  assert.equal(run.outcome, "pass", run.output);
  assert.match(run.output, /echo: native line\necho: bye after 1 line\(s\)\n/);
});
