/**
 * The slow paths of loads, stores and atomics: TLB misses, misaligned accesses, MMIO, watched
 * frames, and the faults they raise. The instruction loop handles aligned TLB hits inline and
 * calls these for everything else.
 *
 * Rules of use: called with `hart.pc` at the instruction. Results travel through `hart.fault`:
 * 0 done (the loop advances pc), 1 a trap was taken (pc is the handler), 2 the access left to the
 * host (`hart.pendingExit`), 3 done through MMIO (`hart.pc` already advanced; the loop re-checks
 * interrupts because a device may have changed its lines).
 * Misaligned ordinary loads and stores are done in hardware, byte by byte, as QEMU does; misaligned
 * LR/SC/AMOs raise address-misaligned exceptions.
 *
 * @module
 */

import {
  ACCESS_LOAD,
  ACCESS_STORE,
  type AccessSize,
  XLATE_ACCESS_FAULT,
  XLATE_MMIO,
  XLATE_PAGE_FAULT,
  XLATE_RAM,
  XLATE_RAM_WATCHED,
} from "@paravirt/mmu";
import type { Hart } from "./hart.ts";
import { exception } from "./trap.ts";
import {
  CAUSE_ILLEGAL_INSTRUCTION,
  CAUSE_LOAD_ACCESS,
  CAUSE_LOAD_PAGE_FAULT,
  CAUSE_MISALIGNED_LOAD,
  CAUSE_MISALIGNED_STORE,
  CAUSE_STORE_ACCESS,
  CAUSE_STORE_PAGE_FAULT,
} from "./csr_numbers.ts";

function extend(value: number, funct3: number): number {
  switch (funct3) {
    case 0:
      return (value << 24) >> 24;
    case 1:
      return (value << 16) >> 16;
    case 4:
      return value & 0xff;
    case 5:
      return value & 0xffff;
    default:
      return value | 0;
  }
}

function translationFault(hart: Hart, status: number, store: boolean, va: number): void {
  if (status === XLATE_PAGE_FAULT) {
    exception(hart, store ? CAUSE_STORE_PAGE_FAULT : CAUSE_LOAD_PAGE_FAULT, va);
  } else {
    exception(hart, store ? CAUSE_STORE_ACCESS : CAUSE_LOAD_ACCESS, va);
  }
}

/** Reads `size` bytes of RAM at the MMU's last translation (little-endian, within one frame). */
function readRam(hart: Hart, size: number): number {
  const mmu = hart.mmu;
  const region = hart.memory.regions[mmu.region];
  const offset = mmu.offset;
  if (size === 4) return region.words[offset >> 2];
  if (size === 2) return region.halves[offset >> 1];
  return region.bytes[offset];
}

function writeRam(hart: Hart, size: number, value: number): void {
  const mmu = hart.mmu;
  const region = hart.memory.regions[mmu.region];
  const offset = mmu.offset;
  if (size === 4) region.words[offset >> 2] = value;
  else if (size === 2) region.halves[offset >> 1] = value;
  else region.bytes[offset] = value;
}

/**
 * Load of the instruction `insn` (opcode LOAD) from virtual address `va`. Returns the extended
 * value; check `hart.fault` before using it.
 */
export function loadSlow(hart: Hart, insn: number, va: number): number {
  const funct3 = (insn >>> 12) & 7;
  if (funct3 === 3 || funct3 > 5) {
    exception(hart, CAUSE_ILLEGAL_INSTRUCTION, insn);
    return 0;
  }
  const size = 1 << (funct3 & 3);
  hart.fault = 0;
  if ((va & (size - 1)) !== 0) return extend(loadMisaligned(hart, va, size), funct3);
  const priv = hart.dataPriv;
  const status = hart.mmu.translate(va, ACCESS_LOAD, priv);
  if (status === XLATE_RAM || status === XLATE_RAM_WATCHED) {
    return extend(readRam(hart, size), funct3);
  }
  if (status !== XLATE_MMIO) {
    translationFault(hart, status, false, va);
    return 0;
  }
  const address = hart.mmu.address;
  const window = hart.memory.mmioAt(address)!;
  hart.pc = (hart.pc + 4) | 0;
  if (window.device === null) {
    hart.pendingMmioRd = (insn >>> 7) & 31;
    hart.pendingMmioFunct3 = funct3;
    hart.pendingExit = { kind: "mmio", address, size: size as AccessSize, write: false, value: 0 };
    hart.fault = 2;
    return 0;
  }
  const value = window.device.read(address - window.base, size as AccessSize);
  hart.fault = 3;
  return extend(value, funct3);
}

