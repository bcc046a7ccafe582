import assert from "node:assert/strict";
import { DATA, machine, RAM, runToBreak } from "./_test_machine.ts";
import type { Mnemonic } from "./encoder.ts";

const EDGES = [
  0,
  1,
  -1,
  2,
  31,
  32,
  0x7fffffff,
  -0x80000000,
  0x12345678,
  -0x1234568,
  0xffff,
  0x8000,
];

/** Runs `op x3, x1, x2` with x1 = a, x2 = b and returns x3. */
function rr(op: Mnemonic, a: number, b: number): number {
  return runToBreak((s) => {
    s.li(1, a);
    s.li(2, b);
    s.emit({ op, rd: 3, rs1: 1, rs2: 2 });
  }).x[3];
}

const U = (v: number) => BigInt.asUintN(32, BigInt(v));
const S = (v: number) => BigInt.asIntN(32, BigInt(v));
const I32 = (v: bigint) => Number(BigInt.asIntN(32, v));

/** Reference semantics of the register-register group, written from the spec with BigInt. */
const REFERENCE: Partial<Record<Mnemonic, (a: number, b: number) => number>> = {
  add: (a, b) => I32(S(a) + S(b)),
  sub: (a, b) => I32(S(a) - S(b)),
  sll: (a, b) => I32(U(a) << BigInt(b & 31)),
  srl: (a, b) => I32(U(a) >> BigInt(b & 31)),
  sra: (a, b) => I32(S(a) >> BigInt(b & 31)),
  slt: (a, b) => (S(a) < S(b) ? 1 : 0),
  sltu: (a, b) => (U(a) < U(b) ? 1 : 0),
  xor: (a, b) => a ^ b,
  or: (a, b) => a | b,
  and: (a, b) => a & b,
  mul: (a, b) => I32(S(a) * S(b)),
  mulh: (a, b) => I32((S(a) * S(b)) >> 32n),
  mulhsu: (a, b) => I32((S(a) * U(b)) >> 32n),
  mulhu: (a, b) => I32((U(a) * U(b)) >> 32n),
  div: (a, b) => b === 0 ? -1 : (a === -0x80000000 && b === -1) ? a : I32(S(a) / S(b)),
  divu: (a, b) => b === 0 ? -1 : I32(U(a) / U(b)),
  rem: (a, b) => b === 0 ? a : (a === -0x80000000 && b === -1) ? 0 : I32(S(a) % S(b)),
  remu: (a, b) => b === 0 ? a : I32(U(a) % U(b)),
};

Deno.test("ALU and M-extension register ops match reference semantics on edge values", () => {
  for (const [op, reference] of Object.entries(REFERENCE)) {
    for (const a of EDGES) {
      for (const b of EDGES) {
        assert.equal(rr(op as Mnemonic, a, b), reference!(a | 0, b | 0), `${op} ${a} ${b}`);
      }
    }
  }
});

Deno.test("immediate ops, LUI, AUIPC and x0", () => {
  const h = runToBreak((s) => {
    s.li(1, -5);
    s.emit(
      { op: "addi", rd: 2, rs1: 1, imm: -2048 },
      { op: "slti", rd: 3, rs1: 1, imm: -4 },
      { op: "sltiu", rd: 4, rs1: 1, imm: -1 }, // -5 < 0xffffffff unsigned
      { op: "xori", rd: 5, rs1: 1, imm: -1 },
      { op: "srai", rd: 6, rs1: 1, imm: 1 },
      { op: "srli", rd: 7, rs1: 1, imm: 28 },
      { op: "slli", rd: 8, rs1: 1, imm: 31 },
      { op: "lui", rd: 9, imm: 0xfffff },
      { op: "auipc", rd: 10, imm: 1 },
      { op: "addi", rd: 0, rs1: 1, imm: 7 },
      { op: "andi", rd: 11, rs1: 1, imm: 0x7ff },
      { op: "ori", rd: 12, rs1: 0, imm: -1 },
    );
  });
  assert.deepEqual(
    [...h.x.subarray(2, 13)],
    [-2053, 1, 1, 4, -3, 15, -0x80000000, -4096, (RAM + 0x1000 + 40) | 0, 0x7fb, -1],
  );
  assert.equal(h.x[0], 0);
});

