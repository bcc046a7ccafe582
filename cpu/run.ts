/**
 * The instruction loop: `run(hart, budget)` executes up to `budget` instructions and returns why
 * it stopped.
 *
 * Rules of use (this is the hot path):
 * - No allocation per instruction; state lives in locals and typed arrays. The opcode dispatch is a
 *   dense `switch` on insn[6:2] with literal case labels, so V8 builds a jump table.
 * - Aligned loads and stores that hit the software TLB are done inline; everything else (misses,
 *   misaligned, MMIO, faults) goes to `memory_access.ts`. CSR, privileged and atomic instructions
 *   are out of line too.
 * - After anything that can change privilege, translation or interrupt state the loop restarts at
 *   `outer`, which re-checks interrupts and reloads the TLB sets for the current context.
 * - Counters: `left` counts down the budget; `mark` is the value of `left` up to which instret and
 *   cycle have been credited. Exceptions add to `hart.unretired` so their instruction is not counted.
 *
 * @module
 */

import { XLATE_PAGE_FAULT, XLATE_RAM } from "@paravirt/mmu";
import type { Hart } from "./hart.ts";
import { type Exit, EXIT_BUDGET, EXIT_WFI } from "./exit.ts";
import { exception, pendingInterrupt } from "./trap.ts";
import { csrInstruction } from "./csr.ts";
import { ebreak, ecall, mret, sfenceVma, sret, wfiAllowed } from "./privileged.ts";
import { atomic, loadSlow, storeSlow } from "./memory_access.ts";

/** The word a FENCE exchanges on: any atomic read-modify-write is a full barrier. */
const FENCE_WORD = new Int32Array(new SharedArrayBuffer(4));

const EMPTY_WORDS: Int32Array = new Int32Array(0);

/** Credits `count` retired instructions to instret and cycle, honouring mcountinhibit. */
function credit(hart: Hart, count: number): void {
  const inhibit = hart.mcountinhibit;
  if ((inhibit & 4) === 0) hart.instret += count;
  if ((inhibit & 1) === 0) hart.cycle += count;
}

/** High 32 bits of the unsigned 64-bit product of two 32-bit values. */
function mulhu(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
}

/**
 * Runs `hart` for at most `budget` instructions (or until an exit) and returns the exit reason.
 * Traps that target M-mode enter the emulated M-mode unless `hart.hostTraps` claims them.
 */
