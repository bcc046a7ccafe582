/**
 * The privileged instructions: MRET, SRET, WFI's legality, SFENCE.VMA, and ECALL/EBREAK.
 *
 * Rules of use: each function runs with `hart.pc` at the instruction; on success it leaves `pc`
 * at the next instruction to execute and `hart.fault` at 0, otherwise it raises the exception.
 *
 * @module
 */

import type { Hart } from "./hart.ts";
import { exception } from "./trap.ts";
import {
  CAUSE_BREAKPOINT,
  CAUSE_ILLEGAL_INSTRUCTION,
  CAUSE_USER_ECALL,
  MSTATUS_MIE,
  MSTATUS_MPIE,
  MSTATUS_MPP,
  MSTATUS_MPP_SHIFT,
  MSTATUS_MPRV,
  MSTATUS_SIE,
  MSTATUS_SPIE,
  MSTATUS_SPP,
  MSTATUS_TSR,
  MSTATUS_TVM,
  MSTATUS_TW,
  PRIV_M,
  PRIV_S,
  PRIV_U,
} from "./csr_numbers.ts";

/** MRET: return from an M-mode trap. */
export function mret(hart: Hart, insn: number): void {
  if (hart.priv !== PRIV_M) return exception(hart, CAUSE_ILLEGAL_INSTRUCTION, insn);
  const status = hart.mstatus;
  const next = (status & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT;
  let updated = (status & ~(MSTATUS_MIE | MSTATUS_MPP)) | MSTATUS_MPIE |
    ((status & MSTATUS_MPIE) !== 0 ? MSTATUS_MIE : 0);
  if (next !== PRIV_M) updated &= ~MSTATUS_MPRV;
  hart.mstatus = updated;
  hart.priv = next;
  hart.pc = hart.mepc;
  hart.fault = 0;
}

/** SRET: return from an S-mode trap (illegal in U-mode, and in S-mode when mstatus.TSR is set). */
export function sret(hart: Hart, insn: number): void {
  if (
    hart.priv === PRIV_U || (hart.priv === PRIV_S && (hart.mstatus & MSTATUS_TSR) !== 0)
  ) return exception(hart, CAUSE_ILLEGAL_INSTRUCTION, insn);
  const status = hart.mstatus;
  const next = (status & MSTATUS_SPP) !== 0 ? PRIV_S : PRIV_U;
  hart.mstatus = (status & ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV)) | MSTATUS_SPIE |
    ((status & MSTATUS_SPIE) !== 0 ? MSTATUS_SIE : 0);
  hart.priv = next;
  hart.pc = hart.sepc;
  hart.fault = 0;
}

/** Whether WFI may execute (illegal in U-mode, and in S-mode when mstatus.TW is set). */
export function wfiAllowed(hart: Hart): boolean {
  if (hart.priv === PRIV_U) return false;
  return !(hart.priv === PRIV_S && (hart.mstatus & MSTATUS_TW) !== 0);
}

/**
 * SFENCE.VMA: flushes the TLB (illegal in U-mode, and in S-mode when mstatus.TVM is set). With an
 * address in rs1 only that page's translations go (Linux flushes page by page, tens of thousands of
 * times per boot); the ASID in rs2 is ignored, which only flushes more than asked.
 */
export function sfenceVma(hart: Hart, insn: number): void {
  if (
    hart.priv === PRIV_U || (hart.priv === PRIV_S && (hart.mstatus & MSTATUS_TVM) !== 0)
  ) return exception(hart, CAUSE_ILLEGAL_INSTRUCTION, insn);
  const rs1 = (insn >>> 15) & 31;
  if (rs1 !== 0) hart.mmu.flushPage(hart.x[rs1]);
  else hart.mmu.flushTranslated();
  hart.pc = (hart.pc + 4) | 0;
  hart.fault = 0;
}

/** ECALL: environment call from the current privilege (cause 8, 9 or 11). */
export function ecall(hart: Hart): void {
  exception(hart, CAUSE_USER_ECALL + hart.priv, 0);
}

/** EBREAK: breakpoint exception (tval 0, as QEMU reports it). */
export function ebreak(hart: Hart): void {
  exception(hart, CAUSE_BREAKPOINT, 0);
}
