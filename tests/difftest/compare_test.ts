import { equal, match } from "node:assert/strict";
import { compareOutputs, formatMismatch } from "./compare.ts";
import type { Stream } from "./generator.ts";
import type { ParsedOutput, Signature, TrapEntry } from "./signature.ts";

function signature(seed: number, registers: number[], traps: TrapEntry[]): Signature {
  return {
    seed,
    registers,
    checksum: 1,
    trapCount: traps.length,
    traps,
    scratch: new Map(),
    complete: true,
  };
}

function output(...signatures: Signature[]): ParsedOutput {
  return { signatures, finished: true };
}

const REGS = Array.from({ length: 32 }, (_, k) => k);
/** A stream whose body is: amoadd.w (misaligned), jal +6, ecall. */
const STREAM: Stream = {
  seed: 5,
  registers: REGS,
  fillState: 1,
  mscratch: 0,
  sscratch: 0,
  groups: [
    { kind: "amo-misaligned", insns: [{ insn: { op: "amoadd.w", rd: 5, rs1: 6, rs2: 7 } }] },
    { kind: "jal", insns: [{ insn: { op: "jal", rd: 1, imm: 6 }, skip: 0, addend: 2 }] },
    { kind: "ecall", insns: [{ insn: { op: "ecall" } }] },
  ],
};

Deno.test("identical signatures give no mismatch", () => {
  const sig = signature(5, REGS, [{ cause: 11, tval: 0, epc: 8 }]);
  equal(compareOutputs(output(sig), output(sig)).mismatches.length, 0);
});

Deno.test("a register difference names the register, both values and its last writer", () => {
  const theirs = signature(5, REGS, []);
  const mine = signature(5, REGS.map((v, k) => (k === 5 ? 0xff : v)), []);
  const { mismatches } = compareOutputs(output(theirs), output(mine), { streams: [STREAM] });
  equal(mismatches.length, 1);
  match(formatMismatch(mismatches[0]), /^seed 5: x5 ours=000000ff qemu=00000005 .*amoadd\.w/);
});

Deno.test("trap logs are matched by epc, so one extra trap is one mismatch", () => {
  const theirs = signature(5, REGS, [{ cause: 11, tval: 0, epc: 8 }]);
  const mine = signature(5, REGS, [{ cause: 2, tval: 0, epc: 4 }, { cause: 11, tval: 0, epc: 8 }]);
  const { mismatches } = compareOutputs(output(theirs), output(mine), { streams: [STREAM] });
  equal(mismatches.filter((m) => m.what.startsWith("trap at")).length, 1);
  equal(mismatches.find((m) => m.what.startsWith("trap at"))?.what, "trap at +0x4");
});

Deno.test("known QEMU 7.2 deviations are tolerated only when ours follows the spec", () => {
  const body = 0x8000_3000;
  const theirs = signature(5, REGS, [
    { cause: 4, tval: 0x8000_1601, epc: 0 }, // misaligned AMO reported as a load
    { cause: 0, tval: 0x8000_2fc0, epc: 4 }, // stale pc in mtval
  ]);
  const good = signature(5, REGS, [
    { cause: 6, tval: 0x8000_1601, epc: 0 },
    { cause: 0, tval: body + 4 + 6, epc: 4 },
  ]);
  const result = compareOutputs(output(theirs), output(good), {
    streams: [STREAM],
    bodies: [body],
  });
  equal(result.mismatches.length, 0);
  equal(result.tolerated.get("qemu-7.2-misaligned-amo-cause"), 1);
  equal(result.tolerated.get("qemu-7.2-misaligned-jump-mtval"), 1);
  const bad = signature(5, REGS, [
    { cause: 5, tval: 0x8000_1601, epc: 0 },
    { cause: 0, tval: body + 4, epc: 4 },
  ]);
  equal(
    compareOutputs(output(theirs), output(bad), { streams: [STREAM], bodies: [body] })
      .mismatches.length,
    2,
  );
  equal(
    compareOutputs(output(theirs), output(good), {
      streams: [STREAM],
      bodies: [body],
      quirks: false,
    })
      .mismatches.length,
    2,
  );
});

Deno.test("a seed missing from our output is reported", () => {
  const { mismatches } = compareOutputs(output(signature(5, REGS, [])), {
    signatures: [],
    finished: false,
  });
  equal(mismatches.map((m) => m.what).join(","), "signature,end of run");
});
