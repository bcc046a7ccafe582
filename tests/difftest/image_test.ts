import { deepEqual, equal, ok } from "node:assert/strict";
import { parseElf } from "@paravirt/elf";
import { Assembler, splitImmediate } from "@paravirt/cpu";
import { encode } from "@paravirt/cpu";
import { generateStream } from "./generator.ts";
import { buildImage, CODE_BASE, IMAGE_BASE, RUNTIME_BASE, SCRATCH_BASE } from "./image.ts";
import { boardMachine } from "./our_machine.ts";
import { parseOutput } from "./signature.ts";

Deno.test("splitImmediate gives lui/addi halves that add back up", () => {
  for (const v of [0, 1, -1, 0x7ff, 0x800, 0xfff, 0x8000_0000, 0x7fff_ffff, 0x1234_5678]) {
    const { hi, lo } = splitImmediate(v);
    equal(((hi << 12) + lo) | 0, v | 0);
    ok(lo >= -2048 && lo <= 2047);
  }
});

Deno.test("Assembler resolves forward and backward labels", () => {
  const a = new Assembler(0x8000_0000);
  a.label("top");
  a.jump({ op: "beq", rs1: 1, rs2: 2 }, "end");
  a.la(5, "end");
  a.jump({ op: "jal", rd: 0 }, "top");
  a.label("end");
  const view = new DataView(a.finish().buffer);
  equal(view.getUint32(0, true), encode({ op: "beq", rs1: 1, rs2: 2, imm: 16 }));
  equal(view.getUint32(4, true), encode({ op: "auipc", rd: 5, imm: 0 }));
  equal(view.getUint32(8, true), encode({ op: "addi", rd: 5, rs1: 5, imm: 12 }));
  equal(view.getUint32(12, true), encode({ op: "jal", rd: 0, imm: -12 }));
});

Deno.test("buildImage writes an ELF our loader accepts, entered at the load address", () => {
  const built = buildImage([generateStream(1), generateStream(2)]);
  const elf = parseElf(built.elf);
  equal(elf.entry, IMAGE_BASE);
  equal(elf.segments.length, 1);
  equal(elf.segments[0].physicalAddress, IMAGE_BASE);
  const first = new DataView(elf.segments[0].data.buffer, elf.segments[0].data.byteOffset);
  equal(first.getUint32(0, true), encode({ op: "jal", rd: 0, imm: CODE_BASE - IMAGE_BASE }));
  equal(built.bodies.length, 2);
  ok(built.bodies[0] > CODE_BASE && built.bodies[1] > built.bodies[0]);
});

Deno.test("the image prints one complete signature per stream on our board", async () => {
  const seeds = [3, 4, 5];
  const { elf } = buildImage(seeds.map((seed) => generateStream(seed)), { dumpScratch: true });
  const run = await boardMachine(5_000_000)(elf);
  equal(run.exitCode, 0);
  const parsed = parseOutput(run.output);
  equal(parsed.finished, true);
  deepEqual(parsed.signatures.map((sig) => sig.seed), seeds);
  for (const sig of parsed.signatures) {
    ok(sig.complete);
    equal(sig.registers[3], RUNTIME_BASE);
    equal(sig.registers[4], SCRATCH_BASE + 512);
    equal(sig.scratch.size, 256);
  }
});
