/**
 * End-to-end tests of `deno task machine --kernel`: a hand-assembled S-mode "kernel" in an ELF file,
 * booted by a real child process under the board's SBI firmware.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Assembler } from "@paravirt/cpu";
import { HYPERCALL_EXTENSION } from "@paravirt/public";
import { writeElfImage } from "../difftest/elf_image.ts";

const CLI = new URL("../../board/cli.ts", import.meta.url).pathname;

async function machine(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", CLI, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, out: decode(stdout), err: decode(stderr) };
}

/** A kernel that prints `text` through the legacy console, probes, and resets with `reason`. */
async function kernel(text: string, reason: number): Promise<string> {
  const a = new Assembler(0x8000_0000);
  for (const ch of text) {
    a.li(17, 0x01);
    a.li(10, ch.charCodeAt(0));
    a.emit({ op: "ecall" });
  }
  // probe_extension(HYPERCALL_EXTENSION) must say 0 on the board: print it as a digit.
  a.li(17, 0x10);
  a.li(16, 3);
  a.li(10, HYPERCALL_EXTENSION);
  a.emit({ op: "ecall" });
  a.emit({ op: "addi", rd: 10, rs1: 11, imm: 0x30 });
  a.li(17, 0x01);
  a.emit({ op: "ecall" });
  a.li(17, 0x53525354);
  a.li(16, 0);
  a.li(10, 0);
  a.li(11, reason);
  a.emit({ op: "ecall" });
  a.emit({ op: "jal", rd: 0, imm: 0 });
  const path = await Deno.makeTempFile({ suffix: ".elf" });
  await Deno.writeFile(path, writeElfImage(a.finish()));
  return path;
}

Deno.test("--kernel boots an S-mode kernel under SBI; SRST shutdown exits 0", async () => {
  const path = await kernel("hello from S-mode\n", 0);
  const { code, out } = await machine(["--kernel", path, "--append", "console=ttyS0"]);
  assert.equal(out, "hello from S-mode\n0");
  assert.equal(code, 0);
});

Deno.test("--kernel: a shutdown with the failure reason exits 1", async () => {
  const path = await kernel("", 1);
  assert.equal((await machine(["--kernel", path])).code, 1);
});

Deno.test("--kernel refuses a file that is no kernel, and --initrd without --kernel", async () => {
  const path = await Deno.makeTempFile();
  await Deno.writeTextFile(path, "not a kernel");
  const bad = await machine(["--kernel", path]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /neither an ELF executable nor a RISC-V Linux Image/);
  const usage = await machine([path, "--initrd", path]);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /--initrd and --append need --kernel/);
});
