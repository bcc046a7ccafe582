/**
 * An encoder for RV32IMA + Zicsr + Zifencei and the privileged instructions, written for the
 * differential test and the CPU's unit tests: it turns a structured {@link Instruction} into its 32-bit word and formats the
 * same structure as readable assembly, so a test can print what it generated without a disassembler.
 *
 * Rules of use:
 * - Registers are numbers 0..31. Immediates are the architectural values, not the encoded fields:
 *   a branch or `jal` offset is a byte offset (even), `lui`/`auipc` take the 20-bit upper field
 *   (0..0xFFFFF), shifts take a shift amount 0..31, CSR immediates are 0..31.
 * - Out-of-range fields throw `RangeError`; the encoder never truncates silently.
 * - `.word` emits `imm` verbatim (used for deliberately illegal encodings).
 *
 * @module
 */

/** Every mnemonic the encoder knows, plus `.word` for a raw 32-bit value. */
export type Mnemonic =
  | "lui"
  | "auipc"
  | "jal"
  | "jalr"
  | "beq"
  | "bne"
  | "blt"
  | "bge"
  | "bltu"
  | "bgeu"
  | "lb"
  | "lh"
  | "lw"
  | "lbu"
  | "lhu"
  | "sb"
  | "sh"
  | "sw"
  | "addi"
  | "slti"
  | "sltiu"
  | "xori"
  | "ori"
  | "andi"
  | "slli"
  | "srli"
  | "srai"
  | "add"
  | "sub"
  | "sll"
  | "slt"
  | "sltu"
  | "xor"
  | "srl"
  | "sra"
  | "or"
  | "and"
  | "mul"
  | "mulh"
  | "mulhsu"
  | "mulhu"
  | "div"
  | "divu"
  | "rem"
  | "remu"
  | "lr.w"
  | "sc.w"
  | "amoswap.w"
  | "amoadd.w"
  | "amoxor.w"
  | "amoand.w"
  | "amoor.w"
  | "amomin.w"
  | "amomax.w"
  | "amominu.w"
  | "amomaxu.w"
  | "csrrw"
  | "csrrs"
  | "csrrc"
  | "csrrwi"
  | "csrrsi"
  | "csrrci"
  | "fence"
  | "fence.i"
  | "ecall"
  | "ebreak"
  | "mret"
  | "sret"
  | "wfi"
  | "sfence.vma"
  | ".word";

/**
 * One instruction in structured form. Which fields matter depends on the mnemonic:
 *
 * | kind | fields |
 * |---|---|
 * | reg-reg ALU, M extension | `rd`, `rs1`, `rs2` |
 * | reg-imm ALU, `jalr`, loads | `rd`, `rs1`, `imm` (-2048..2047; shifts 0..31) |
 * | stores | `rs1` (base), `rs2` (value), `imm` |
 * | branches | `rs1`, `rs2`, `imm` (byte offset, even, -4096..4094) |
 * | `lui`, `auipc` | `rd`, `imm` (upper 20 bits, 0..0xFFFFF) |
 * | `jal` | `rd`, `imm` (byte offset, even, ±1 MiB) |
 * | `lr.w` | `rd`, `rs1`, `aq`, `rl` |
 * | `sc.w`, `amo*.w` | `rd`, `rs1` (address), `rs2`, `aq`, `rl` |
 * | `csrrw`/`csrrs`/`csrrc` | `rd`, `csr`, `rs1` |
 * | `csrrwi`/`csrrsi`/`csrrci` | `rd`, `csr`, `imm` (0..31) |
 * | `fence` | `pred`, `succ` (4-bit IORW sets, default 0xF) |
 * | `sfence.vma` | `rs1`, `rs2` |
 * | `.word` | `imm` (the raw word) |
 *
 * Missing register fields default to 0 (x0).
 */
export interface Instruction {
  /** The mnemonic. */
  readonly op: Mnemonic;
  /** Destination register. */
  readonly rd?: number;
  /** First source register (base address for memory operations). */
  readonly rs1?: number;
  /** Second source register (store value, AMO operand). */
  readonly rs2?: number;
  /** Immediate, in the meaning given for the mnemonic. */
  readonly imm?: number;
  /** CSR number (0..4095). */
  readonly csr?: number;
  /** Acquire bit of an atomic. */
  readonly aq?: boolean;
  /** Release bit of an atomic. */
  readonly rl?: boolean;
  /** `fence` predecessor set (bits I, O, R, W = 8, 4, 2, 1). */
  readonly pred?: number;
  /** `fence` successor set (bits I, O, R, W = 8, 4, 2, 1). */
  readonly succ?: number;
}

