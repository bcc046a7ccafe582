/**
 * The seeded random program generator of the differential test. A seed determines one *stream*:
 * initial register values, initial scratch contents, `mscratch`/`sscratch`, and a list of *groups*
 * of instructions (one ALU operation, an address set-up followed by a load, an LR/SC pair…). The
 * same seed always gives the same stream, so a mismatch found in CI replays from its seed alone.
 *
 * Rules of the generated code (the runtime in `image.ts` relies on them):
 * - x3 (`gp`, runtime area) and x4 (`tp`, middle of the scratch area) are never written.
 * - Memory is only touched through addresses computed inside the same group: the scratch area
 *   (x4 ± 512, or through x3), the code (loads only, through `auipc`), or on purpose
 *   {@link FAULT_ADDRESS} (and {@link RAM_END} with `ramEdge`); no random pointer is dereferenced.
 * - Control flow between groups only goes forward, to the start of a later group (or a
 *   deliberately misaligned address, which traps), never into the middle of a group; backward
 *   jumps stay inside a group and terminate. Traps are resumed at the next instruction by the
 *   runtime's handler, so each instruction traps at most once (loops hold no trapping
 *   instruction).
 * - Privilege changes happen only in `priv` groups: mret to U or S, a few instructions, ecall back.
 * - Nothing reads time or cycle counters; `minstret` appears only as a difference of two reads
 *   around a few ALU instructions that never see the raw counts (both reads are overwritten right
 *   after the subtraction), and only when {@link StreamOptions.minstret} is set.
 * - Every `lr.w` is followed by its `sc.w` in the same group, so no reservation outlives a group.
 * - A trap whose mcause/mtval QEMU 7.2 is known to get wrong is followed by an `ecall` in the same
 *   group, so later reads of mcause/mtval do not carry the known difference along.
 * - Cases where QEMU 7.2 is known to deviate from the specification in ways the comparison cannot
 *   tell apart are not generated: csrrs/csrrc with a zero-valued rs1 ≠ x0 on a read-only CSR (QEMU
 *   does not trap), unaligned values written to mepc/sepc (QEMU keeps bits 1:0), minstret across a
 *   trap (QEMU counts the trapping instruction) or after a write to it (QEMU adds one).
 *
 * @module
 */

import { formatInstruction, type Instruction, type Mnemonic } from "@paravirt/cpu";

/** A physical address that is unmapped on QEMU `virt` and on our board: accesses fault. */
export const FAULT_ADDRESS = 0x0800_0000;
/** The first byte past RAM on QEMU `virt` and on our board, both with their default 128 MiB. */
export const RAM_END = 0x8800_0000;
/** The scratch-area base register (x4); points at the middle of the 1 KiB scratch area. */
export const SCRATCH_REG = 4;
/** The runtime-area base register (x3). */
export const RUNTIME_REG = 3;
/** Offsets from the scratch base register that stay inside the scratch area. */
export const SCRATCH_REACH = 512;
/** Offset of the scratch area from the runtime base register (see `image.ts`). */
const SCRATCH_BASE_FROM_GP = 1024;

/** mulberry32: a small, fast, seedable 32-bit PRNG with a full 2^32 period. */
export class Random {
  #state: number;

  /** Starts the sequence for `seed` (any 32-bit integer). */
  constructor(seed: number) {
    this.#state = (seed ^ 0x9e37_79b9) >>> 0;
  }

