/**
 * Builds the bare-metal test image that runs many streams back to back on QEMU `virt` or our board,
 * and defines the signature text it prints.
 *
 * Memory map (all fixed, so a stream's data addresses never depend on how much code precedes it):
 *
 * ```
 *   0x8000_0000  entry: jal to 0x8000_2000
 *   0x8000_1000  runtime area (x3 = gp) ... 1 KiB
 *                  +0   t0..t2 saved by the trap handler
 *                  +12  trap count of the current stream
 *                  +16  address of the current stream's body (trap epc is logged relative to it)
 *                  +20  seed of the current stream
 *                  +24  nonzero when the report dumps the scratch area
 *                  +64  x0..x31 saved at the end of the stream
 *                  +256 trap log: 48 entries of { mcause, mtval, mepc - body, 0 }
 *   0x8000_1400  scratch area ............... 1 KiB (x4 = tp = 0x8000_1600, its middle)
 *   0x8000_2000  runtime code: prologue (gp, mtvec, PMP entry 0 = everything RWX), trap handler,
 *                fill, report, putc, puthex
 *   ...          one block per stream: set-up (seed, scratch fill, mscratch/sscratch, clear the
 *                CSRs a stream may change, one ecall to settle mcause/mtval/mepc/mstatus),
 *                register init, body, save x1..x31, call report
 *   ...          epilogue: "Z" line, write 0x5555 to the SiFive test device
 * ```
 *
 * Signature lines, per stream (hex words are 8 lowercase digits):
 *
 * ```
 *   S <seed>
 *   R <x1> <x2> ... <x31>
 *   M <checksum of the scratch area>
 *   T <trap count>
 *   E <mcause> <mtval> <mepc - body>      (one per logged trap, at most 48)
 *   D <offset> <8 words>                  (only with dumpScratch: the whole scratch area)
 * ```
 *
 * and a final `Z` line when every stream ran. Output goes to the 16550 THR at 0x1000_0000 after
 * polling LSR.THRE; the image ends by writing 0x5555 to 0x0010_0000.
 *
 * @module
 */

import { Assembler } from "@paravirt/cpu";
import { writeElfImage } from "./elf_image.ts";
import { encode, type Instruction } from "@paravirt/cpu";
import { RUNTIME_REG, SCRATCH_REG, type Stream } from "./generator.ts";

/** Load address and entry point of the image. */
export const IMAGE_BASE = 0x8000_0000;
/** The runtime area (x3). */
export const RUNTIME_BASE = 0x8000_1000;
/** The scratch area: 1 KiB starting here; x4 points at its middle. */
export const SCRATCH_BASE = 0x8000_1400;
/** Bytes in the scratch area. */
export const SCRATCH_SIZE = 1024;
/** Where the runtime code starts. */
export const CODE_BASE = 0x8000_2000;
/** Trap log capacity per stream; traps beyond it are counted but not logged. */
export const MAX_LOGGED_TRAPS = 48;

const UART_BASE = 0x1000_0000;
const TEST_DEVICE = 0x0010_0000;

const SAVE = 0;
const COUNT = 12;
const BODY = 16;
const SEED = 20;
const DUMP = 24;
const REGS = 64;
const LOG = 256;

// Register numbers used by the runtime (never inside the random body, which owns all of them).
const ZERO = 0;
const RA = 1;
const GP = RUNTIME_REG;
const TP = SCRATCH_REG;
const T0 = 5;
const T1 = 6;
const T2 = 7;
const S0 = 8;
const S1 = 9;
const A0 = 10;
const A1 = 11;
const S2 = 18;
const S11 = 27;
const T3 = 28;
const T4 = 29;
const T5 = 30;
const T6 = 31;

const MSTATUS = 0x300;
const MSTATUS_MPP = 0x1800;
const MSCRATCH = 0x340;
const PMPCFG0 = 0x3a0;
const PMPADDR0 = 0x3b0;
/** CSRs a stream may change that the set-up of the next stream clears. */
const CLEARED_CSRS: readonly number[] = [
  0x300, // mstatus (then normalised by the set-up ecall)
  0x105, // stvec
  0x141, // sepc
  0x142, // scause
  0x143, // stval
  0x306, // mcounteren
  0x106, // scounteren
];
const SSCRATCH = 0x140;
const MTVEC = 0x305;
const MEPC = 0x341;
const MCAUSE = 0x342;
const MTVAL = 0x343;