type Format =
  | "R"
  | "I"
  | "SHIFT"
  | "LOAD"
  | "S"
  | "B"
  | "U"
  | "J"
  | "LR"
  | "AMO"
  | "CSR"
  | "CSRI"
  | "FENCE"
  | "FIXED"
  | "SFENCE"
  | "WORD";

interface Shape {
  readonly format: Format;
  /** The word with every fixed field (opcode, funct3, funct7, funct5, funct12) already set. */
  readonly base: number;
}

function r(funct7: number, funct3: number, opcode: number): Shape {
  return { format: "R", base: ((funct7 << 25) | (funct3 << 12) | opcode) >>> 0 };
}
function i(format: Format, funct3: number, opcode: number, high = 0): Shape {
  return { format, base: ((high << 25) | (funct3 << 12) | opcode) >>> 0 };
}
function amo(funct5: number, format: Format = "AMO"): Shape {
  return { format, base: ((funct5 << 27) | (2 << 12) | 0x2f) >>> 0 };
}
function fixed(word: number, format: Format = "FIXED"): Shape {
  return { format, base: word >>> 0 };
}

const SHAPES: Readonly<Record<Mnemonic, Shape>> = {
  "lui": fixed(0x37, "U"),
  "auipc": fixed(0x17, "U"),
  "jal": fixed(0x6f, "J"),
  "jalr": i("I", 0, 0x67),
  "beq": i("B", 0, 0x63),
  "bne": i("B", 1, 0x63),
  "blt": i("B", 4, 0x63),
  "bge": i("B", 5, 0x63),
  "bltu": i("B", 6, 0x63),
  "bgeu": i("B", 7, 0x63),
  "lb": i("LOAD", 0, 0x03),
  "lh": i("LOAD", 1, 0x03),
  "lw": i("LOAD", 2, 0x03),
  "lbu": i("LOAD", 4, 0x03),
  "lhu": i("LOAD", 5, 0x03),
  "sb": i("S", 0, 0x23),
  "sh": i("S", 1, 0x23),
  "sw": i("S", 2, 0x23),
  "addi": i("I", 0, 0x13),
  "slti": i("I", 2, 0x13),
  "sltiu": i("I", 3, 0x13),
  "xori": i("I", 4, 0x13),
  "ori": i("I", 6, 0x13),
  "andi": i("I", 7, 0x13),
  "slli": i("SHIFT", 1, 0x13),
  "srli": i("SHIFT", 5, 0x13),
  "srai": i("SHIFT", 5, 0x13, 0x20),
  "add": r(0x00, 0, 0x33),
  "sub": r(0x20, 0, 0x33),
  "sll": r(0x00, 1, 0x33),
  "slt": r(0x00, 2, 0x33),
  "sltu": r(0x00, 3, 0x33),
  "xor": r(0x00, 4, 0x33),
  "srl": r(0x00, 5, 0x33),
  "sra": r(0x20, 5, 0x33),
  "or": r(0x00, 6, 0x33),
  "and": r(0x00, 7, 0x33),
  "mul": r(0x01, 0, 0x33),
  "mulh": r(0x01, 1, 0x33),
  "mulhsu": r(0x01, 2, 0x33),
  "mulhu": r(0x01, 3, 0x33),
  "div": r(0x01, 4, 0x33),
  "divu": r(0x01, 5, 0x33),
  "rem": r(0x01, 6, 0x33),
  "remu": r(0x01, 7, 0x33),
  "lr.w": amo(0x02, "LR"),
  "sc.w": amo(0x03),
  "amoswap.w": amo(0x01),
  "amoadd.w": amo(0x00),
  "amoxor.w": amo(0x04),
  "amoand.w": amo(0x0c),
  "amoor.w": amo(0x08),
  "amomin.w": amo(0x10),
  "amomax.w": amo(0x14),
  "amominu.w": amo(0x18),
  "amomaxu.w": amo(0x1c),
  "csrrw": i("CSR", 1, 0x73),
  "csrrs": i("CSR", 2, 0x73),
  "csrrc": i("CSR", 3, 0x73),
  "csrrwi": i("CSRI", 5, 0x73),
  "csrrsi": i("CSRI", 6, 0x73),
  "csrrci": i("CSRI", 7, 0x73),
  "fence": i("FENCE", 0, 0x0f),
  "fence.i": i("FIXED", 1, 0x0f),
  "ecall": fixed(0x00000073),
  "ebreak": fixed(0x00100073),
  "mret": fixed(0x30200073),
  "sret": fixed(0x10200073),
  "wfi": fixed(0x10500073),
  "sfence.vma": fixed(0x12000073, "SFENCE"),
  ".word": fixed(0, "WORD"),
};