function loadMisaligned(hart: Hart, va: number, size: number): number {
  const priv = hart.dataPriv;
  let value = 0;
  for (let i = 0; i < size; i++) {
    const status = hart.mmu.translate((va + i) | 0, ACCESS_LOAD, priv);
    if (status !== XLATE_RAM && status !== XLATE_RAM_WATCHED) {
      // tval is the address of the byte that faulted, as the spec asks.
      translationFault(
        hart,
        status === XLATE_MMIO ? XLATE_ACCESS_FAULT : status,
        false,
        (va + i) | 0,
      );
      return 0;
    }
    value |= readRam(hart, 1) << (8 * i);
  }
  return value;
}

/** Store of the instruction `insn` (opcode STORE) of `value` to virtual address `va`. */
export function storeSlow(hart: Hart, insn: number, va: number, value: number): void {
  const funct3 = (insn >>> 12) & 7;
  if (funct3 > 2) return exception(hart, CAUSE_ILLEGAL_INSTRUCTION, insn);
  const size = 1 << funct3;
  hart.fault = 0;
  const priv = hart.dataPriv;
  const mmu = hart.mmu;
  if ((va & (size - 1)) !== 0) {
    // Translate every byte first so a fault leaves memory untouched.
    for (let i = 0; i < size; i++) {
      const status = mmu.translate((va + i) | 0, ACCESS_STORE, priv);
      if (status !== XLATE_RAM && status !== XLATE_RAM_WATCHED) {
        const kind = status === XLATE_MMIO ? XLATE_ACCESS_FAULT : status;
        return translationFault(hart, kind, true, (va + i) | 0);
      }
    }
    let watched = false;
    for (let i = 0; i < size; i++) {
      const status = mmu.translate((va + i) | 0, ACCESS_STORE, priv);
      writeRam(hart, 1, value >>> (8 * i));
      if (status === XLATE_RAM_WATCHED) {
        hart.memory.notifyStore(mmu.address, 1);
        watched = true;
      }
    }
    if (watched) {
      hart.pc = (hart.pc + 4) | 0;
      hart.fault = 3;
    }
    return;
  }
  const status = mmu.translate(va, ACCESS_STORE, priv);
  if (status === XLATE_RAM) return writeRam(hart, size, value);
  if (status === XLATE_RAM_WATCHED) {
    writeRam(hart, size, value);
    hart.memory.notifyStore(mmu.address, size);
    hart.pc = (hart.pc + 4) | 0;
    hart.fault = 3;
    return;
  }
  if (status !== XLATE_MMIO) return translationFault(hart, status, true, va);
  const address = mmu.address;
  const window = hart.memory.mmioAt(address)!;
  const masked = size === 4 ? value | 0 : value & ((1 << (8 * size)) - 1);
  hart.pc = (hart.pc + 4) | 0;
  if (window.device === null) {
    hart.pendingExit = {
      kind: "mmio",
      address,
      size: size as AccessSize,
      write: true,
      value: masked,
    };
    hart.fault = 2;
    return;
  }
  window.device.write(address - window.base, size as AccessSize, masked);
  hart.fault = 3;
}

