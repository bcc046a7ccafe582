/**
 * End-to-end tests of `deno task machine`: real ELF files, a real child process, its stdin, stdout
 * and exit status.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Assembler } from "@paravirt/cpu";
import { guestImagePath } from "@paravirt/guests";
import { writeElfImage } from "../difftest/elf_image.ts";

const CLI = new URL("../../board/cli.ts", import.meta.url).pathname;

async function machine(
  args: string[],
  stdin = "",
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", CLI, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, out: decode(stdout), err: decode(stderr) };
}

async function program(write: (a: Assembler) => void): Promise<string> {
  const asm = new Assembler(0x8000_0000);
  write(asm);
  const path = await Deno.makeTempFile({ suffix: ".elf" });
  await Deno.writeFile(path, writeElfImage(asm.finish()));
  return path;
}

Deno.test("a passing program exits 0 with its console on stdout", async () => {
  const { code, out } = await machine([guestImagePath("hello")]);
  assert.equal(code, 0);
  assert.match(out, /Hello from paravirt!/);
});

Deno.test("the test finisher's failure code becomes the exit status", async () => {
  const path = await program((a) => {
    a.li(1, 0x0010_0000);
    a.li(2, (7 << 16) | 0x3333);
    a.emit({ op: "sw", rs1: 1, rs2: 2, imm: 0 });
  });
  assert.equal((await machine([path])).code, 7);
});

Deno.test("HTIF tohost == 1 passes", async () => {
  const { code } = await machine([guestImagePath("htif")]);
  assert.equal(code, 0);
});

Deno.test("stdin reaches the UART: an echo program", async () => {
  const path = await program((a) => {
    a.li(1, 0x1000_0000);
    a.li(4, 0x71); // 'q' ends the program
    a.label("poll");
    a.emit({ op: "lbu", rd: 2, rs1: 1, imm: 5 }, { op: "andi", rd: 2, rs1: 2, imm: 1 });
    a.jump({ op: "beq", rs1: 2, rs2: 0 }, "poll");
    a.emit({ op: "lbu", rd: 3, rs1: 1, imm: 0 });
    a.jump({ op: "beq", rs1: 3, rs2: 4 }, "done");
    a.emit({ op: "sb", rs1: 1, rs2: 3, imm: 0 });
    a.jump({ op: "jal", rd: 0 }, "poll");
    a.label("done");
    a.li(1, 0x0010_0000);
    a.li(2, 0x5555);
    a.emit({ op: "sw", rs1: 1, rs2: 2, imm: 0 });
  });
  const { code, out } = await machine([path], "echo me\nq");
  assert.equal(code, 0);
  assert.equal(out, "echo me\n");
});

Deno.test("--max-insns stops a program that never ends", async () => {
  const path = await program((a) => {
    a.label("self");
    a.jump({ op: "jal", rd: 0 }, "self");
  });
  const { code, err } = await machine(["--max-insns", "100000", path]);
  assert.equal(code, 124);
  assert.match(err, /stopped after 100000 instructions/);
});

Deno.test("malformed images and bad arguments get a clear error and status 2", async () => {
  const junk = await Deno.makeTempFile();
  await Deno.writeTextFile(junk, "this is not an ELF file at all, not even close to one........");
  const bad = await machine([junk]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /is not a loadable RV32 executable: Not an ELF file/);
  const outside = await Deno.makeTempFile();
  await Deno.writeFile(outside, writeElfImage(new Uint8Array(8), { loadAddress: 0x1000 }));
  const placed = await machine([outside]);
  assert.equal(placed.code, 2);
  assert.match(placed.err, /lies outside RAM/);
  assert.equal((await machine(["--max-insns", "lots", junk])).code, 2);
  assert.equal((await machine([])).code, 2);
  assert.match((await machine(["/nonexistent.elf"])).err, /cannot read/);
});
