/**
 * Trap-and-emulate for the few privileged instructions a PV kernel may still execute: with
 * `mstatus.TVM` set, `csrr*` on `satp` and `sfence.vma` trap to the hypervisor, which does what
 * Xen does for a PV guest's CR3 write — a new `satp` is accepted only for Sv32 with a root that
 * validates (as MMUEXT_NEW_BASEPTR); anything else, including switching paging off, is refused
 * with an illegal-instruction exception reflected to the kernel. Every other illegal instruction
 * (and every illegal instruction from U-mode) is reflected unchanged.
 *
 * @module
 */

import {
  CAUSE_ILLEGAL_INSTRUCTION,
  type Hart,
  MSTATUS_SIE,
  MSTATUS_SPIE,
  MSTATUS_SPP,
  PRIV_S,
} from "@paravirt/cpu";
import type { Domain } from "./domain.ts";
import type { Vcpu } from "./vcpu.ts";
import { setBasePointer } from "./hypercalls/mmu.ts";

const CSR_SATP = 0x180;

/**
 * Takes exception `cause` into the guest kernel's `stvec`, exactly as a delegated trap would
 * (used for traps the hypervisor looked at first and hands down).
 */
export function reflectTrap(hart: Hart, cause: number, tval: number): void {
  const status = hart.mstatus;
  hart.sepc = hart.pc;
  hart.scause = cause;
  hart.stval = tval | 0;
  hart.mstatus = (status & ~(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP)) |
    ((status & MSTATUS_SIE) !== 0 ? MSTATUS_SPIE : 0) | (hart.priv === PRIV_S ? MSTATUS_SPP : 0);
  hart.priv = PRIV_S;
  hart.reservation = -1;
  hart.pc = hart.stvec & ~3;
}

/** Emulates (or reflects) the illegal instruction `insn` that trapped from `privilege`. */
export function emulateIllegal(
  domain: Domain,
  vcpu: Vcpu,
  insn: number,
  privilege: number,
): void {
  const hart = vcpu.hart;
  if (privilege === PRIV_S) {
    if ((insn & 0xfe007fff) === 0x12000073) { // sfence.vma
      hart.mmu.flushTranslated();
      hart.pc = (hart.pc + 4) | 0;
      return;
    }
    if ((insn & 0x7f) === 0x73 && (insn >>> 20) === CSR_SATP && emulateSatp(domain, vcpu, insn)) {
      hart.pc = (hart.pc + 4) | 0;
      return;
    }
  }
  reflectTrap(hart, CAUSE_ILLEGAL_INSTRUCTION, insn);
}

/** Emulates a Zicsr instruction on satp. Returns false to refuse it (then it is reflected). */
function emulateSatp(domain: Domain, vcpu: Vcpu, insn: number): boolean {
  const funct3 = (insn >>> 12) & 7;
  if (funct3 === 0 || funct3 === 4) return false;
  const hart = vcpu.hart;
  const rd = (insn >>> 7) & 31;
  const field = (insn >>> 15) & 31;
  const operand = funct3 >= 5 ? field : hart.x[field];
  const old = hart.satp;
  let value: number;
  let writes: boolean;
  switch (funct3 & 3) {
    case 1: // csrrw / csrrwi
      value = operand;
      writes = true;
      break;
    case 2: // csrrs / csrrsi
      value = old | operand;
      writes = field !== 0;
      break;
    default: // csrrc / csrrci
      value = old & ~operand;
      writes = field !== 0;
  }
  if (writes) {
    if ((value & 0x8000_0000) === 0) return false; // switching paging off is never allowed
    const mfn = value & 0x3f_ffff;
    if (mfn !== vcpu.baseMfn && setBasePointer(domain, vcpu, mfn) < 0) return false;
    if (mfn === vcpu.baseMfn) hart.mmu.flushTranslated();
  }
  if (rd !== 0) hart.x[rd] = old;
  return true;
}
