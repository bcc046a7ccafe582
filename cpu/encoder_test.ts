import { equal, throws } from "node:assert/strict";
import { encode, formatInstruction, type Instruction } from "./encoder.ts";

/**
 * Words checked once against `riscv64-unknown-elf-objdump -M numeric,no-aliases` (binutils 2.40)
 * and hard-coded here, so the test needs no cross toolchain.
 */
const VERIFIED: ReadonlyArray<readonly [number, Instruction, string]> = [
  [0xfffff2b7, { op: "lui", rd: 5, imm: 1048575 }, "lui x5, 0xfffff"],
  [0x12345f97, { op: "auipc", rd: 31, imm: 74565 }, "auipc x31, 0x12345"],
  [0x001000ef, { op: "jal", rd: 1, imm: 2048 }, "jal x1, .+2048"],
  [0xffdff06f, { op: "jal", rd: 0, imm: -4 }, "jal x0, .-4"],
  [0x7ffff3ef, { op: "jal", rd: 7, imm: 1048574 }, "jal x7, .+1048574"],
  [0x800003ef, { op: "jal", rd: 7, imm: -1048576 }, "jal x7, .-1048576"],
  [0x800100e7, { op: "jalr", rd: 1, rs1: 2, imm: -2048 }, "jalr x1, -2048(x2)"],
  [0x7ff08067, { op: "jalr", rd: 0, rs1: 1, imm: 2047 }, "jalr x0, 2047(x1)"],
  [0x7e208fe3, { op: "beq", rs1: 1, rs2: 2, imm: 4094 }, "beq x1, x2, .+4094"],
  [0x800f9063, { op: "bne", rs1: 31, rs2: 0, imm: -4096 }, "bne x31, x0, .-4096"],
  [0x0041c0e3, { op: "blt", rs1: 3, rs2: 4, imm: 2048 }, "blt x3, x4, .+2048"],
  [0x0041d163, { op: "bge", rs1: 3, rs2: 4, imm: 2 }, "bge x3, x4, .+2"],
  [0xffdf6fe3, { op: "bltu", rs1: 30, rs2: 29, imm: -2 }, "bltu x30, x29, .-2"],
  [0x0062f863, { op: "bgeu", rs1: 5, rs2: 6, imm: 16 }, "bgeu x5, x6, .+16"],
  [0xfff10083, { op: "lb", rd: 1, rs1: 2, imm: -1 }, "lb x1, -1(x2)"],
  [0x7ff21183, { op: "lh", rd: 3, rs1: 4, imm: 2047 }, "lh x3, 2047(x4)"],
  [0x80032283, { op: "lw", rd: 5, rs1: 6, imm: -2048 }, "lw x5, -2048(x6)"],
  [0x06444383, { op: "lbu", rd: 7, rs1: 8, imm: 100 }, "lbu x7, 100(x8)"],
  [0xf9c55483, { op: "lhu", rd: 9, rs1: 10, imm: -100 }, "lhu x9, -100(x10)"],
  [0xfec58fa3, { op: "sb", rs1: 11, rs2: 12, imm: -1 }, "sb x12, -1(x11)"],
  [0x7ee69fa3, { op: "sh", rs1: 13, rs2: 14, imm: 2047 }, "sh x14, 2047(x13)"],
  [0x8107a023, { op: "sw", rs1: 15, rs2: 16, imm: -2048 }, "sw x16, -2048(x15)"],
  [0x01f22fa3, { op: "sw", rs1: 4, rs2: 31, imm: 31 }, "sw x31, 31(x4)"],
  [0x80090893, { op: "addi", rd: 17, rs1: 18, imm: -2048 }, "addi x17, x18, -2048"],
  [0x001a2993, { op: "slti", rd: 19, rs1: 20, imm: 1 }, "slti x19, x20, 1"],
  [0xfffb3a93, { op: "sltiu", rd: 21, rs1: 22, imm: -1 }, "sltiu x21, x22, -1"],
  [0x555c4b93, { op: "xori", rd: 23, rs1: 24, imm: 1365 }, "xori x23, x24, 1365"],
  [0xaabd6c93, { op: "ori", rd: 25, rs1: 26, imm: -1365 }, "ori x25, x26, -1365"],
  [0x7ffe7d93, { op: "andi", rd: 27, rs1: 28, imm: 2047 }, "andi x27, x28, 2047"],
  [0x01ff1e93, { op: "slli", rd: 29, rs1: 30, imm: 31 }, "slli x29, x30, 31"],
  [0x0010df93, { op: "srli", rd: 31, rs1: 1, imm: 1 }, "srli x31, x1, 1"],
  [0x4111d113, { op: "srai", rd: 2, rs1: 3, imm: 17 }, "srai x2, x3, 17"],
  [0x000f80b3, { op: "add", rd: 1, rs1: 31, rs2: 0 }, "add x1, x31, x0"],
  [0x407f0133, { op: "sub", rd: 2, rs1: 30, rs2: 7 }, "sub x2, x30, x7"],
  [0x00ee91b3, { op: "sll", rd: 3, rs1: 29, rs2: 14 }, "sll x3, x29, x14"],
  [0x015e2233, { op: "slt", rd: 4, rs1: 28, rs2: 21 }, "slt x4, x28, x21"],
  [0x01cdb2b3, { op: "sltu", rd: 5, rs1: 27, rs2: 28 }, "sltu x5, x27, x28"],
  [0x003d4333, { op: "xor", rd: 6, rs1: 26, rs2: 3 }, "xor x6, x26, x3"],
  [0x00acd3b3, { op: "srl", rd: 7, rs1: 25, rs2: 10 }, "srl x7, x25, x10"],
  [0x411c5433, { op: "sra", rd: 8, rs1: 24, rs2: 17 }, "sra x8, x24, x17"],
  [0x018be4b3, { op: "or", rd: 9, rs1: 23, rs2: 24 }, "or x9, x23, x24"],
  [0x01fb7533, { op: "and", rd: 10, rs1: 22, rs2: 31 }, "and x10, x22, x31"],
  [0x026a85b3, { op: "mul", rd: 11, rs1: 21, rs2: 6 }, "mul x11, x21, x6"],
  [0x02da1633, { op: "mulh", rd: 12, rs1: 20, rs2: 13 }, "mulh x12, x20, x13"],
  [0x0349a6b3, { op: "mulhsu", rd: 13, rs1: 19, rs2: 20 }, "mulhsu x13, x19, x20"],
  [0x03b93733, { op: "mulhu", rd: 14, rs1: 18, rs2: 27 }, "mulhu x14, x18, x27"],
  [0x0228c7b3, { op: "div", rd: 15, rs1: 17, rs2: 2 }, "div x15, x17, x2"],
  [0x02985833, { op: "divu", rd: 16, rs1: 16, rs2: 9 }, "divu x16, x16, x9"],
  [0x0307e8b3, { op: "rem", rd: 17, rs1: 15, rs2: 16 }, "rem x17, x15, x16"],
  [0x03777933, { op: "remu", rd: 18, rs1: 14, rs2: 23 }, "remu x18, x14, x23"],
  [0x100322af, { op: "lr.w", rd: 5, rs1: 6 }, "lr.w x5, (x6)"],
  [0x140322af, { op: "lr.w", rd: 5, rs1: 6, aq: true }, "lr.w.aq x5, (x6)"],
  [0x160322af, { op: "lr.w", rd: 5, rs1: 6, aq: true, rl: true }, "lr.w.aqrl x5, (x6)"],
  [0x189423af, { op: "sc.w", rd: 7, rs1: 8, rs2: 9 }, "sc.w x7, x9, (x8)"],
  [0x1a9423af, { op: "sc.w", rd: 7, rs1: 8, rs2: 9, rl: true }, "sc.w.rl x7, x9, (x8)"],
  [
    0x080a252f,
    { op: "amoswap.w", rd: 10, rs1: 20, rs2: 0, aq: false, rl: false },
    "amoswap.w x10, x0, (x20)",
  ],
  [
    0x041aa5af,
    { op: "amoadd.w", rd: 11, rs1: 21, rs2: 1, aq: true, rl: false },
    "amoadd.w.aq x11, x1, (x21)",
  ],
  [
    0x222b262f,
    { op: "amoxor.w", rd: 12, rs1: 22, rs2: 2, aq: false, rl: true },
    "amoxor.w.rl x12, x2, (x22)",
  ],
  [
    0x663ba6af,
    { op: "amoand.w", rd: 13, rs1: 23, rs2: 3, aq: true, rl: true },
    "amoand.w.aqrl x13, x3, (x23)",
  ],
  [
    0x404c272f,
    { op: "amoor.w", rd: 14, rs1: 24, rs2: 4, aq: false, rl: false },
    "amoor.w x14, x4, (x24)",
  ],
  [
    0x845ca7af,
    { op: "amomin.w", rd: 15, rs1: 25, rs2: 5, aq: true, rl: false },
    "amomin.w.aq x15, x5, (x25)",
  ],
  [
    0xa26d282f,
    { op: "amomax.w", rd: 16, rs1: 26, rs2: 6, aq: false, rl: true },
    "amomax.w.rl x16, x6, (x26)",
  ],
  [
    0xc67da8af,
    { op: "amominu.w", rd: 17, rs1: 27, rs2: 7, aq: true, rl: true },
    "amominu.w.aqrl x17, x7, (x27)",
  ],
  [
    0xe08e292f,
    { op: "amomaxu.w", rd: 18, rs1: 28, rs2: 8, aq: false, rl: false },
    "amomaxu.w x18, x8, (x28)",
  ],
  [0x340110f3, { op: "csrrw", rd: 1, csr: 832, rs1: 2 }, "csrrw x1, 0x340, x2"],
  [0xf14021f3, { op: "csrrs", rd: 3, csr: 3860, rs1: 0 }, "csrrs x3, 0xf14, x0"],
  [0x3002b073, { op: "csrrc", rd: 0, csr: 768, rs1: 5 }, "csrrc x0, 0x300, x5"],
  [0x140fd373, { op: "csrrwi", rd: 6, csr: 320, imm: 31 }, "csrrwi x6, 0x140, 31"],
  [0x7c00e3f3, { op: "csrrsi", rd: 7, csr: 1984, imm: 1 }, "csrrsi x7, 0x7c0, 1"],
  [0xfff07473, { op: "csrrci", rd: 8, csr: 4095, imm: 0 }, "csrrci x8, 0xfff, 0"],
  [0x0ff0000f, { op: "fence" }, "fence iorw, iorw"],
  [0x0210000f, { op: "fence", pred: 2, succ: 1 }, "fence r, w"],
  [0x0840000f, { op: "fence", pred: 8, succ: 4 }, "fence i, o"],
  [0x0000100f, { op: "fence.i" }, "fence.i"],
  [0x00000073, { op: "ecall" }, "ecall"],
  [0x00100073, { op: "ebreak" }, "ebreak"],
  [0x30200073, { op: "mret" }, "mret"],
  [0x10200073, { op: "sret" }, "sret"],
  [0x10500073, { op: "wfi" }, "wfi"],
  [0x12000073, { op: "sfence.vma" }, "sfence.vma x0, x0"],
  [0x12b50073, { op: "sfence.vma", rs1: 10, rs2: 11 }, "sfence.vma x10, x11"],
];

