import { deepEqual, equal, notDeepEqual, ok } from "node:assert/strict";
import { destination } from "./compare.ts";
import {
  generateStream,
  locate,
  Random,
  RUNTIME_REG,
  SCRATCH_REG,
  type Stream,
  streamLength,
  truncateStream,
} from "./generator.ts";

Deno.test("Random is mulberry32 with a fixed seed mix (replay commands depend on it)", () => {
  const r = new Random(1);
  deepEqual([r.next(), r.next(), r.next()], [0x308eb0d7, 0x515a87ce, 0xc877fbe3]);
  const s = new Random(2);
  for (let k = 0; k < 1000; k++) {
    const v = s.between(-3, 3);
    ok(v >= -3 && v <= 3 && Number.isInteger(v));
  }
});

Deno.test("generateStream is deterministic per seed and differs between seeds", () => {
  deepEqual(generateStream(7), generateStream(7));
  deepEqual(generateStream(7, { minstret: true }), generateStream(7, { minstret: true }));
  notDeepEqual(generateStream(7), generateStream(8));
  deepEqual(generateStream(7).groups[0], {
    kind: "shift",
    insns: [{ insn: { op: "srai", rd: 2, rs1: 2, imm: 25 } }],
  });
});

function groupStarts(stream: Stream): Set<number> {
  const starts = new Set<number>();
  let offset = 0;
  for (const group of stream.groups) {
    starts.add(offset);
    offset += group.insns.length * 4;
  }
  starts.add(offset);
  return starts;
}

Deno.test("generated code never writes x3/x4 and jumps only to group starts", () => {
  for (let seed = 0; seed < 300; seed++) {
    const stream = generateStream(seed, { minstret: true });
    ok(streamLength(stream) >= 200, `seed ${seed} is too short`);
    const starts = groupStarts(stream);
    let offset = 0;
    for (const group of stream.groups) {
      for (const item of group.insns) {
        const rd = destination(item.insn);
        ok(rd !== RUNTIME_REG && rd !== SCRATCH_REG, `seed ${seed} writes x${rd} at +${offset}`);
        if (item.skip !== undefined) {
          const from = offset - (item.fromAuipc ? 4 : 0);
          const target = from + (item.insn.imm ?? 0) - (item.addend ?? 0);
          ok(starts.has(target), `seed ${seed}: jump at +${offset} lands inside a group`);
          ok(target > offset, `seed ${seed}: jump at +${offset} goes backward`);
        }
        offset += 4;
      }
    }
  }
});

Deno.test("truncateStream keeps a prefix and re-aims jumps past the cut at the new end", () => {
  const stream = generateStream(11);
  for (const cut of [0, 1, 5, 20, stream.groups.length]) {
    const short = truncateStream(stream, cut);
    equal(short.groups.length, cut);
    const end = streamLength(short) * 4;
    let offset = 0;
    for (const group of short.groups) {
      for (const item of group.insns) {
        if (item.skip !== undefined) {
          const from = offset - (item.fromAuipc ? 4 : 0);
          ok(from + (item.insn.imm ?? 0) - (item.addend ?? 0) <= end);
        }
        offset += 4;
      }
    }
  }
});

Deno.test("locate maps a body offset to its group and instruction", () => {
  const stream = generateStream(3);
  const first = locate(stream, 0);
  equal(first?.group, 0);
  deepEqual(first?.insn, stream.groups[0].insns[0].insn);
  equal(locate(stream, streamLength(stream) * 4), undefined);
});