/** Executes an A-extension instruction (LR.W, SC.W, AMO*.W) and advances `hart.pc`. */
export function atomic(hart: Hart, insn: number): void {
  const funct5 = insn >>> 27;
  const rd = (insn >>> 7) & 31;
  const rs2 = (insn >>> 20) & 31;
  const x = hart.x;
  if (((insn >>> 12) & 7) !== 2 || (funct5 === 2 && rs2 !== 0) || !validAmo(funct5)) {
    return exception(hart, CAUSE_ILLEGAL_INSTRUCTION, insn);
  }
  const va = x[(insn >>> 15) & 31];
  const isLr = funct5 === 2;
  if ((va & 3) !== 0) {
    return exception(hart, isLr ? CAUSE_MISALIGNED_LOAD : CAUSE_MISALIGNED_STORE, va);
  }
  const mmu = hart.mmu;
  const priv = hart.dataPriv;
  if (isLr) {
    const status = mmu.translate(va, ACCESS_LOAD, priv);
    if (status !== XLATE_RAM && status !== XLATE_RAM_WATCHED) {
      return translationFault(hart, status === XLATE_MMIO ? XLATE_ACCESS_FAULT : status, false, va);
    }
    const value = readRam(hart, 4);
    hart.reservation = va;
    hart.reservationValue = value;
    if (rd !== 0) x[rd] = value;
    hart.pc = (hart.pc + 4) | 0;
    hart.fault = 0;
    return;
  }
  if (funct5 === 3 && hart.reservation !== va) {
    // SC without a matching reservation fails without touching memory.
    hart.reservation = -1;
    if (rd !== 0) x[rd] = 1;
    hart.pc = (hart.pc + 4) | 0;
    hart.fault = 0;
    return;
  }
  const status = mmu.translate(va, ACCESS_STORE, priv);
  if (status !== XLATE_RAM && status !== XLATE_RAM_WATCHED) {
    hart.reservation = -1;
    return translationFault(hart, status === XLATE_MMIO ? XLATE_ACCESS_FAULT : status, true, va);
  }
  const words = hart.memory.regions[mmu.region].words;
  const index = mmu.offset >> 2;
  const operand = x[rs2];
  let result: number;
  switch (funct5) {
    case 3: // SC.W: succeeds while the reserved word still holds what LR read (QEMU's rule).
      result = Atomics.compareExchange(words, index, hart.reservationValue, operand) ===
          hart.reservationValue
        ? 0
        : 1;
      hart.reservation = -1;
      break;
    case 1:
      result = Atomics.exchange(words, index, operand);
      break;
    case 0:
      result = Atomics.add(words, index, operand);
      break;
    case 4:
      result = Atomics.xor(words, index, operand);
      break;
    case 12:
      result = Atomics.and(words, index, operand);
      break;
    case 8:
      result = Atomics.or(words, index, operand);
      break;
    default:
      result = minMax(words, index, operand, funct5);
      break;
  }
  if (status === XLATE_RAM_WATCHED) hart.memory.notifyStore(mmu.address, 4);
  if (rd !== 0) x[rd] = result;
  hart.pc = (hart.pc + 4) | 0;
  hart.fault = status === XLATE_RAM_WATCHED ? 3 : 0;
}

function validAmo(funct5: number): boolean {
  switch (funct5) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 8:
    case 12:
    case 16:
    case 20:
    case 24:
    case 28:
      return true;
    default:
      return false;
  }
}

function minMax(words: Int32Array, index: number, operand: number, funct5: number): number {
  for (;;) {
    const old = Atomics.load(words, index);
    let next: number;
    switch (funct5) {
      case 16:
        next = old < operand ? old : operand;
        break;
      case 20:
        next = old > operand ? old : operand;
        break;
      case 24:
        next = (old >>> 0) < (operand >>> 0) ? old : operand;
        break;
      default:
        next = (old >>> 0) > (operand >>> 0) ? old : operand;
        break;
    }
    if (Atomics.compareExchange(words, index, old, next) === old) return old;
  }
}