Deno.test("encode matches words verified with objdump", () => {
  for (const [word, insn] of VERIFIED) {
    equal(encode(insn).toString(16).padStart(8, "0"), word.toString(16).padStart(8, "0"));
  }
});

Deno.test("formatInstruction prints GNU-style assembly", () => {
  for (const [, insn, text] of VERIFIED) equal(formatInstruction(insn), text);
  equal(formatInstruction({ op: ".word", imm: 0 }), ".word 0x00000000");
});

Deno.test("encode passes .word through and normalises it to unsigned", () => {
  equal(encode({ op: ".word", imm: -1 }), 0xffff_ffff);
  equal(encode({ op: ".word", imm: 0x7c00_2573 }), 0x7c00_2573);
});

Deno.test("encode rejects out-of-range fields", () => {
  throws(() => encode({ op: "addi", rd: 32 }), RangeError);
  throws(() => encode({ op: "addi", rd: 1, imm: 2048 }), RangeError);
  throws(() => encode({ op: "slli", rd: 1, imm: 32 }), RangeError);
  throws(() => encode({ op: "beq", imm: 3 }), RangeError);
  throws(() => encode({ op: "beq", imm: 4096 }), RangeError);
  throws(() => encode({ op: "jal", imm: 1 << 20 }), RangeError);
  throws(() => encode({ op: "lui", imm: -1 }), RangeError);
  throws(() => encode({ op: "csrrw" }), RangeError);
  throws(() => encode({ op: "csrrwi", csr: 0x340, imm: 32 }), RangeError);
  throws(() => encode({ op: "fence", pred: 16 }), RangeError);
  throws(() => encode({ op: "nop" as "addi" }), TypeError);
});