/** Options of {@link buildImage}. */
export interface ImageOptions {
  /** Print the whole scratch area (`D` lines) after each stream; for pinpointing a memory mismatch. */
  readonly dumpScratch?: boolean;
}

/** The result of {@link buildImage}. */
export interface BuiltImage {
  /** The ELF executable. */
  readonly elf: Uint8Array;
  /** Address of each stream's body, in stream order. */
  readonly bodies: readonly number[];
  /** Bytes of machine code (excluding the ELF header). */
  readonly codeSize: number;
}

function ascii(text: string): number {
  return text.charCodeAt(0);
}

/** putc(a0): waits for LSR.THRE, writes a0 to THR. Link register t5; clobbers t0; s11 = UART. */
function emitPutc(a: Assembler): void {
  a.label("putc");
  a.emit(
    { op: "lbu", rd: T0, rs1: S11, imm: 5 },
    { op: "andi", rd: T0, rs1: T0, imm: 0x20 },
  );
  a.jump({ op: "beq", rs1: T0, rs2: ZERO }, "putc");
  a.emit({ op: "sb", rs1: S11, rs2: A0, imm: 0 }, { op: "jalr", rd: ZERO, rs1: T5, imm: 0 });
}

/** puthex(a1): prints a space and a1 as 8 hex digits. Link register t6; clobbers a0, a1, t0, t3, t4. */
function emitPuthex(a: Assembler): void {
  a.label("puthex");
  a.emit({ op: "addi", rd: A0, rs1: ZERO, imm: ascii(" ") });
  a.jump({ op: "jal", rd: T5 }, "putc");
  a.emit({ op: "addi", rd: T3, rs1: ZERO, imm: 8 });
  a.label("puthex.loop");
  a.emit(
    { op: "srli", rd: A0, rs1: A1, imm: 28 },
    { op: "slli", rd: A1, rs1: A1, imm: 4 },
    { op: "addi", rd: A0, rs1: A0, imm: ascii("0") },
    { op: "addi", rd: T4, rs1: ZERO, imm: ascii("9") + 1 },
  );
  a.jump({ op: "blt", rs1: A0, rs2: T4 }, "puthex.digit");
  a.emit({ op: "addi", rd: A0, rs1: A0, imm: ascii("a") - ascii("9") - 1 });
  a.label("puthex.digit");
  a.jump({ op: "jal", rd: T5 }, "putc");
  a.emit({ op: "addi", rd: T3, rs1: T3, imm: -1 });
  a.jump({ op: "bne", rs1: T3, rs2: ZERO }, "puthex.loop");
  a.emit({ op: "jalr", rd: ZERO, rs1: T6, imm: 0 });
}

function emitChar(a: Assembler, char: string): void {
  a.emit({ op: "addi", rd: A0, rs1: ZERO, imm: ascii(char) });
  a.jump({ op: "jal", rd: T5 }, "putc");
}

function emitHexFrom(a: Assembler, base: number, offset: number): void {
  a.emit({ op: "lw", rd: A1, rs1: base, imm: offset });
  a.jump({ op: "jal", rd: T6 }, "puthex");
}

/**
 * The trap handler: logs mcause, mtval and mepc relative to the body start, then resumes at
 * mepc + 4 (in M-mode after an ecall from U or S, in the trapping mode otherwise). Uses only
 * t0..t2, saved in the runtime area (x3 is never written by the body).
 */
