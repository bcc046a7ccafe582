/**
 * CSR reads and writes with the privileged spec's access rules (privilege field, read-only
 * space, counter-enable gating, TVM) and WARL legalisation, and the Zicsr instructions.
 *
 * Rules of use: `csrInstruction` runs with the counters synced up to (not including) the current
 * instruction. It advances `hart.pc` when the instruction completes; otherwise it raises an
 * illegal-instruction exception with the instruction bits as tval, as QEMU does.
 *
 * @module
 */

import type { Hart } from "./hart.ts";
import { exception } from "./trap.ts";
import {
  CAUSE_ILLEGAL_INSTRUCTION,
  MSTATUS_MIE,
  MSTATUS_MPIE,
  MSTATUS_MPP,
  MSTATUS_MPRV,
  MSTATUS_MXR,
  MSTATUS_SIE,
  MSTATUS_SPIE,
  MSTATUS_SPP,
  MSTATUS_SUM,
  MSTATUS_TSR,
  MSTATUS_TVM,
  MSTATUS_TW,
  PRIV_M,
  PRIV_S,
  PRIV_U,
} from "./csr_numbers.ts";

const MSTATUS_WRITABLE = MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP |
  MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
const SSTATUS_VISIBLE = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR;
/** Exceptions that can be delegated: 0-9, 12, 13, 15 (never ecall from M). */
const MEDELEG_WRITABLE = 0xb3ff;
/** Supervisor interrupts: SSI, STI, SEI. */
const S_INTERRUPTS = 0x222;
/** All six standard interrupts. */
const ALL_INTERRUPTS = 0xaaa;
/** PMP entries implemented (QEMU's virt has 16). */
const PMP_ENTRIES = 16;
const TWO_32 = 4294967296;

/** Result of {@link readCsr} when the CSR does not exist or may not be accessed. */
export const CSR_ILLEGAL: unique symbol = Symbol("illegal CSR access");

function low(value: number): number {
  return value | 0;
}

function high(value: number): number {
  return Math.floor(value / TWO_32) | 0;
}

function counterAllowed(hart: Hart, csr: number): boolean {
  const bit = 1 << (csr & 31);
  if (hart.priv < PRIV_M && (hart.mcounteren & bit) === 0) return false;
  if (hart.priv === PRIV_U && (hart.scounteren & bit) === 0) return false;
  return true;
}

/**
 * Reads CSR `csr` as software at the hart's privilege would, or returns {@link CSR_ILLEGAL}.
 * For mip the returned value is what software reads (software bits OR device lines).
 */