Deno.test("loads sign- and zero-extend; stores write only their width; misaligned works", () => {
  const m = machine((s) => {
    s.li(1, DATA);
    s.li(2, 0x8899aabb | 0);
    s.emit(
      { op: "sw", rs1: 1, rs2: 2, imm: 0 },
      { op: "lb", rd: 3, rs1: 1, imm: 0 },
      { op: "lbu", rd: 4, rs1: 1, imm: 0 },
      { op: "lh", rd: 5, rs1: 1, imm: 2 },
      { op: "lhu", rd: 6, rs1: 1, imm: 2 },
      { op: "sb", rs1: 1, rs2: 0, imm: 1 },
      { op: "lw", rd: 7, rs1: 1, imm: 0 },
    );
    s.li(20, DATA + 4093);
    s.emit(
      { op: "sw", rs1: 20, rs2: 2, imm: 0 }, // crosses into the next page
      { op: "lw", rd: 8, rs1: 20, imm: 0 },
      { op: "lh", rd: 9, rs1: 20, imm: 2 },
      { op: "ebreak" },
    );
  });
  m.go();
  const h = m.hart;
  assert.equal(h.x[3], (0xbb << 24) >> 24);
  assert.equal(h.x[4], 0xbb);
  assert.equal(h.x[5], (0x8899 << 16) >> 16);
  assert.equal(h.x[6], 0x8899);
  assert.equal(h.x[7], 0x889900bb | 0);
  assert.equal(h.x[8], 0x8899aabb | 0);
  assert.equal(h.x[9], (0x8899 << 16) >> 16, "bytes 4095 and 4096 straddle the page");
  assert.equal(m.memory.read32(DATA + 4093), 0x8899aabb | 0);
});

Deno.test("branches and jumps: targets, links, JALR clearing bit 0", () => {
  const h = runToBreak((s) => {
    s.li(1, -1);
    s.li(2, 1);
    s.li(10, 0);
    for (const op of ["beq", "bne", "blt", "bge", "bltu", "bgeu"] as const) {
      s.jump({ op, rs1: 1, rs2: 2 }, `skip_${op}`);
      s.emit({ op: "addi", rd: 10, rs1: 10, imm: 1 }); // counts not-taken branches
      s.label(`skip_${op}`);
      s.emit({ op: "slli", rd: 10, rs1: 10, imm: 1 });
    }
    s.la(5, "target");
    s.emit({ op: "addi", rd: 5, rs1: 5, imm: 1 }); // odd: JALR clears bit 0
    s.emit({ op: "jalr", rd: 6, rs1: 5, imm: 0 });
    s.emit({ op: "addi", rd: 10, rs1: 0, imm: 99 });
    s.label("target");
    s.jump({ op: "jal", rd: 7 }, "end");
    s.emit({ op: "addi", rd: 10, rs1: 0, imm: 98 });
    s.label("end");
  });
  // Taken: bne, blt, bgeu (-1 vs 1). Not taken: beq, bge, bltu -> bits for positions 0, 3, 4.
  // -1 vs 1: beq, bge and bltu fall through (add 1 before each doubling): 0b1001100.
  assert.equal(h.x[10], 76);
  assert.ok(h.x[6] !== 0 && h.x[7] === h.x[6] + 8);
});

Deno.test("a jump to a misaligned target raises cause 0 with the target in mtval, rd untouched", () => {
  const m = machine((s) => {
    s.la(1, "handler");
    s.emit({ op: "csrrw", rd: 0, rs1: 1, csr: 0x305 });
    s.li(5, RAM + 0x102);
    s.li(6, 77);
    s.emit({ op: "jalr", rd: 6, rs1: 5, imm: 0 });
    s.label("handler");
    s.emit({ op: "ebreak" });
  });
  m.go();
  assert.equal(m.hart.mcause, 0);
  assert.equal(m.hart.mtval, RAM + 0x102 | 0);
  assert.equal(m.hart.x[6], 77);
});