  /** The next 32-bit unsigned value. */
  next(): number {
    this.#state = (this.#state + 0x6d2b_79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform integer in `0..n-1`. */
  below(n: number): number {
    return Math.floor((this.next() / 0x1_0000_0000) * n);
  }

  /** A uniform integer in `min..max` (inclusive). */
  between(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

/** What a group of instructions exercises; shown in listings and mismatch reports. */
export type GroupKind =
  | "alu"
  | "alu-imm"
  | "shift"
  | "upper"
  | "muldiv"
  | "load"
  | "store"
  | "branch"
  | "jal"
  | "jalr"
  | "lr-sc"
  | "sc-alone"
  | "amo"
  | "amo-misaligned"
  | "lr-misaligned"
  | "csr"
  | "minstret"
  | "ecall"
  | "ebreak"
  | "illegal"
  | "access-fault"
  | "fence"
  | "loop"
  | "jal-back"
  | "load-any"
  | "priv"
  | "ram-edge";

/**
 * One instruction of a stream. For forward jumps the generator keeps the symbolic target (`skip`
 * groups after this one) so that a truncated stream can re-resolve the offset.
 */
export interface StreamInstruction {
  /** The instruction, with any jump offset resolved for the stream it belongs to. */
  readonly insn: Instruction;
  /** For a branch, `jal` or `jalr`: the target is the start of the group `skip + 1` groups later. */
  readonly skip?: number;
  /** Bytes added to the target address (1..3 make a deliberately odd or misaligned target). */
  readonly addend?: number;
  /** For `jalr`: the offset is relative to the `auipc` just before it rather than to itself. */
  readonly fromAuipc?: boolean;
}

/** A group: instructions that belong together and are never split by a jump. */
export interface Group {
  /** What the group tests. */
  readonly kind: GroupKind;
  /** Its instructions, in order. */
  readonly insns: readonly StreamInstruction[];
}

/** The program a seed stands for. */
export interface Stream {
  /** The seed (unsigned 32-bit). */
  readonly seed: number;
  /** Initial register values x0..x31 (entries for x0, x3 and x4 are unused). */
  readonly registers: readonly number[];
  /** Nonzero xorshift32 state from which the runtime fills the scratch area. */
  readonly fillState: number;
  /** Initial `mscratch`. */
  readonly mscratch: number;
  /** Initial `sscratch`. */
  readonly sscratch: number;
  /** The random body. */
  readonly groups: readonly Group[];
}

/** Options of {@link generateStream}. */
export interface StreamOptions {
  /** Instructions in the body (the last group may overshoot a little); default 200. */
  readonly length?: number;
  /**
   * Include `minstret` differences around short straight-line runs. Off by default: enable only
   * when the reference counts retired instructions exactly (QEMU with `-icount shift=0` does).
   */
  readonly minstret?: boolean;
  /**
   * Include misaligned loads and stores that straddle the end of RAM ({@link RAM_END}): the part
   * below is memory, the part above faults. On by default; mtval must name the faulting byte.
   */
  readonly ramEdge?: boolean;
}

const BOUNDARY_VALUES: readonly number[] = [
  0,
  1,
  2,
  -1,
  -2,
  0x7fff_ffff,
  0x8000_0000,
  0x8000_0001,
  0xffff_fffe,
  0x0000_ffff,
  0xffff_0000,
  0x0000_8000,
  0x0000_7fff,
  0x0000_0080,
  0x0000_00ff,
  31,
  32,
  0x5555_5555,
  0xaaaa_aaaa,
];

const BOUNDARY_IMMEDIATES: readonly number[] = [0, 1, -1, 2047, -2048, 2046, -2047, 0x555, -0x556];

const ALU_RR: readonly Mnemonic[] = [
  "add",
  "sub",
  "sll",
  "slt",
  "sltu",
  "xor",
  "srl",
  "sra",
  "or",
  "and",
];
const ALU_RI: readonly Mnemonic[] = ["addi", "slti", "sltiu", "xori", "ori", "andi"];
const SHIFT_IMM: readonly Mnemonic[] = ["slli", "srli", "srai"];
const MULDIV: readonly Mnemonic[] = [
  "mul",
  "mulh",
  "mulhsu",
  "mulhu",
  "div",
  "divu",
  "rem",
  "remu",
];
const DIVIDES: readonly Mnemonic[] = ["div", "divu", "rem", "remu"];
const BRANCHES: readonly Mnemonic[] = ["beq", "bne", "blt", "bge", "bltu", "bgeu"];
const LOADS: readonly (readonly [Mnemonic, number])[] = [
  ["lb", 1],
  ["lbu", 1],
  ["lh", 2],
  ["lhu", 2],
  ["lw", 4],
];
const STORES: readonly (readonly [Mnemonic, number])[] = [["sb", 1], ["sh", 2], ["sw", 4]];
const AMOS: readonly Mnemonic[] = [
  "amoswap.w",
  "amoadd.w",
  "amoxor.w",
  "amoand.w",
  "amoor.w",
  "amomin.w",
  "amomax.w",
  "amominu.w",
  "amomaxu.w",
];

/**
 * CSR numbers whose reads are deterministic and identical on QEMU (as we run it) and our board:
 * misa, then the read-only mvendorid, marchid, mimpid, mhartid, mconfigptr.
 */
const READ_ONLY_INFO: readonly number[] = [0x301, 0xf11, 0xf12, 0xf13, 0xf14, 0xf15];
/**
 * Read-write CSRs with no effect on M-mode execution, written with any value: stvec, stval, mtval,
 * mcounteren, scounteren (mtval is rewritten by the next trap anyway).
 */
const FREE_CSRS: readonly number[] = [0x105, 0x143, 0x343, 0x306, 0x106];
/**
 * sepc and mepc: written only with 4-byte-aligned values. Without C, bits 1:0 of xepc read as
 * zero (privileged spec, "mepc"); QEMU 7.2 keeps whatever was written, so unaligned values would
 * only show that known deviation.
 */
const EPC_CSRS: readonly number[] = [0x141, 0x341];
/** mcause and scause: written only with legal cause values (they are WLRL). */
const CAUSE_CSRS: readonly number[] = [0x342, 0x142];
/** Exception codes and interrupt codes that are legal in mcause/scause on this hart. */
const LEGAL_EXCEPTIONS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15];
const LEGAL_INTERRUPTS: readonly number[] = [1, 3, 5, 7, 9, 11];
/**
 * mstatus bits the generated code may change: SIE, MIE, SPIE, MPIE, SPP, SUM, MXR, TVM, TW, TSR.
 * Not MPP (the runtime's mret depends on it), MPRV (would translate M-mode accesses), FS/VS/XS.
 */
const MSTATUS_SAFE = 0x2 | 0x8 | 0x20 | 0x80 | 0x100 | (1 << 18) | (1 << 19) | (1 << 20) |
  (1 << 21) | (1 << 22);
/** sstatus bits the generated code may change: SIE, SPIE, SPP, SUM, MXR. */
const SSTATUS_SAFE = 0x2 | 0x20 | 0x100 | (1 << 18) | (1 << 19);
/** Read-write CSRs the generated code may freely change: mscratch and sscratch. */
const SCRATCH_CSRS: readonly number[] = [0x340, 0x140];
/** Trap CSRs whose values are set by the stream's own traps: mepc, mcause, mtval. */
const TRAP_CSRS: readonly number[] = [0x341, 0x342, 0x343];
/**
 * CSR numbers implemented by neither machine: custom ranges, the F extension's CSRs (no F),
 * and hypervisor CSRs (no H).
 */
const MISSING_CSRS: readonly number[] = [
  0x7c0,
  0x7ff,
  0x5c0,
  0xbc0,
  0x8c0,
  0xcc0,
  0xfc0,
  0x001,
  0x002,
  0x003,
  0x600,
  0x680,
];

/** Registers the generated code may write: everything but x3 and x4 (x0 is allowed). */
const DESTINATIONS: readonly number[] = Array.from({ length: 32 }, (_, k) => k).filter((k) =>
  k !== RUNTIME_REG && k !== SCRATCH_REG
);
/** Destinations other than x0, for registers that must really hold an address or a value. */
const WORKING: readonly number[] = DESTINATIONS.filter((k) => k !== 0);

const WEIGHTS: readonly (readonly [GroupKind, number])[] = [
  ["alu", 14],
  ["alu-imm", 14],
  ["shift", 6],
  ["upper", 4],
  ["muldiv", 12],
  ["load", 10],
  ["store", 10],
  ["branch", 7],
  ["jal", 2],
  ["jalr", 2],
  ["lr-sc", 3],
  ["sc-alone", 1],
  ["amo", 5],
  ["amo-misaligned", 1],
  ["lr-misaligned", 1],
  ["csr", 5],
  ["minstret", 2],
  ["ecall", 1],
  ["ebreak", 1],
  ["illegal", 3],
  ["access-fault", 2],
  ["fence", 1],
  ["loop", 2],
  ["jal-back", 1],
  ["load-any", 3],
  ["priv", 3],
  ["ram-edge", 1],
];

function randomValue(r: Random): number {
  const roll = r.below(10);
  if (roll < 4) return r.pick(BOUNDARY_VALUES) >>> 0;
  if (roll < 6) return r.between(-64, 64) >>> 0;
  return r.next();
}

function randomImm12(r: Random): number {
  const roll = r.below(10);
  if (roll < 3) return r.pick(BOUNDARY_IMMEDIATES);
  if (roll < 6) return r.between(-16, 16);
  return r.between(-2048, 2047);
}

function randomUpper(r: Random): number {
  return r.chance(0.3) ? r.pick([0, 1, 0x80000, 0xfffff, 0x7ffff]) : r.below(0x100000);
}

function source(r: Random): number {
  return r.below(32);
}

/** `lui` + `addi` loading `value` into `rd` (two instructions, like the assembler's `li`). */
function loadImmediate(rd: number, value: number): Instruction[] {
  const v = value | 0;
  const lo = (v << 20) >> 20;
  return [
    { op: "lui", rd, imm: ((v - lo) >>> 12) & 0xfffff },
    { op: "addi", rd, rs1: rd, imm: lo },
  ];
}

/** A random subset of the bits of `mask`. */
function someBits(r: Random, mask: number): number {
  return (r.next() & mask) >>> 0;
}

function plain(...insns: Instruction[]): StreamInstruction[] {
  return insns.map((insn) => ({ insn }));
}

/** A scratch offset (from x4) for an access of `size` bytes, naturally aligned when `aligned`. */
function scratchOffset(r: Random, size: number, aligned: boolean): number {
  const offset = r.between(-SCRATCH_REACH, SCRATCH_REACH - size);
  return aligned ? offset - (((offset % size) + size) % size) : offset;
}

/** Accesses `offset` from x4 either directly or through a temporary base with a random immediate. */
function addressed(
  r: Random,
  offset: number,
  make: (base: number, imm: number) => Instruction,
): StreamInstruction[] {
  if (r.chance(0.5)) {
    const imm = randomImm12(r);
    const need = offset - imm;
    if (need >= -2048 && need <= 2047) {
      const base = r.pick(WORKING);
      return plain({ op: "addi", rd: base, rs1: SCRATCH_REG, imm: need }, make(base, imm));
    }
  }
  return plain(make(SCRATCH_REG, offset));
}

/** A reg-reg ALU instruction whose destination is not in `avoid` (nor, if `untouched`, sources). */
function aluFiller(r: Random, avoid: readonly number[], untouched = false): Instruction {
  const rd = r.pick(DESTINATIONS.filter((k) => !avoid.includes(k)));
  const sources = Array.from({ length: 32 }, (_, k) => k).filter((k) =>
    !untouched || !avoid.includes(k)
  );
  return { op: r.pick(ALU_RR), rd, rs1: r.pick(sources), rs2: r.pick(sources) };
}

function illegalWord(r: Random): Instruction {
  const bits = r.next();
  const regs = bits & 0x01ff_ff80; // rd, funct3 untouched below, rs1, rs2 from random bits
  const withFunct3 = (f3: number, opcode: number, high = bits & 0xfe00_0000): number =>
    (high | (regs & ~(7 << 12)) | (f3 << 12) | opcode) >>> 0;
  switch (r.below(14)) {
    case 0:
      return { op: ".word", imm: 0 };
    case 1:
      return { op: ".word", imm: 0xffff_ffff };
    case 2: // custom-0 / custom-1 major opcodes
      return { op: ".word", imm: ((bits & ~0x7f) | r.pick([0x0b, 0x2b])) >>> 0 };
    case 3: // LOAD-FP / STORE-FP / OP-FP without F
      return { op: ".word", imm: ((bits & ~0x7f) | r.pick([0x07, 0x27, 0x53])) >>> 0 };
    case 4: // OP with an undefined funct7
      return {
        op: ".word",
        imm: withFunct3(r.below(8), 0x33, r.pick([0x02, 0x08, 0x11, 0x40, 0x7f]) << 25),
      };
    case 5: // OP funct7=0x20 with a funct3 that only has funct7=0
      return { op: ".word", imm: withFunct3(r.pick([1, 2, 3]), 0x33, 0x20 << 25) };
    case 6: // slli with shamt[5] set, srli/srai with a bad funct7
      return r.chance(0.5)
        ? { op: ".word", imm: withFunct3(1, 0x13, r.pick([0x01, 0x20]) << 25) }
        : { op: ".word", imm: withFunct3(5, 0x13, r.pick([0x01, 0x21, 0x40]) << 25) };
    case 7: // loads LD/LWU/funct3=7, stores SD and up: RV64 or undefined
      return r.chance(0.5)
        ? { op: ".word", imm: withFunct3(r.pick([3, 6, 7]), 0x03) }
        : { op: ".word", imm: withFunct3(r.between(3, 7), 0x23) };
    case 8: // branch funct3 2/3, jalr funct3 != 0
      return r.chance(0.5)
        ? { op: ".word", imm: withFunct3(r.pick([2, 3]), 0x63) }
        : { op: ".word", imm: withFunct3(r.between(1, 7), 0x67) };
    case 9: { // AMO with a non-word width or an undefined funct5
      const funct5 = r.pick([0x05, 0x06, 0x07, 0x09, 0x0a, 0x0b, 0x0d, 0x1e, 0x1f]);
      return r.chance(0.5)
        ? { op: ".word", imm: withFunct3(r.pick([0, 1, 3, 4, 5, 6, 7]), 0x2f) }
        : { op: ".word", imm: withFunct3(2, 0x2f, (funct5 << 27) | (bits & 0x0600_0000)) };
    }
    case 10: // SYSTEM funct3=4 (hypervisor loads/stores, no H)
      return { op: ".word", imm: withFunct3(4, 0x73) };
    case 11: // a CSR that neither machine implements
      return {
        op: r.pick<Mnemonic>(["csrrs", "csrrw", "csrrc"]),
        rd: r.pick(DESTINATIONS),
        csr: r.pick(MISSING_CSRS),
        rs1: source(r),
      };
    case 12: // writing a read-only CSR (csrrw always writes; see illegalGroup for csrrs/csrrc)
      return {
        op: "csrrw",
        rd: r.pick(DESTINATIONS),
        csr: r.pick(READ_ONLY_INFO.slice(1)),
        rs1: source(r),
      };
    default: // immediate forms writing a read-only CSR
      return {
        op: r.pick<Mnemonic>(["csrrwi", "csrrsi", "csrrci"]),
        rd: r.pick(DESTINATIONS),
        csr: r.pick(READ_ONLY_INFO.slice(1)),
        imm: r.between(1, 31),
      };
  }
}

function csrGroup(r: Random): StreamInstruction[] {
  const rd = r.pick(DESTINATIONS);
  switch (r.below(10)) {
    case 5:
    case 6: { // a CSR without effect on M-mode, any value, any form; maybe read back
      const csr = r.pick(FREE_CSRS);
      const first: Instruction = r.chance(0.6)
        ? { op: r.pick<Mnemonic>(["csrrw", "csrrs", "csrrc"]), rd, csr, rs1: source(r) }
        : { op: r.pick<Mnemonic>(["csrrwi", "csrrsi", "csrrci"]), rd, csr, imm: r.below(32) };
      return plain(first, { op: "csrrs", rd: r.pick(DESTINATIONS), csr, rs1: 0 });
    }
    case 4: { // sepc/mepc with an aligned value, or reads of the trap CSRs
      if (r.chance(0.5)) return plain({ op: "csrrs", rd, csr: r.pick(TRAP_CSRS), rs1: 0 });
      const temp = r.pick(WORKING);
      const csr = r.pick(EPC_CSRS);
      return plain(
        ...loadImmediate(temp, randomValue(r) & ~3),
        { op: "csrrw", rd, csr, rs1: temp },
        { op: "csrrs", rd: r.pick(DESTINATIONS), csr, rs1: 0 },
      );
    }
    case 7: { // mcause/scause with a legal value
      const value = r.chance(0.7)
        ? r.pick(LEGAL_EXCEPTIONS)
        : (0x8000_0000 | r.pick(LEGAL_INTERRUPTS)) >>> 0;
      const temp = r.pick(WORKING);
      const csr = r.pick(CAUSE_CSRS);
      return plain(
        ...loadImmediate(temp, value),
        { op: "csrrw", rd, csr, rs1: temp },
        { op: "csrrs", rd: r.pick(DESTINATIONS), csr, rs1: 0 },
      );
    }
    case 8: { // mstatus/sstatus: change only bits that cannot disturb the runtime
      const machine = r.chance(0.6);
      const temp = r.pick(WORKING);
      const csr = machine ? 0x300 : 0x100;
      return plain(
        ...loadImmediate(temp, someBits(r, machine ? MSTATUS_SAFE : SSTATUS_SAFE)),
        { op: r.pick<Mnemonic>(["csrrw", "csrrs", "csrrc"]), rd, csr, rs1: temp },
        { op: "csrrs", rd: r.pick(DESTINATIONS), csr: r.pick([0x300, 0x100]), rs1: 0 },
      );
    }
    case 9: // misa is WARL and fixed on both machines: writes are ignored
      return plain({
        op: r.pick<Mnemonic>(["csrrw", "csrrs", "csrrc"]),
        rd,
        csr: 0x301,
        rs1: source(r),
      });
    case 0:
    case 1: { // mscratch/sscratch read-modify-write, then maybe a read back
      const csr = r.pick(SCRATCH_CSRS);
      const first: Instruction = r.chance(0.5)
        ? { op: r.pick<Mnemonic>(["csrrw", "csrrs", "csrrc"]), rd, csr, rs1: source(r) }
        : { op: r.pick<Mnemonic>(["csrrwi", "csrrsi", "csrrci"]), rd, csr, imm: r.below(32) };
      return r.chance(0.5)
        ? plain(first, { op: "csrrs", rd: r.pick(DESTINATIONS), csr, rs1: 0 })
        : plain(first);
    }
    case 2: { // machine information: read with any form that does not write
      const csr = r.pick(READ_ONLY_INFO);
      return plain(
        r.chance(0.7)
          ? { op: r.pick<Mnemonic>(["csrrs", "csrrc"]), rd, csr, rs1: 0 }
          : { op: r.pick<Mnemonic>(["csrrsi", "csrrci"]), rd, csr, imm: 0 },
      );
    }
    case 3: // mstatus, keeping bits 0..22 (SD is dropped)
      return plain(
        { op: "csrrs", rd, csr: 0x300, rs1: 0 },
        { op: "slli", rd, rs1: rd, imm: 9 },
        { op: "srli", rd, rs1: rd, imm: 9 },
      );
    default:
      throw new RangeError("Unreachable CSR group variant");
  }
}

/**
 * Appends an `ecall` when `needed`: after a trap whose mcause or mtval the reference is known to
 * get wrong (see `REFERENCE_QUIRKS` in `compare.ts`), so that later reads of mcause/mtval in the
 * stream do not inherit the known difference. The trap entry itself is still compared.
 */
function withSettle(insns: StreamInstruction[], needed: boolean): StreamInstruction[] {
  return needed ? [...insns, { insn: { op: "ecall" } }] : insns;
}

/** A load, store, LR or AMO to {@link FAULT_ADDRESS} (plus a small offset for loads/stores). */
function accessFaultGroup(r: Random): StreamInstruction[] {
  const base = r.pick(WORKING);
  const rd = r.pick(DESTINATIONS);
  const upper: Instruction = { op: "lui", rd: base, imm: FAULT_ADDRESS >>> 12 };
  // Loads and stores are sometimes misaligned: mtval must then be an address of the access itself
  // (QEMU 7.2 reports the aligned-down address of loads; see REFERENCE_QUIRKS in compare.ts).
  switch (r.below(6)) {
    case 0:
    case 1: {
      const [op, size] = r.pick(LOADS);
      const imm = r.chance(0.7) ? r.between(-64, 64) & -size : r.between(-64, 64);
      return withSettle(plain(upper, { op, rd, rs1: base, imm }), (imm & (size - 1)) !== 0);
    }
    case 2:
    case 3: {
      const [op, size] = r.pick(STORES);
      const imm = r.chance(0.7) ? r.between(-64, 64) & -size : r.between(-64, 64);
      return withSettle(
        plain(upper, { op, rs1: base, rs2: source(r), imm }),
        (imm & (size - 1)) !== 0,
      );
    }
    case 4:
      return plain(upper, { op: "lr.w", rd, rs1: base });
    default:
      return withSettle(
        plain(upper, { op: r.pick(AMOS), rd, rs1: base, rs2: source(r) }),
        true,
      );
  }
}

function generateGroup(r: Random, kind: GroupKind): StreamInstruction[] {
  switch (kind) {
    case "alu": {
      const rs1 = source(r);
      return plain({
        op: r.pick(ALU_RR),
        rd: r.pick(DESTINATIONS),
        rs1,
        rs2: r.chance(0.1) ? rs1 : source(r),
      });
    }
    case "alu-imm":
      return plain({
        op: r.pick(ALU_RI),
        rd: r.pick(DESTINATIONS),
        rs1: source(r),
        imm: randomImm12(r),
      });
    case "shift":
      return plain({
        op: r.pick(SHIFT_IMM),
        rd: r.pick(DESTINATIONS),
        rs1: source(r),
        imm: r.chance(0.3) ? r.pick([0, 1, 31]) : r.below(32),
      });
    case "upper":
      return plain({
        op: r.pick<Mnemonic>(["lui", "auipc"]),
        rd: r.pick(DESTINATIONS),
        imm: randomUpper(r),
      });
    case "muldiv": {
      const roll = r.below(20);
      const rd = r.pick(DESTINATIONS);
      if (roll < 3) { // division by zero
        const divisor = r.pick(WORKING);
        return plain(
          { op: "addi", rd: divisor, rs1: 0, imm: 0 },
          { op: r.pick(DIVIDES), rd, rs1: source(r), rs2: divisor },
        );
      }
      if (roll < 6) { // signed overflow: -2^31 / -1
        const dividend = r.pick(WORKING);
        const divisor = r.pick(WORKING.filter((k) => k !== dividend));
        return plain(
          { op: "lui", rd: dividend, imm: 0x80000 },
          { op: "addi", rd: divisor, rs1: 0, imm: -1 },
          { op: r.pick(MULDIV), rd, rs1: dividend, rs2: divisor },
        );
      }
      return plain({ op: r.pick(MULDIV), rd, rs1: source(r), rs2: source(r) });
    }
    case "load": {
      const [op, size] = r.pick(LOADS);
      const offset = scratchOffset(r, size, r.chance(0.6));
      const rd = r.pick(DESTINATIONS);
      return addressed(r, offset, (base, imm) => ({ op, rd, rs1: base, imm }));
    }
    case "store": {
      const [op, size] = r.pick(STORES);
      const offset = scratchOffset(r, size, r.chance(0.6));
      const value = source(r);
      return addressed(r, offset, (base, imm) => ({ op, rs1: base, rs2: value, imm }));
    }
    case "branch": {
      const rs1 = source(r);
      const addend = r.chance(0.08) ? 2 : 0;
      return withSettle([{
        insn: { op: r.pick(BRANCHES), rs1, rs2: r.chance(0.15) ? rs1 : source(r) },
        skip: r.below(4),
        addend,
      }], addend === 2);
    }
    case "jal": {
      const addend = r.chance(0.08) ? 2 : 0;
      return withSettle([{
        insn: { op: "jal", rd: r.pick(DESTINATIONS) },
        skip: r.below(4),
        addend,
      }], addend === 2);
    }
    case "jalr": {
      const base = r.pick(WORKING);
      const roll = r.below(20);
      const addend = roll < 14 ? 0 : roll < 17 ? 1 : roll < 19 ? 2 : 3;
      return withSettle([
        { insn: { op: "auipc", rd: base, imm: 0 } },
        {
          insn: { op: "jalr", rd: r.pick(DESTINATIONS), rs1: base },
          skip: r.below(4),
          addend,
          fromAuipc: true,
        },
      ], addend >= 2);
    }
    case "lr-sc": {
      const address = r.pick(WORKING);
      const offset = scratchOffset(r, 4, true);
      const loaded = r.pick(DESTINATIONS.filter((k) => k !== address));
      const fillers = Array.from({ length: r.below(4) }, () => aluFiller(r, [address]));
      const sc: Instruction = {
        op: "sc.w",
        rd: r.pick(DESTINATIONS),
        rs1: address,
        rs2: source(r),
        aq: r.chance(0.3),
        rl: r.chance(0.3),
      };
      const group = plain(
        { op: "addi", rd: address, rs1: SCRATCH_REG, imm: offset },
        { op: "lr.w", rd: loaded, rs1: address, aq: r.chance(0.3), rl: r.chance(0.3) },
        ...fillers,
        sc,
      );
      // A second SC right after the first must fail: any SC ends the reservation.
      if (sc.rd !== address && r.chance(0.2)) {
        group.push(
          ...plain({ op: "sc.w", rd: r.pick(DESTINATIONS), rs1: address, rs2: source(r) }),
        );
      }
      return group;
    }
    case "sc-alone": { // no reservation is held between groups, so this SC fails
      const address = r.pick(WORKING);
      return plain(
        { op: "addi", rd: address, rs1: SCRATCH_REG, imm: scratchOffset(r, 4, true) },
        { op: "sc.w", rd: r.pick(DESTINATIONS), rs1: address, rs2: source(r) },
      );
    }
    case "amo":
    case "amo-misaligned":
    case "lr-misaligned": {
      const address = r.pick(WORKING);
      let offset = scratchOffset(r, 4, true);
      if (kind !== "amo") offset += r.between(1, 3);
      const rd = r.pick(DESTINATIONS);
      const aq = r.chance(0.3);
      const rl = r.chance(0.3);
      return withSettle(
        plain(
          { op: "addi", rd: address, rs1: SCRATCH_REG, imm: offset },
          kind === "lr-misaligned"
            ? { op: "lr.w", rd, rs1: address, aq, rl }
            : { op: r.pick(AMOS), rd, rs1: address, rs2: source(r), aq, rl },
        ),
        kind === "amo-misaligned",
      );
    }
    case "csr":
      return csrGroup(r);
    case "minstret": {
      // Only the difference may stay in a register: absolute counts depend on everything before.
      const before = r.pick(WORKING);
      const after = r.pick(WORKING.filter((k) => k !== before));
      const fillers = Array.from({ length: r.below(5) }, () => aluFiller(r, [before], true));
      return plain(
        { op: "csrrs", rd: before, csr: 0xb02, rs1: 0 },
        ...fillers,
        { op: "csrrs", rd: after, csr: 0xb02, rs1: 0 },
        { op: "sub", rd: before, rs1: after, rs2: before },
        { op: "sub", rd: after, rs1: after, rs2: after },
      );
    }
    case "ecall":
      return plain({ op: "ecall" });
    case "ebreak":
      return plain({ op: "ebreak" });
    case "illegal":
      if (r.chance(0.1)) {
        // csrrs/csrrc with rs1 != x0 attempt a write, so they trap on a read-only CSR whatever
        // rs1 holds. QEMU 7.2 traps only when the register is nonzero, so make it nonzero.
        const mask = r.pick(WORKING);
        return plain(
          { op: "addi", rd: mask, rs1: 0, imm: r.pick([1, -1, 0x7ff, -0x800]) },
          {
            op: r.pick<Mnemonic>(["csrrs", "csrrc"]),
            rd: r.pick(DESTINATIONS),
            csr: r.pick(READ_ONLY_INFO.slice(1)),
            rs1: mask,
          },
        );
      }
      return plain(illegalWord(r));
    case "access-fault":
      return accessFaultGroup(r);
    case "loop": { // a short countdown loop: a backward branch taken k-1 times
      const counter = r.pick(WORKING);
      const fillers = Array.from({ length: r.below(3) }, () => aluFiller(r, [counter]));
      const back = -4 * (fillers.length + 1);
      const branch: Instruction = r.chance(0.5)
        ? { op: "blt", rs1: 0, rs2: counter, imm: back } // while 0 < counter
        : r.chance(0.5)
        ? { op: "bne", rs1: counter, rs2: 0, imm: back }
        : { op: "bne", rs1: 0, rs2: counter, imm: back };
      return plain(
        { op: "addi", rd: counter, rs1: 0, imm: r.between(1, 4) },
        { op: "addi", rd: counter, rs1: counter, imm: -1 },
        ...fillers,
        branch,
      );
    }
    case "jal-back": { // forward, backward, forward: negative jal/branch offsets
      const same = source(r);
      const first: Instruction = r.chance(0.5)
        ? { op: "jal", rd: 0, imm: 8 }
        : { op: r.pick<Mnemonic>(["beq", "bge", "bgeu"]), rs1: same, rs2: same, imm: 8 };
      const back: Instruction = r.chance(0.5)
        ? { op: "jal", rd: r.pick(DESTINATIONS), imm: -4 }
        : { op: r.pick<Mnemonic>(["beq", "bge", "bgeu"]), rs1: same, rs2: same, imm: -4 };
      return plain(first, { op: "jal", rd: r.pick(DESTINATIONS), imm: 8 }, back);
    }
    case "load-any": { // other base registers: gp into the scratch area, auipc into the code
      const [op, size] = r.pick(LOADS);
      const rd = r.pick(DESTINATIONS);
      if (r.chance(0.5)) {
        const offset = r.between(SCRATCH_BASE_FROM_GP, SCRATCH_BASE_FROM_GP + 1024 - size);
        return plain({ op, rd, rs1: RUNTIME_REG, imm: offset });
      }
      const base = r.pick(WORKING);
      return plain({ op: "auipc", rd: base, imm: 0 }, {
        op,
        rd,
        rs1: base,
        imm: r.between(-2048, 0),
      });
    }
    case "priv":
      return privGroup(r);
    case "ram-edge": { // a misaligned access whose first bytes are RAM and the rest is not
      const base = r.pick(WORKING);
      const load = r.chance(0.5);
      const [op, size] = load
        ? r.pick(LOADS.filter(([, n]) => n > 1))
        : r.pick(STORES.filter(([, n]) => n > 1));
      const imm = -r.between(1, size - 1);
      const access: Instruction = load
        ? { op, rd: r.pick(DESTINATIONS), rs1: base, imm }
        : { op, rs1: base, rs2: source(r), imm };
      return withSettle(plain({ op: "lui", rd: base, imm: RAM_END >>> 12 }, access), true);
    }
    case "fence":
      switch (r.below(3)) {
        case 0:
          return plain({ op: "fence", pred: r.between(1, 15), succ: r.between(1, 15) });
        case 1:
          return plain({ op: "fence.i" });
        default:
          return plain({ op: "sfence.vma", rs1: source(r), rs2: source(r) });
      }
  }
}

/** One instruction of a U- or S-mode segment (see {@link privGroup}). */
function lowerInstruction(r: Random, supervisor: boolean): Instruction[] {
  const rd = r.pick(DESTINATIONS);
  switch (r.below(supervisor ? 12 : 13)) {
    case 0:
    case 1:
      return [{ op: r.pick(ALU_RR), rd, rs1: source(r), rs2: source(r) }];
    case 2:
      return [{ op: r.pick(ALU_RI), rd, rs1: source(r), imm: randomImm12(r) }];
    case 3: {
      const [op, size] = r.pick(LOADS);
      return [{ op, rd, rs1: SCRATCH_REG, imm: scratchOffset(r, size, r.chance(0.7)) }];
    }
    case 4: {
      const [op, size] = r.pick(STORES);
      return [{ op, rs1: SCRATCH_REG, rs2: source(r), imm: scratchOffset(r, size, r.chance(0.7)) }];
    }
    case 5: { // CSR reads: legal or not depending on the mode (and TVM for satp)
      const csr = r.pick([
        0x140,
        0x100,
        0x141,
        0x142,
        0x143,
        0x105,
        0x180,
        0x340,
        0x300,
        0x302,
        0xf14,
      ]);
      return [{ op: "csrrs", rd, csr, rs1: 0 }];
    }
    case 6: // sscratch writes (illegal in U)
      return [{ op: "csrrw", rd, csr: 0x140, rs1: source(r) }];
    case 7:
      return [{ op: "mret" }];
    case 8:
      return [{ op: "ebreak" }];
    case 9:
      return [illegalWord(r)];
    case 10: // legal in S unless mstatus.TVM, illegal in U
      return [{ op: "sfence.vma", rs1: source(r), rs2: source(r) }];
    case 11: {
      const address = r.pick(WORKING);
      return [
        { op: "addi", rd: address, rs1: SCRATCH_REG, imm: scratchOffset(r, 4, true) },
        { op: r.pick(AMOS), rd, rs1: address, rs2: source(r) },
      ];
    }
    default: // U-mode only: WFI and SRET are illegal there (in S they would wait or jump)
      return [{ op: r.pick<Mnemonic>(["wfi", "sret"]) }];
  }
}

/**
 * Drops to U- or S-mode with mret, runs a few instructions there (some of which trap to M and
 * come back), and returns to M-mode with an ecall, which the runtime's handler answers by
 * resuming in M-mode after it.
 */
function privGroup(r: Random): StreamInstruction[] {
  const supervisor = r.chance(0.5);
  const temp = r.pick(WORKING);
  const target = r.pick(WORKING);
  const segment = Array.from({ length: r.between(1, 5) }, () => lowerInstruction(r, supervisor))
    .flat();
  return plain(
    ...loadImmediate(temp, 0x1800),
    { op: "csrrc", rd: 0, csr: 0x300, rs1: temp }, // MPP = U
    ...loadImmediate(temp, supervisor ? 0x800 : 0),
    { op: "csrrs", rd: 0, csr: 0x300, rs1: temp }, // MPP = S (or still U)
    { op: "auipc", rd: target, imm: 0 },
    { op: "addi", rd: target, rs1: target, imm: 16 },
    { op: "csrrw", rd: 0, csr: 0x341, rs1: target }, // mepc = the segment
    { op: "mret" },
    ...segment,
    { op: "ecall" },
  );
}

/** Fills in every jump offset for the given list of groups (targets past the end go to the end). */
function resolve(groups: readonly Group[]): Group[] {
  const starts: number[] = [];
  let offset = 0;
  for (const group of groups) {
    starts.push(offset);
    offset += group.insns.length * 4;
  }
  const end = offset;
  return groups.map((group, g) => ({
    kind: group.kind,
    insns: group.insns.map((item, k) => {
      if (item.skip === undefined) return item;
      const at = starts[g] + k * 4 - (item.fromAuipc ? 4 : 0);
      const targetGroup = g + 1 + item.skip;
      const target = targetGroup < groups.length ? starts[targetGroup] : end;
      return { ...item, insn: { ...item.insn, imm: target - at + (item.addend ?? 0) } };
    }),
  }));
}

/** Generates the stream for `seed`. Deterministic: the same seed and options give the same stream. */
export function generateStream(seed: number, options: StreamOptions = {}): Stream {
  const length = options.length ?? 200;
  const r = new Random(seed);
  const registers = Array.from(
    { length: 32 },
    (_, k) => k === 0 || k === RUNTIME_REG || k === SCRATCH_REG ? 0 : randomValue(r),
  );
  const fillState = r.next() | 1;
  const mscratch = randomValue(r);
  const sscratch = randomValue(r);
  const weights = WEIGHTS.filter(([kind]) =>
    (options.minstret || kind !== "minstret") && (options.ramEdge !== false || kind !== "ram-edge")
  );
  const total = weights.reduce((sum, [, w]) => sum + w, 0);
  const groups: Group[] = [];
  let count = 0;
  while (count < length) {
    let roll = r.below(total);
    let kind: GroupKind = weights[0][0];
    for (const [k, w] of weights) {
      if (roll < w) {
        kind = k;
        break;
      }
      roll -= w;
    }
    const insns = generateGroup(r, kind);
    groups.push({ kind, insns });
    count += insns.length;
  }
  return { seed: seed >>> 0, registers, fillState, mscratch, sscratch, groups: resolve(groups) };
}

/**
 * The same stream cut after its first `groups` groups, with jumps past the cut re-aimed at the new
 * end. Used to find the first group after which two machines disagree.
 */
export function truncateStream(stream: Stream, groups: number): Stream {
  return { ...stream, groups: resolve(stream.groups.slice(0, Math.max(0, groups))) };
}

/** The number of instructions in a stream's body. */
export function streamLength(stream: Stream): number {
  return stream.groups.reduce((sum, group) => sum + group.insns.length, 0);
}

/** Where an instruction of a stream sits: its group, its kind and its text. */
export interface Located {
  /** Index of the group in the stream. */
  readonly group: number;
  /** Kind of that group. */
  readonly kind: GroupKind;
  /** Byte offset from the start of the body. */
  readonly offset: number;
  /** The instruction. */
  readonly insn: Instruction;
}

/** Finds the instruction at byte `offset` from the start of the body, if there is one. */
export function locate(stream: Stream, offset: number): Located | undefined {
  let at = 0;
  for (let g = 0; g < stream.groups.length; g++) {
    for (const item of stream.groups[g].insns) {
      if (at === offset) return { group: g, kind: stream.groups[g].kind, offset, insn: item.insn };
      at += 4;
    }
  }
  return undefined;
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}

/**
 * A readable listing of a stream: initial state, then one line per instruction with its offset from
 * the body start (the offsets trap reports use), its group and the group's kind.
 */
export function listStream(stream: Stream, options: { groups?: readonly number[] } = {}): string {
  const lines: string[] = [];
  lines.push(`seed ${stream.seed}: ${stream.groups.length} groups, ${streamLength(stream)} insns`);
  const regs = stream.registers
    .map((
      value,
      k,
    ) => (k === 0 || k === RUNTIME_REG || k === SCRATCH_REG ? "" : `x${k}=${hex8(value)}`))
    .filter((text) => text !== "");
  for (let k = 0; k < regs.length; k += 8) lines.push(`  init ${regs.slice(k, k + 8).join(" ")}`);
  lines.push(
    `  init mscratch=${hex8(stream.mscratch)} sscratch=${hex8(stream.sscratch)} ` +
      `fill=${hex8(stream.fillState)}`,
  );
  let offset = 0;
  stream.groups.forEach((group, g) => {
    const shown = options.groups === undefined || options.groups.includes(g);
    for (const item of group.insns) {
      if (shown) {
        const where = `+0x${offset.toString(16).padStart(4, "0")}`;
        lines.push(
          `  ${where}  g${String(g).padEnd(4)} ${group.kind.padEnd(15)} ${
            formatInstruction(item.insn)
          }`,
        );
      }
      offset += 4;
    }
  });
  return lines.join("\n");
}