export function run(hart: Hart, budget: number): Exit {
  const x = hart.x;
  const mmu = hart.mmu;
  let left = budget;
  let mark = budget;
  let pc = hart.pc | 0;
  let exit: Exit = EXIT_BUDGET;
  let cause = 0;
  let tval = 0;
  hart.unretired = 0;
  outer: for (;;) {
    hart.pc = pc;
    if (hart.stopRequest !== null) {
      exit = hart.stopRequest;
      hart.stopRequest = null;
      break;
    }
    if (((hart.mipSoftware | hart.mipLines) & hart.mie) !== 0) {
      const irq = pendingInterrupt(hart);
      if (irq >= 0) {
        hart.raiseTrap(irq, 0, true);
        pc = hart.pc | 0;
      }
    }
    if (left <= 0) break;
    const priv = hart.priv;
    const dataPriv = hart.dataPriv;
    const fetchSet = mmu.set(0, priv);
    const ftag = fetchSet.tag;
    const foffset = fetchSet.offset;
    const fwordViews = fetchSet.words;
    const loadSet = mmu.set(1, dataPriv);
    const ltag = loadSet.tag;
    const loffset = loadSet.offset;
    const lbytes = loadSet.bytes;
    const lhalves = loadSet.halves;
    const lwords = loadSet.words;
    const storeSet = mmu.set(2, dataPriv);
    const stag = storeSet.tag;
    const soffset = storeSet.offset;
    const sbytes = storeSet.bytes;
    const shalves = storeSet.halves;
    const swords = storeSet.words;
    let fvpn = -1;
    let fwords: Int32Array = EMPTY_WORDS;
    let foff = 0;
    while (left > 0) {
      left--;
      handle: {
        if ((pc >>> 12) !== fvpn) {
          const vpn = pc >>> 12;
          const slot = vpn & 511;
          if (ftag[slot] !== vpn) {
            const status = mmu.translate(pc, 0, priv);
            if (status !== XLATE_RAM) {
              cause = status === XLATE_PAGE_FAULT ? 12 : 1;
              tval = pc;
              break handle;
            }
          }
          fvpn = vpn;
          fwords = fwordViews[slot];
          foff = foffset[slot];
        }
        const insn = fwords[(foff + (pc & 4095)) >> 2];
        const rd = (insn >> 7) & 31;
        if ((insn & 3) !== 3) {
          cause = 2;
          tval = insn;
          break handle;
        }
        switch ((insn >>> 2) & 31) {
          case 0x00: { // LOAD
            const a = (x[(insn >> 15) & 31] + (insn >> 20)) | 0;
            const vpn = a >>> 12;
            const slot = vpn & 511;
            let v = 0;
            hit: {
              if (ltag[slot] === vpn) {
                const off = loffset[slot] + (a & 4095);
                switch ((insn >>> 12) & 7) {
                  case 0:
                    v = (lbytes[slot][off] << 24) >> 24;
                    break hit;
                  case 1:
                    if ((a & 1) === 0) {
                      v = (lhalves[slot][off >> 1] << 16) >> 16;
                      break hit;
                    }
                    break;
                  case 2:
                    if ((a & 3) === 0) {
                      v = lwords[slot][off >> 2];
                      break hit;
                    }
                    break;
                  case 4:
                    v = lbytes[slot][off];
                    break hit;
                  case 5:
                    if ((a & 1) === 0) {
                      v = lhalves[slot][off >> 1];
                      break hit;
                    }
                    break;
                }
              }
              hart.pc = pc;
              v = loadSlow(hart, insn, a);
              if (hart.fault !== 0) {
                cause = -1;
                if (hart.fault === 3 && rd !== 0) x[rd] = v;
                break handle;
              }
            }
            if (rd !== 0) x[rd] = v;
            pc = (pc + 4) | 0;
            continue;
          }
          case 0x03: { // MISC-MEM: FENCE and FENCE.I (no decoded-instruction cache to flush).
            const funct3 = (insn >>> 12) & 7;
            if (funct3 > 1) {
              cause = 2;
              tval = insn;
              break handle;
            }
            // Guest memory is shared with other threads (backends in workers), and the host may
            // let a later load pass an earlier store (x86's store buffer): a FENCE is a real
            // full barrier, as an atomic read-modify-write is.
            if (funct3 === 0) Atomics.add(FENCE_WORD, 0, 0);
            pc = (pc + 4) | 0;
            continue;
          }
          case 0x04: { // OP-IMM
            const a = x[(insn >> 15) & 31];
            const imm = insn >> 20;
            let v: number;
            switch ((insn >>> 12) & 7) {
              case 0:
                v = (a + imm) | 0;
                break;
              case 1:
                if ((insn >>> 25) !== 0) {
                  cause = 2;
                  tval = insn;
                  break handle;
                }
                v = a << (imm & 31);
                break;
              case 2:
                v = a < imm ? 1 : 0;
                break;
              case 3:
                v = (a >>> 0) < (imm >>> 0) ? 1 : 0;
                break;
              case 4:
                v = a ^ imm;
                break;
              case 5: {
                const funct7 = insn >>> 25;
                if (funct7 === 0) v = (a >>> (imm & 31)) | 0;
                else if (funct7 === 0x20) v = a >> (imm & 31);
                else {
                  cause = 2;
                  tval = insn;
                  break handle;
                }
                break;
              }
              case 6:
                v = a | imm;
                break;
              default:
                v = a & imm;
                break;
            }
            if (rd !== 0) x[rd] = v;
            pc = (pc + 4) | 0;
            continue;
          }
          case 0x05: // AUIPC
            if (rd !== 0) x[rd] = (pc + (insn & 0xfffff000)) | 0;
            pc = (pc + 4) | 0;
            continue;
          case 0x08: { // STORE
            const a = (x[(insn >> 15) & 31] + (((insn >> 25) << 5) | ((insn >>> 7) & 31))) | 0;
            const value = x[(insn >> 20) & 31];
            const vpn = a >>> 12;
            const slot = vpn & 511;
            if (stag[slot] === vpn) {
              const off = soffset[slot] + (a & 4095);
              switch ((insn >>> 12) & 7) {
                case 0:
                  sbytes[slot][off] = value;
                  pc = (pc + 4) | 0;
                  continue;
                case 1:
                  if ((a & 1) === 0) {
                    shalves[slot][off >> 1] = value;
                    pc = (pc + 4) | 0;
                    continue;
                  }
                  break;
                case 2:
                  if ((a & 3) === 0) {
                    swords[slot][off >> 2] = value;
                    pc = (pc + 4) | 0;
                    continue;
                  }
                  break;
              }
            }
            hart.pc = pc;
            storeSlow(hart, insn, a, value);
            if (hart.fault !== 0) {
              cause = -1;
              break handle;
            }
            pc = (pc + 4) | 0;
            continue;
          }
          case 0x0b: // AMO
            hart.pc = pc;
            atomic(hart, insn);
            pc = hart.pc | 0;
            if (hart.fault !== 0) {
              cause = -1;
              break handle;
            }
            continue;
          case 0x0c: { // OP
            const a = x[(insn >> 15) & 31];
            const b = x[(insn >> 20) & 31];
            const funct7 = insn >>> 25;
            let v: number;
            if (funct7 === 0) {
              switch ((insn >>> 12) & 7) {
                case 0:
                  v = (a + b) | 0;
                  break;
                case 1:
                  v = a << (b & 31);
                  break;
                case 2:
                  v = a < b ? 1 : 0;
                  break;
                case 3:
                  v = (a >>> 0) < (b >>> 0) ? 1 : 0;
                  break;
                case 4:
                  v = a ^ b;
                  break;
                case 5:
                  v = (a >>> (b & 31)) | 0;
                  break;
                case 6:
                  v = a | b;
                  break;
                default:
                  v = a & b;
                  break;
              }
            } else if (funct7 === 1) {
              switch ((insn >>> 12) & 7) {
                case 0: // MUL
                  v = Math.imul(a, b);
                  break;
                case 1: // MULH
                  v = (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
                  break;
                case 2: // MULHSU
                  v = (mulhu(a, b) - (a < 0 ? b : 0)) | 0;
                  break;
                case 3: // MULHU
                  v = mulhu(a, b);
                  break;
                case 4: // DIV
                  v = b === 0 ? -1 : (a === -2147483648 && b === -1) ? a : (a / b) | 0;
                  break;
                case 5: // DIVU
                  v = b === 0 ? -1 : ((a >>> 0) / (b >>> 0)) | 0;
                  break;
                case 6: // REM
                  v = b === 0 ? a : (a === -2147483648 && b === -1) ? 0 : (a % b) | 0;
                  break;
                default: // REMU
                  v = b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0;
                  break;
              }
            } else if (funct7 === 0x20) {
              const funct3 = (insn >>> 12) & 7;
              if (funct3 === 0) v = (a - b) | 0;
              else if (funct3 === 5) v = a >> (b & 31);
              else {
                cause = 2;
                tval = insn;
                break handle;
              }
            } else {
              cause = 2;
              tval = insn;
              break handle;
            }
            if (rd !== 0) x[rd] = v;
            pc = (pc + 4) | 0;
            continue;
          }
          case 0x0d: // LUI
            if (rd !== 0) x[rd] = insn & 0xfffff000;
            pc = (pc + 4) | 0;
            continue;
          case 0x18: { // BRANCH
            const a = x[(insn >> 15) & 31];
            const b = x[(insn >> 20) & 31];
            let taken: boolean;
            switch ((insn >>> 12) & 7) {
              case 0:
                taken = a === b;
                break;
              case 1:
                taken = a !== b;
                break;
              case 4:
                taken = a < b;
                break;
              case 5:
                taken = a >= b;
                break;
              case 6:
                taken = (a >>> 0) < (b >>> 0);
                break;
              case 7:
                taken = (a >>> 0) >= (b >>> 0);
                break;
              default:
                cause = 2;
                tval = insn;
                break handle;
            }
            if (taken) {
              const target = (pc + (((insn >> 31) << 12) | ((insn << 4) & 0x800) |
                ((insn >>> 20) & 0x7e0) | ((insn >>> 7) & 0x1e))) | 0;
              if ((target & 3) !== 0) {
                cause = 0;
                tval = target;
                break handle;
              }
              pc = target;
            } else {
              pc = (pc + 4) | 0;
            }
            continue;
          }
          case 0x19: { // JALR
            if (((insn >>> 12) & 7) !== 0) {
              cause = 2;
              tval = insn;
              break handle;
            }
            const target = ((x[(insn >> 15) & 31] + (insn >> 20)) & ~1) | 0;
            if ((target & 2) !== 0) {
              cause = 0;
              tval = target;
              break handle;
            }
            if (rd !== 0) x[rd] = (pc + 4) | 0;
            pc = target;
            continue;
          }
          case 0x1b: { // JAL
            const target = (pc + (((insn >> 31) << 20) | (insn & 0xff000) |
              ((insn >>> 9) & 0x800) | ((insn >>> 20) & 0x7fe))) | 0;
            if ((target & 3) !== 0) {
              cause = 0;
              tval = target;
              break handle;
            }
            if (rd !== 0) x[rd] = (pc + 4) | 0;
            pc = target;
            continue;
          }
          case 0x1c: { // SYSTEM
            hart.pc = pc;
            cause = -1;
            if (((insn >>> 12) & 7) === 0) {
              switch (insn) {
                case 0x00000073:
                  ecall(hart);
                  break handle;
                case 0x00100073:
                  ebreak(hart);
                  break handle;
                case 0x30200073:
                  mret(hart, insn);
                  break handle;
                case 0x10200073:
                  sret(hart, insn);
                  break handle;
                case 0x10500073:
                  if (!wfiAllowed(hart)) {
                    cause = 2;
                    tval = insn;
                    break handle;
                  }
                  pc = (pc + 4) | 0;
                  if (((hart.mipSoftware | hart.mipLines) & hart.mie) === 0) {
                    exit = EXIT_WFI;
                    break outer;
                  }
                  continue outer;
                default:
                  if ((insn & 0xfe007fff) === 0x12000073) {
                    sfenceVma(hart, insn);
                  } else {
                    cause = 2;
                    tval = insn;
                  }
                  break handle;
              }
            }
            // Zicsr: credit the instructions before this one so counter reads are exact.
            credit(hart, mark - left - 1 - hart.unretired);
            mark = left + 1;
            hart.unretired = 0;
            csrInstruction(hart, insn);
            break handle;
          }
          default:
            cause = 2;
            tval = insn;
            break handle;
        }
      }
      // Reached only through `break handle`: an exception to raise (cause >= 0), or an
      // out-of-line instruction / slow path that already finished (cause -1, see hart.fault).
      if (cause >= 0) {
        hart.pc = pc;
        exception(hart, cause, tval);
      }
      pc = hart.pc | 0;
      if (hart.fault === 2) {
        exit = hart.pendingExit!;
        hart.pendingExit = null;
        break outer;
      }
      continue outer;
    }
  }
  credit(hart, mark - left - hart.unretired);
  hart.unretired = 0;
  hart.pc = pc;
  return exit;
}