export function readCsr(hart: Hart, csr: number): number | typeof CSR_ILLEGAL {
  if (((csr >>> 8) & 3) > hart.priv) return CSR_ILLEGAL;
  if (csr === 0x180 && hart.priv === PRIV_S && (hart.mstatus & MSTATUS_TVM) !== 0) {
    return CSR_ILLEGAL;
  }
  switch (csr) {
    // Unprivileged counters.
    case 0xc00:
    case 0xc01:
    case 0xc02:
    case 0xc80:
    case 0xc81:
    case 0xc82:
      if (!counterAllowed(hart, csr)) return CSR_ILLEGAL;
      return counterValue(hart, csr);
    // Supervisor.
    case 0x100:
      return hart.mstatus & SSTATUS_VISIBLE;
    case 0x104:
      return hart.mie & hart.mideleg;
    case 0x105:
      return hart.stvec;
    case 0x106:
      return hart.scounteren;
    case 0x10a:
      return hart.senvcfg;
    case 0x140:
      return hart.sscratch;
    case 0x141:
      return hart.sepc;
    case 0x142:
      return hart.scause;
    case 0x143:
      return hart.stval;
    case 0x144:
      return hart.mip & hart.mideleg;
    case 0x180:
      return hart.satp;
    // Machine information.
    case 0xf11:
    case 0xf12:
    case 0xf13:
    case 0xf15:
      return 0;
    case 0xf14:
      return hart.hartId;
    // Machine trap setup and handling.
    case 0x300:
      return hart.mstatus;
    case 0x301:
      return hart.misa;
    case 0x302:
      return hart.medeleg;
    case 0x303:
      return hart.mideleg;
    case 0x304:
      return hart.mie;
    case 0x305:
      return hart.mtvec;
    case 0x306:
      return hart.mcounteren;
    case 0x30a:
      return hart.menvcfg;
    case 0x310:
    case 0x31a:
      return 0;
    case 0x320:
      return hart.mcountinhibit;
    case 0x340:
      return hart.mscratch;
    case 0x341:
      return hart.mepc;
    case 0x342:
      return hart.mcause;
    case 0x343:
      return hart.mtval;
    case 0x344:
      return hart.mip;
    case 0xb00:
    case 0xb02:
    case 0xb80:
    case 0xb82:
      return counterValue(hart, csr);
    // Debug triggers (Sdtrig): none implemented. tselect is hard-wired to 0, whose tdata1 reads 0
    // ("no trigger"), and tinfo says only type 0 exists; writes are ignored, as the spec allows.
    case 0x7a0:
    case 0x7a1:
    case 0x7a2:
    case 0x7a3:
      return 0;
    case 0x7a4:
      return 1;
  }
  if (csr >= 0x3a0 && csr <= 0x3af) {
    return csr - 0x3a0 < PMP_ENTRIES / 4 ? hart.pmpcfg[csr - 0x3a0] : 0;
  }
  if (csr >= 0x3b0 && csr <= 0x3ef) {
    return csr - 0x3b0 < PMP_ENTRIES ? hart.pmpaddr[csr - 0x3b0] : 0;
  }
  // hpmcounter3-31 and their high halves: implemented as constant zero.
  if ((csr >= 0xc03 && csr <= 0xc1f) || (csr >= 0xc83 && csr <= 0xc9f)) {
    return counterAllowed(hart, csr) ? 0 : CSR_ILLEGAL;
  }
  // mhpmcounter3-31, their high halves, mhpmevent3-31.
  if (
    (csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0xb83 && csr <= 0xb9f) ||
    (csr >= 0x323 && csr <= 0x33f)
  ) return 0;
  return CSR_ILLEGAL;
}

function counterValue(hart: Hart, csr: number): number {
  switch (csr & 0x8ff) {
    case 0x800:
      return low(hart.cycle);
    case 0x801:
      return low(hart.readTime());
    case 0x802:
      return low(hart.instret);
    case 0x880:
      return high(hart.cycle);
    case 0x881:
      return high(hart.readTime());
    default:
      return high(hart.instret);
  }
}

/**
 * Writes CSR `csr` (access already checked by {@link readCsr}); returns false when the CSR is
 * read-only. `value` is the new value before WARL legalisation.
 */
