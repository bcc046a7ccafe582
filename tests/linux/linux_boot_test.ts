/**
 * End to end: unmodified Linux 6.1 boots on the board to our shell, through `deno task machine
 * --linux` in a child process with its console on pipes, as a person would use it: wait for the
 * prompt, type commands, read their output, power off, and the process exits 0.
 *
 * The first run on a fresh machine builds the kernel (`guests/linux/build.ts`, about 7-10 minutes
 * on 2 cores); later runs boot it from the cache.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConsoleSession } from "./console_session.ts";

const CLI = new URL("../../board/cli.ts", import.meta.url).pathname;
/** init.c's prompt (guests/linux/build.ts exports it as SHELL_PROMPT). */
const PROMPT = "paravirt$ ";
/** Room for a kernel build on a fresh machine, then the boot. */
const FIRST_OUTPUT_MS = 40 * 60_000;
const BOOT_MS = 120_000;

Deno.test("Linux boots on the board to an interactive shell and powers off with status 0", async () => {
  const session = new ConsoleSession(
    Deno.execPath(),
    ["run", "--allow-read", "--allow-run", CLI, "--linux"],
    PROMPT,
  );
  try {
    const boot = await session.expect("Linux version 6.1.", FIRST_OUTPUT_MS);
    assert.ok(!boot.includes("Kernel panic"));
    const log = await session.expect(PROMPT, BOOT_MS);
    // What the kernel found on the board, in its own words.
    assert.match(log, /Machine model: paravirt RV32 board/);
    assert.match(log, /SBI specification v2\.0 detected/);
    assert.match(log, /SBI SRST extension detected/);
    assert.match(log, /plic@c000000: mapped 31 interrupts/);
    assert.match(log, /ttyS0 at MMIO 0x10000000 \(irq = \d+, base_baud = \d+\) is a 16550A/);
    assert.match(log, /Run \/init as init process/);
    assert.doesNotMatch(log, /Oops|BUG:|WARNING:|Kernel panic|Unable to handle/);

    assert.equal(await session.command("echo hello from the shell"), "hello from the shell\n");
    const version = await session.command("cat /proc/version");
    assert.match(version, /^Linux version 6\.1\.\d+ .*paravirt@paravirt/);
    const cpuinfo = await session.command("cat /proc/cpuinfo");
    assert.match(cpuinfo, /isa\s*: rv32ima/);
    assert.match(cpuinfo, /mmu\s*: sv32/);
    const ls = (await session.command("ls /")).split("\n");
    for (const name of ["init", "proc/", "sys/", "dev/"]) {
      assert.ok(ls.includes(name), ls.join(" "));
    }
    const proc = await session.command("ls /proc");
    assert.match(proc, /^1\/$/m);
    assert.match(proc, /^meminfo$/m);
    const ps = await session.command("ps");
    assert.match(ps, /^\s+PID S COMMAND$/m);
    assert.match(ps, /^\s+1 [RS] init$/m);
    assert.match(ps, /^\s+2 [RSI] kthreadd$/m);
    // The console is interrupt-driven: the UART's line reaches the kernel through the PLIC.
    const interrupts = await session.command("cat /proc/interrupts");
    const uart = interrupts.match(/^\s*\d+:\s+(\d+)\s+SiFive PLIC\s+10\s+\w+\s+ttyS0$/m);
    assert.ok(uart && Number(uart[1]) > 0, interrupts);
    assert.match(interrupts, /riscv-timer/);
    const uptime = await session.command("uptime");
    assert.match(uptime, /^up \d+\.\d\d seconds, load average: \d+\.\d\d \d+\.\d\d \d+\.\d\d\n$/);
    assert.match(await session.command("cat /nonexistent"), /cat: \/nonexistent: error 2/);
    assert.match(await session.command("frobnicate"), /sh: frobnicate: not found/);
    assert.match(await session.command("help"), /poweroff\s+power the machine off/);

    await session.type("poweroff");
    assert.equal(await session.exitCode(BOOT_MS), 0);
    assert.match(session.output, /reboot: Power down/);
  } finally {
    await session.close();
  }
});