function emitHandler(a: Assembler): void {
  a.label("handler");
  a.emit(
    { op: "sw", rs1: GP, rs2: T0, imm: SAVE },
    { op: "sw", rs1: GP, rs2: T1, imm: SAVE + 4 },
    { op: "sw", rs1: GP, rs2: T2, imm: SAVE + 8 },
    { op: "lw", rd: T0, rs1: GP, imm: COUNT },
    { op: "addi", rd: T1, rs1: T0, imm: 1 },
    { op: "sw", rs1: GP, rs2: T1, imm: COUNT },
    { op: "sltiu", rd: T1, rs1: T0, imm: MAX_LOGGED_TRAPS },
  );
  a.jump({ op: "beq", rs1: T1, rs2: ZERO }, "handler.resume");
  a.emit(
    { op: "slli", rd: T0, rs1: T0, imm: 4 },
    { op: "add", rd: T0, rs1: T0, rs2: GP },
    { op: "csrrs", rd: T1, csr: MCAUSE, rs1: ZERO },
    { op: "sw", rs1: T0, rs2: T1, imm: LOG },
    { op: "csrrs", rd: T1, csr: MTVAL, rs1: ZERO },
    { op: "sw", rs1: T0, rs2: T1, imm: LOG + 4 },
    { op: "csrrs", rd: T1, csr: MEPC, rs1: ZERO },
    { op: "lw", rd: T2, rs1: GP, imm: BODY },
    { op: "sub", rd: T1, rs1: T1, rs2: T2 },
    { op: "sw", rs1: T0, rs2: T1, imm: LOG + 8 },
  );
  a.label("handler.resume");
  // An ecall from U- or S-mode (cause 8 or 9) ends a `priv` group: resume in M-mode.
  a.emit(
    { op: "csrrs", rd: T0, csr: MCAUSE, rs1: ZERO },
    { op: "addi", rd: T0, rs1: T0, imm: -8 },
    { op: "sltiu", rd: T0, rs1: T0, imm: 2 },
  );
  a.jump({ op: "beq", rs1: T0, rs2: ZERO }, "handler.advance");
  a.li(T0, MSTATUS_MPP);
  a.emit({ op: "csrrs", rd: ZERO, csr: MSTATUS, rs1: T0 });
  a.label("handler.advance");
  a.emit(
    { op: "csrrs", rd: T0, csr: MEPC, rs1: ZERO },
    { op: "addi", rd: T0, rs1: T0, imm: 4 },
    { op: "csrrw", rd: ZERO, csr: MEPC, rs1: T0 },
    { op: "lw", rd: T0, rs1: GP, imm: SAVE },
    { op: "lw", rd: T1, rs1: GP, imm: SAVE + 4 },
    { op: "lw", rd: T2, rs1: GP, imm: SAVE + 8 },
    { op: "mret" },
  );
}

/** fill(a1 = xorshift32 state): fills the scratch area. Link register ra. */
function emitFill(a: Assembler): void {
  a.label("fill");
  a.emit(
    { op: "addi", rd: T0, rs1: GP, imm: SCRATCH_BASE - RUNTIME_BASE },
    { op: "addi", rd: T2, rs1: GP, imm: 2047 },
    { op: "addi", rd: T2, rs1: T2, imm: SCRATCH_BASE + SCRATCH_SIZE - RUNTIME_BASE - 2047 },
  );
  a.label("fill.loop");
  a.emit(
    { op: "slli", rd: T3, rs1: A1, imm: 13 },
    { op: "xor", rd: A1, rs1: A1, rs2: T3 },
    { op: "srli", rd: T3, rs1: A1, imm: 17 },
    { op: "xor", rd: A1, rs1: A1, rs2: T3 },
    { op: "slli", rd: T3, rs1: A1, imm: 5 },
    { op: "xor", rd: A1, rs1: A1, rs2: T3 },
    { op: "sw", rs1: T0, rs2: A1, imm: 0 },
    { op: "addi", rd: T0, rs1: T0, imm: 4 },
  );
  a.jump({ op: "bne", rs1: T0, rs2: T2 }, "fill.loop");
  a.emit({ op: "jalr", rd: ZERO, rs1: RA, imm: 0 });
}