function reg(insn: Instruction, field: "rd" | "rs1" | "rs2"): number {
  const value = insn[field] ?? 0;
  if (!Number.isInteger(value) || value < 0 || value > 31) {
    throw new RangeError(`Register ${field} of ${insn.op} must be 0..31, got ${value}`);
  }
  return value;
}

function immediate(insn: Instruction, min: number, max: number, even = false): number {
  const value = insn.imm ?? 0;
  if (!Number.isInteger(value) || value < min || value > max || (even && (value & 1) !== 0)) {
    throw new RangeError(
      `Immediate of ${insn.op} must be ${
        even ? "an even integer " : ""
      }in ${min}..${max}, got ${value}`,
    );
  }
  return value;
}

function field4(insn: Instruction, name: "pred" | "succ"): number {
  const value = insn[name] ?? 0xf;
  if (!Number.isInteger(value) || value < 0 || value > 15) {
    throw new RangeError(`Fence ${name} must be 0..15, got ${value}`);
  }
  return value;
}

function csrNumber(insn: Instruction): number {
  const value = insn.csr ?? -1;
  if (!Number.isInteger(value) || value < 0 || value > 0xfff) {
    throw new RangeError(`CSR number of ${insn.op} must be 0..0xFFF, got ${insn.csr}`);
  }
  return value;
}

/** Returns true when `op` is a mnemonic this encoder knows. */
export function isMnemonic(op: string): op is Mnemonic {
  return Object.hasOwn(SHAPES, op);
}

/**
 * Encodes one instruction as its 32-bit little-endian word value (an unsigned number).
 *
 * @throws {RangeError} when a register, immediate or CSR field is out of range.
 * @throws {TypeError} when the mnemonic is unknown.
 */
export function encode(insn: Instruction): number {
  if (!isMnemonic(insn.op)) throw new TypeError(`Unknown mnemonic "${insn.op}"`);
  const { format, base } = SHAPES[insn.op];
  switch (format) {
    case "R":
      return (base | (reg(insn, "rs2") << 20) | (reg(insn, "rs1") << 15) |
        (reg(insn, "rd") << 7)) >>>
        0;
    case "I":
    case "LOAD": {
      const imm = immediate(insn, -2048, 2047) & 0xfff;
      return (base | (imm << 20) | (reg(insn, "rs1") << 15) | (reg(insn, "rd") << 7)) >>> 0;
    }
    case "SHIFT": {
      const shamt = immediate(insn, 0, 31);
      return (base | (shamt << 20) | (reg(insn, "rs1") << 15) | (reg(insn, "rd") << 7)) >>> 0;
    }
    case "S": {
      const imm = immediate(insn, -2048, 2047) & 0xfff;
      return (base | ((imm >> 5) << 25) | (reg(insn, "rs2") << 20) | (reg(insn, "rs1") << 15) |
        ((imm & 0x1f) << 7)) >>> 0;
    }
    case "B": {
      const imm = immediate(insn, -4096, 4094, true) & 0x1fff;
      return (base | (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) |
        (reg(insn, "rs2") << 20) | (reg(insn, "rs1") << 15) | (((imm >> 1) & 0xf) << 8) |
        (((imm >> 11) & 1) << 7)) >>> 0;
    }
    case "U": {
      const imm = immediate(insn, 0, 0xfffff);
      return (base | (imm << 12) | (reg(insn, "rd") << 7)) >>> 0;
    }
    case "J": {
      const imm = immediate(insn, -(1 << 20), (1 << 20) - 2, true) & 0x1fffff;
      return (base | (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) |
        (((imm >> 11) & 1) << 20) | (((imm >> 12) & 0xff) << 12) | (reg(insn, "rd") << 7)) >>> 0;
    }
    case "LR":
    case "AMO": {
      const rs2 = format === "LR" ? 0 : reg(insn, "rs2");
      return (base | ((insn.aq ? 1 : 0) << 26) | ((insn.rl ? 1 : 0) << 25) | (rs2 << 20) |
        (reg(insn, "rs1") << 15) | (reg(insn, "rd") << 7)) >>> 0;
    }
    case "CSR":
      return (base | (csrNumber(insn) << 20) | (reg(insn, "rs1") << 15) |
        (reg(insn, "rd") << 7)) >>>
        0;
    case "CSRI": {
      const uimm = immediate(insn, 0, 31);
      return (base | (csrNumber(insn) << 20) | (uimm << 15) | (reg(insn, "rd") << 7)) >>> 0;
    }
    case "FENCE":
      return (base | (field4(insn, "pred") << 24) | (field4(insn, "succ") << 20)) >>> 0;
    case "FIXED":
      return base;
    case "SFENCE":
      return (base | (reg(insn, "rs2") << 20) | (reg(insn, "rs1") << 15)) >>> 0;
    case "WORD": {
      const word = insn.imm ?? 0;
      if (!Number.isInteger(word) || word < -0x8000_0000 || word > 0xffff_ffff) {
        throw new RangeError(`A .word must be a 32-bit integer, got ${word}`);
      }
      return word >>> 0;
    }
  }
}

