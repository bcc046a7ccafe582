/**
 * Cross-check: the same kernel and initramfs that boot on our board boot on
 * `qemu-system-riscv32 -M virt` (with our M-mode SBI shim as `-bios`, since Debian ships no rv32
 * OpenSBI) and answer the same commands the same way. Skipped when QEMU is not installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConsoleSession } from "./console_session.ts";
import { linuxBuild, qemuArgs } from "./linux_build.ts";

const PROMPT = "paravirt$ ";

async function hasQemu(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("qemu-system-riscv32", {
      args: ["--version"],
      stdout: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "the same Linux boots on QEMU virt with our SBI shim and powers off with status 0",
  ignore: !(await hasQemu()),
  fn: async () => {
    const build = await linuxBuild();
    const session = new ConsoleSession("qemu-system-riscv32", qemuArgs(build), PROMPT);
    try {
      const log = await session.expect(PROMPT, 120_000);
      assert.match(log, /SBI specification v2\.0 detected/);
      assert.match(log, /Run \/init as init process/);
      assert.doesNotMatch(log, /Oops|BUG:|Kernel panic/);
      assert.equal(await session.command("echo same kernel"), "same kernel\n");
      const cpuinfo = await session.command("cat /proc/cpuinfo");
      assert.match(cpuinfo, /isa\s*: rv32ima/);
      assert.match(cpuinfo, /mmu\s*: sv32/);
      assert.match(await session.command("ps"), /^\s+1 [RS] init$/m);
      await session.type("poweroff");
      assert.equal(await session.exitCode(60_000), 0);
      assert.match(session.output, /qemu-sbi: minstret=0x[0-9a-f]{8}:0x[0-9a-f]{8}/);
    } finally {
      await session.close();
    }
  },
});