/** report(): prints the signature of the stream just finished. Link register ra. */
function emitReport(a: Assembler): void {
  const scratchStart = SCRATCH_BASE - RUNTIME_BASE;
  a.label("report");
  a.li(S11, UART_BASE);
  emitChar(a, "S");
  emitHexFrom(a, GP, SEED);
  emitChar(a, "\n");
  // R line: x1..x31.
  emitChar(a, "R");
  a.emit(
    { op: "addi", rd: S0, rs1: GP, imm: REGS + 4 },
    { op: "addi", rd: S1, rs1: GP, imm: REGS + 128 },
  );
  a.label("report.regs");
  emitHexFrom(a, S0, 0);
  a.emit({ op: "addi", rd: S0, rs1: S0, imm: 4 });
  a.jump({ op: "bne", rs1: S0, rs2: S1 }, "report.regs");
  emitChar(a, "\n");
  // M line: one-at-a-time hash of the scratch words.
  a.emit(
    { op: "addi", rd: S0, rs1: GP, imm: scratchStart },
    { op: "addi", rd: S1, rs1: S0, imm: SCRATCH_SIZE },
    { op: "addi", rd: S2, rs1: ZERO, imm: 0 },
  );
  a.label("report.sum");
  a.emit(
    { op: "lw", rd: T0, rs1: S0, imm: 0 },
    { op: "add", rd: S2, rs1: S2, rs2: T0 },
    { op: "slli", rd: T1, rs1: S2, imm: 10 },
    { op: "add", rd: S2, rs1: S2, rs2: T1 },
    { op: "srli", rd: T1, rs1: S2, imm: 6 },
    { op: "xor", rd: S2, rs1: S2, rs2: T1 },
    { op: "addi", rd: S0, rs1: S0, imm: 4 },
  );
  a.jump({ op: "bne", rs1: S0, rs2: S1 }, "report.sum");
  emitChar(a, "M");
  a.emit({ op: "addi", rd: A1, rs1: S2, imm: 0 });
  a.jump({ op: "jal", rd: T6 }, "puthex");
  emitChar(a, "\n");
  // T line and E lines.
  emitChar(a, "T");
  emitHexFrom(a, GP, COUNT);
  emitChar(a, "\n");
  a.emit(
    { op: "lw", rd: S2, rs1: GP, imm: COUNT },
    { op: "sltiu", rd: T0, rs1: S2, imm: MAX_LOGGED_TRAPS + 1 },
  );
  a.jump({ op: "bne", rs1: T0, rs2: ZERO }, "report.counted");
  a.emit({ op: "addi", rd: S2, rs1: ZERO, imm: MAX_LOGGED_TRAPS });
  a.label("report.counted");
  a.emit({ op: "addi", rd: S0, rs1: GP, imm: LOG });
  a.label("report.traps");
  a.jump({ op: "beq", rs1: S2, rs2: ZERO }, "report.trapsDone");
  emitChar(a, "E");
  emitHexFrom(a, S0, 0);
  emitHexFrom(a, S0, 4);
  emitHexFrom(a, S0, 8);
  emitChar(a, "\n");
  a.emit({ op: "addi", rd: S0, rs1: S0, imm: 16 }, { op: "addi", rd: S2, rs1: S2, imm: -1 });
  a.jump({ op: "jal", rd: ZERO }, "report.traps");
  a.label("report.trapsDone");
  // D lines, when the prologue asked for them. The code is always there, so asking for a dump
  // does not move any stream.
  a.emit({ op: "lw", rd: T0, rs1: GP, imm: DUMP });
  a.jump({ op: "beq", rs1: T0, rs2: ZERO }, "report.done");
  a.emit(
    { op: "addi", rd: S0, rs1: GP, imm: scratchStart },
    { op: "addi", rd: S1, rs1: S0, imm: SCRATCH_SIZE },
  );
  a.label("report.dump");
  emitChar(a, "D");
  a.emit(
    { op: "sub", rd: A1, rs1: S0, rs2: GP },
    { op: "addi", rd: A1, rs1: A1, imm: -scratchStart },
  );
  a.jump({ op: "jal", rd: T6 }, "puthex");
  for (let k = 0; k < 8; k++) emitHexFrom(a, S0, k * 4);
  emitChar(a, "\n");
  a.emit({ op: "addi", rd: S0, rs1: S0, imm: 32 });
  a.jump({ op: "bne", rs1: S0, rs2: S1 }, "report.dump");
  a.label("report.done");
  a.emit({ op: "jalr", rd: ZERO, rs1: RA, imm: 0 });
}