export function writeCsr(hart: Hart, csr: number, value: number): boolean {
  if ((csr >>> 10) === 3) return false;
  value |= 0;
  switch (csr) {
    case 0x100:
      hart.mstatus = (hart.mstatus & ~SSTATUS_VISIBLE) | (value & SSTATUS_VISIBLE);
      hart.syncTranslation();
      return true;
    case 0x104:
      hart.mie = (hart.mie & ~hart.mideleg) | (value & hart.mideleg & S_INTERRUPTS);
      return true;
    case 0x105:
      if ((value & 3) < 2) hart.stvec = value;
      return true;
    case 0x106:
      hart.scounteren = value;
      return true;
    case 0x10a:
      hart.senvcfg = value & 1;
      return true;
    case 0x140:
      hart.sscratch = value;
      return true;
    case 0x141:
      hart.sepc = value & ~3;
      return true;
    case 0x142:
      hart.scause = value;
      return true;
    case 0x143:
      hart.stval = value;
      return true;
    case 0x144: {
      const writable = hart.mideleg & 0x2;
      hart.mipSoftware = (hart.mipSoftware & ~writable) | (value & writable);
      return true;
    }
    case 0x180:
      hart.setSatp(value);
      return true;
    case 0x300: {
      let next = (hart.mstatus & ~MSTATUS_WRITABLE) | (value & MSTATUS_WRITABLE);
      // MPP is WARL over {U, S, M}: the reserved encoding 2 keeps the old value.
      if ((next & MSTATUS_MPP) === 2 << 11) {
        next = (next & ~MSTATUS_MPP) | (hart.mstatus & MSTATUS_MPP);
      }
      hart.mstatus = next;
      hart.syncTranslation();
      return true;
    }
    case 0x301:
      return true; // misa is fixed
    case 0x302:
      hart.medeleg = value & MEDELEG_WRITABLE;
      return true;
    case 0x303:
      hart.mideleg = value & S_INTERRUPTS;
      return true;
    case 0x304:
      hart.mie = value & ALL_INTERRUPTS;
      return true;
    case 0x305:
      if ((value & 3) < 2) hart.mtvec = value;
      return true;
    case 0x306:
      hart.mcounteren = value;
      return true;
    case 0x30a:
      hart.menvcfg = value & 1;
      return true;
    case 0x310:
    case 0x31a:
      return true;
    case 0x320:
      hart.mcountinhibit = value & ~2;
      return true;
    case 0x340:
      hart.mscratch = value;
      return true;
    case 0x341:
      hart.mepc = value & ~3;
      return true;
    case 0x342:
      hart.mcause = value;
      return true;
    case 0x343:
      hart.mtval = value;
      return true;
    case 0x344:
      hart.mipSoftware = value & S_INTERRUPTS;
      return true;
    // The current instruction would add one more count after this write; the spec says the write
    // replaces the increment, so compensate (see `run`'s counter sync).
    case 0xb00:
      hart.cycle = hart.cycle - (hart.cycle % TWO_32) + (value >>> 0) - counts(hart, 1);
      return true;
    case 0xb80:
      hart.cycle = (value >>> 0) * TWO_32 + (hart.cycle % TWO_32) - counts(hart, 1);
      return true;
    case 0xb02:
      hart.instret = hart.instret - (hart.instret % TWO_32) + (value >>> 0) - counts(hart, 4);
      return true;
    case 0xb82:
      hart.instret = (value >>> 0) * TWO_32 + (hart.instret % TWO_32) - counts(hart, 4);
      return true;
  }
  if (csr >= 0x3a0 && csr <= 0x3af) {
    if (csr - 0x3a0 < PMP_ENTRIES / 4) hart.pmpcfg[csr - 0x3a0] = value;
    return true;
  }
  if (csr >= 0x3b0 && csr <= 0x3ef) {
    if (csr - 0x3b0 < PMP_ENTRIES) hart.pmpaddr[csr - 0x3b0] = value;
    return true;
  }
  return true; // the remaining accessible CSRs are read-only zero or ignore writes
}

/** 1 when the counter selected by `inhibitBit` in mcountinhibit is counting, else 0. */
function counts(hart: Hart, inhibitBit: number): number {
  return (hart.mcountinhibit & inhibitBit) === 0 ? 1 : 0;
}

/** Executes a Zicsr instruction (`funct3` 1-3, 5-7) at `hart.pc`. */
export function csrInstruction(hart: Hart, insn: number): void {
  const csr = insn >>> 20;
  const funct3 = (insn >>> 12) & 7;
  const rd = (insn >>> 7) & 31;
  const field = (insn >>> 15) & 31;
  const source = funct3 >= 5 ? field : hart.x[field];
  const writes = (funct3 & 3) === 1 || field !== 0;
  const old = readCsr(hart, csr);
  if (old === CSR_ILLEGAL || (writes && (csr >>> 10) === 3) || (funct3 & 3) === 0) {
    exception(hart, CAUSE_ILLEGAL_INSTRUCTION, insn);
    return;
  }
  if (writes) {
    // For mip the read-modify-write uses the software-writable bits, not the device lines.
    const base = csr === 0x344 ? hart.mipSoftware : csr === 0x144 ? hart.mipSoftware : old;
    let next: number;
    switch (funct3 & 3) {
      case 1:
        next = source;
        break;
      case 2:
        next = base | source;
        break;
      default:
        next = base & ~source;
        break;
    }
    writeCsr(hart, csr, next);
  }
  if (rd !== 0) hart.x[rd] = old;
  hart.pc = (hart.pc + 4) | 0;
  hart.fault = 0;
}
