import { deepEqual, equal } from "node:assert/strict";
import { parseOutput } from "./signature.ts";

const REGS = Array.from({ length: 31 }, (_, k) => (k + 1).toString(16).padStart(8, "0")).join(" ");

Deno.test("parseOutput reads complete signatures and the end marker", () => {
  const text = [
    "some banner",
    "S 00000010",
    `R ${REGS}`,
    "M deadbeef",
    "T 00000002",
    "E 00000002 00000000 00000010",
    "E 00000005 08000000 0000001c",
    "D 00000000 00000001 00000002 00000003 00000004 00000005 00000006 00000007 00000008",
    "S 00000011",
    `R ${REGS}`,
    "M 00000000",
    "T 00000000",
    "Z",
    "",
  ].join("\r\n");
  const parsed = parseOutput(text);
  equal(parsed.finished, true);
  equal(parsed.signatures.length, 2);
  const [a, b] = parsed.signatures;
  equal(a.seed, 16);
  equal(a.complete, true);
  equal(a.registers[0], 0);
  equal(a.registers[31], 31);
  equal(a.checksum, 0xdeadbeef);
  deepEqual(a.traps, [{ cause: 2, tval: 0, epc: 0x10 }, {
    cause: 5,
    tval: 0x0800_0000,
    epc: 0x1c,
  }]);
  equal(a.scratch.get(28), 8);
  equal(b.trapCount, 0);
});

Deno.test("parseOutput marks a cut-off block incomplete and the run unfinished", () => {
  const parsed = parseOutput(`S 00000001\nR ${REGS}\nM 0000`);
  equal(parsed.finished, false);
  equal(parsed.signatures.length, 1);
  equal(parsed.signatures[0].complete, false);
  equal(parsed.signatures[0].checksum, undefined);
});