function x(n: number | undefined): string {
  return `x${n ?? 0}`;
}

function hex(value: number, digits = 0): string {
  return `0x${(value >>> 0).toString(16).padStart(digits, "0")}`;
}

function fenceSet(value: number): string {
  const set = (value & 8 ? "i" : "") + (value & 4 ? "o" : "") + (value & 2 ? "r" : "") +
    (value & 1 ? "w" : "");
  return set === "" ? "0" : set;
}

/**
 * Formats an instruction as one line of assembly in the GNU style with numeric register names
 * (`add x5, x6, x7`, `lw x5, -12(x4)`, `amoadd.w.aqrl x5, x6, (x7)`, `csrrw x5, 0x340, x6`).
 */
export function formatInstruction(insn: Instruction): string {
  const { op } = insn;
  const { format } = SHAPES[op];
  const imm = insn.imm ?? 0;
  switch (format) {
    case "R":
      return `${op} ${x(insn.rd)}, ${x(insn.rs1)}, ${x(insn.rs2)}`;
    case "I":
      return op === "jalr"
        ? `${op} ${x(insn.rd)}, ${imm}(${x(insn.rs1)})`
        : `${op} ${x(insn.rd)}, ${x(insn.rs1)}, ${imm}`;
    case "SHIFT":
      return `${op} ${x(insn.rd)}, ${x(insn.rs1)}, ${imm}`;
    case "LOAD":
      return `${op} ${x(insn.rd)}, ${imm}(${x(insn.rs1)})`;
    case "S":
      return `${op} ${x(insn.rs2)}, ${imm}(${x(insn.rs1)})`;
    case "B":
      return `${op} ${x(insn.rs1)}, ${x(insn.rs2)}, .${imm < 0 ? "" : "+"}${imm}`;
    case "U":
      return `${op} ${x(insn.rd)}, ${hex(imm)}`;
    case "J":
      return `${op} ${x(insn.rd)}, .${imm < 0 ? "" : "+"}${imm}`;
    case "LR":
    case "AMO": {
      const order = (insn.aq ? "aq" : "") + (insn.rl ? "rl" : "");
      const name = order === "" ? op : `${op}.${order}`;
      return format === "LR"
        ? `${name} ${x(insn.rd)}, (${x(insn.rs1)})`
        : `${name} ${x(insn.rd)}, ${x(insn.rs2)}, (${x(insn.rs1)})`;
    }
    case "CSR":
      return `${op} ${x(insn.rd)}, ${hex(insn.csr ?? 0, 3)}, ${x(insn.rs1)}`;
    case "CSRI":
      return `${op} ${x(insn.rd)}, ${hex(insn.csr ?? 0, 3)}, ${imm}`;
    case "FENCE":
      return `fence ${fenceSet(insn.pred ?? 0xf)}, ${fenceSet(insn.succ ?? 0xf)}`;
    case "FIXED":
      return op;
    case "SFENCE":
      return `sfence.vma ${x(insn.rs1)}, ${x(insn.rs2)}`;
    case "WORD":
      return `.word ${hex(imm, 8)}`;
  }
}