function emitStream(a: Assembler, stream: Stream, index: number): number {
  const body = `stream${index}.body`;
  a.label(`stream${index}`);
  a.li(A0, stream.seed);
  a.emit({ op: "sw", rs1: GP, rs2: A0, imm: SEED });
  a.li(A1, stream.fillState);
  a.jump({ op: "jal", rd: RA }, "fill");
  a.li(A0, stream.mscratch);
  a.emit({ op: "csrrw", rd: ZERO, csr: MSCRATCH, rs1: A0 });
  a.li(A0, stream.sscratch);
  a.emit({ op: "csrrw", rd: ZERO, csr: SSCRATCH, rs1: A0 });
  for (const csr of CLEARED_CSRS) a.emit({ op: "csrrw", rd: ZERO, csr, rs1: ZERO });
  a.la(A0, body);
  a.emit(
    { op: "sw", rs1: GP, rs2: A0, imm: BODY },
    // One trap so that mcause, mtval, mepc and mstatus hold the same values on every machine.
    { op: "ecall" },
    { op: "sw", rs1: GP, rs2: ZERO, imm: COUNT },
    { op: "addi", rd: TP, rs1: GP, imm: SCRATCH_BASE + SCRATCH_SIZE / 2 - RUNTIME_BASE },
  );
  for (let reg = 1; reg < 32; reg++) {
    if (reg !== GP && reg !== TP) a.li(reg, stream.registers[reg]);
  }
  a.label(body);
  const start = a.pc;
  const insns: Instruction[] = stream.groups.flatMap((group) =>
    group.insns.map((item) => item.insn)
  );
  // Encode eagerly so a bad generated instruction fails here, naming the seed.
  for (const insn of insns) {
    try {
      encode(insn);
    } catch (error) {
      throw new RangeError(`Seed ${stream.seed} generated an unencodable instruction`, {
        cause: error,
      });
    }
  }
  a.emit(...insns);
  for (let reg = 1; reg < 32; reg++) a.emit({ op: "sw", rs1: GP, rs2: reg, imm: REGS + reg * 4 });
  a.jump({ op: "jal", rd: RA }, "report");
  return start;
}

/**
 * Builds the ELF image running `streams` in order, each followed by its signature, and ending with
 * a `Z` line and a pass write to the test device.
 */
export function buildImage(streams: readonly Stream[], options: ImageOptions = {}): BuiltImage {
  const a = new Assembler(IMAGE_BASE);
  a.jump({ op: "jal", rd: ZERO }, "prologue");
  a.padTo(CODE_BASE);
  a.label("prologue");
  a.li(GP, RUNTIME_BASE);
  a.emit({ op: "addi", rd: T0, rs1: ZERO, imm: options.dumpScratch ? 1 : 0 });
  a.emit({ op: "sw", rs1: GP, rs2: T0, imm: DUMP });
  a.la(T0, "handler");
  a.emit({ op: "csrrw", rd: ZERO, csr: MTVEC, rs1: T0 });
  // PMP entry 0: TOR up to the top of the address space, RWX, so U and S may access everything
  // (QEMU enforces PMP and denies S/U accesses that match no entry; our board does not check).
  a.li(T0, 0xffff_ffff);
  a.emit({ op: "csrrw", rd: ZERO, csr: PMPADDR0, rs1: T0 });
  a.emit({ op: "addi", rd: T0, rs1: ZERO, imm: 0x0f });
  a.emit({ op: "csrrw", rd: ZERO, csr: PMPCFG0, rs1: T0 });
  a.jump({ op: "jal", rd: ZERO }, streams.length > 0 ? "stream0" : "epilogue");
  emitHandler(a);
  emitFill(a);
  emitReport(a);
  emitPutc(a);
  emitPuthex(a);
  const bodies = streams.map((stream, index) => emitStream(a, stream, index));
  a.label("epilogue");
  a.li(S11, UART_BASE);
  emitChar(a, "Z");
  emitChar(a, "\n");
  a.li(T0, TEST_DEVICE);
  a.li(T1, 0x5555);
  a.emit({ op: "sw", rs1: T0, rs2: T1, imm: 0 });
  a.label("halt");
  a.jump({ op: "jal", rd: ZERO }, "halt");
  const code = a.finish();
  return { elf: writeElfImage(code, { loadAddress: IMAGE_BASE }), bodies, codeSize: code.length };
}