Deno.test("LR/SC and AMOs", () => {
  const h = runToBreak((s) => {
    s.li(1, DATA);
    s.li(2, 5);
    s.emit(
      { op: "sw", rs1: 1, rs2: 2, imm: 0 },
      { op: "sc.w", rd: 3, rs1: 1, rs2: 2 }, // no reservation: fails
      { op: "lr.w", rd: 4, rs1: 1 },
      { op: "addi", rd: 4, rs1: 4, imm: 1 },
      { op: "sc.w", rd: 5, rs1: 1, rs2: 4 }, // succeeds: memory 6
      { op: "amoadd.w", rd: 6, rs1: 1, rs2: 2 }, // 6 -> 11
      { op: "amoswap.w", rd: 7, rs1: 1, rs2: 0 }, // 11 -> 0
      { op: "addi", rd: 8, rs1: 0, imm: -3 },
      { op: "amomax.w", rd: 9, rs1: 1, rs2: 8 }, // max(0, -3) = 0
      { op: "amomaxu.w", rd: 9, rs1: 1, rs2: 8 }, // maxu(0, 0xfffffffd) -> -3
      { op: "amominu.w", rd: 11, rs1: 1, rs2: 2 }, // minu(-3, 5) = 5
      { op: "amomin.w", rd: 12, rs1: 1, rs2: 8 }, // min(5, -3) = -3
      { op: "amoor.w", rd: 13, rs1: 1, rs2: 2 }, // -3 | 5 = -3
      { op: "amoand.w", rd: 14, rs1: 1, rs2: 2 }, // -3 & 5 = 5
      { op: "amoxor.w", rd: 15, rs1: 1, rs2: 2 }, // 5 ^ 5 = 0
      { op: "lw", rd: 16, rs1: 1, imm: 0 },
    );
  });
  assert.equal(h.x[3], 1);
  assert.equal(h.x[5], 0);
  assert.equal(h.x[6], 6);
  assert.equal(h.x[7], 11);
  assert.equal(h.x[9], 0);
  assert.deepEqual([h.x[11], h.x[12], h.x[13], h.x[14], h.x[15], h.x[16]], [-3, 5, -3, -3, 5, 0]);
});

Deno.test("misaligned atomics trap: LR with cause 4, AMOs with cause 6", () => {
  for (const [op, cause] of [["lr.w", 4], ["amoadd.w", 6], ["sc.w", 6]] as const) {
    const m = machine((s) => {
      s.la(1, "handler");
      s.emit({ op: "csrrw", rd: 0, rs1: 1, csr: 0x305 });
      s.li(1, DATA + 2);
      if (op === "sc.w") s.emit({ op: "lr.w", rd: 2, rs1: 0 }); // (reservation elsewhere)
      s.emit({ op, rd: 2, rs1: 1, rs2: 0 });
      s.label("handler");
      s.emit({ op: "ebreak" });
    });
    m.go();
    if (op !== "sc.w") {
      assert.equal(m.hart.mcause, cause, op);
      assert.equal(m.hart.mtval, DATA + 2 | 0, op);
    }
  }
});

Deno.test("instret counts retired instructions exactly; traps do not retire", () => {
  const m = machine((s) => {
    for (let i = 0; i < 10; i++) s.emit({ op: "addi", rd: 1, rs1: 1, imm: 1 });
    s.emit({ op: "csrrs", rd: 2, rs1: 0, csr: 0xb02 }); // reads 10
    s.emit({ op: "csrrw", rd: 0, rs1: 0, csr: 0xb02 }); // minstret := 0
    s.emit({ op: "csrrs", rd: 3, rs1: 0, csr: 0xb02 }); // the write replaced its own increment
  });
  m.go(13);
  assert.equal(m.hart.x[2], 10);
  assert.equal(m.hart.x[3], 0);
  assert.equal(m.hart.instret, 1, "the read itself retired");
  const t = machine((s) => {
    s.la(1, "handler");
    s.emit({ op: "csrrw", rd: 0, rs1: 1, csr: 0x305 });
    s.emit({ op: ".word", imm: 0 }); // illegal
    s.label("handler");
    s.emit({ op: "addi", rd: 0, rs1: 0, imm: 0 });
  });
  const before = t.hart.instret;
  t.go(5);
  assert.equal(t.hart.instret - before, 4, "5 consumed, the illegal one not retired");
  assert.equal(t.hart.mcause, 2);
  assert.equal(t.hart.mtval, 0);
});
