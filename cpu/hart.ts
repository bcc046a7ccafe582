/**
 * A RISC-V hart's architectural state: registers, pc, privilege level and the CSR fields, plus the
 * seam to the host (which traps leave the emulated CPU, pending stop requests, MMIO completions).
 *
 * Rules of use: the state fields are public so the instruction loop (`run`), the CSR logic and a
 * hypervisor can read and write them directly, as Xen's vCPU structure is. Anything that changes
 * translation (satp, SUM, MXR, privilege) must be followed by {@link Hart.syncTranslation}; code
 * inside this package does that itself. All values are stored as signed 32-bit integers.
 *
 * @module
 */

import { Mmu, type PhysicalMemory } from "@paravirt/mmu";
import type { Exit } from "./exit.ts";
import {
  MSTATUS_MIE,
  MSTATUS_MPIE,
  MSTATUS_MPP,
  MSTATUS_MPP_SHIFT,
  MSTATUS_MPRV,
  MSTATUS_MXR,
  MSTATUS_SIE,
  MSTATUS_SPIE,
  MSTATUS_SPP,
  MSTATUS_SUM,
  PRIV_M,
  PRIV_S,
} from "./csr_numbers.ts";

/** misa for RV32 with A, I, M, S and U. */
export const MISA_RV32IMASU = (1 << 30) | (1 << 0) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);

/** Options for a new hart. */
export interface HartOptions {
  /** mhartid (default 0). */
  hartId?: number;
  /** Initial pc (default 0x8000_0000, where the board's RAM starts). */
  resetPc?: number;
  /** Source of the `time` CSR in timer ticks (default: always 0 until a board sets one). */
  readTime?: () => number;
}

/** The state of one hart. */
export class Hart {
  /** Integer registers x0..x31 (x0 is kept zero by the instruction loop). */
  readonly x: Int32Array = new Int32Array(32);
  /** Program counter. */
  pc: number;
  /** Current privilege: 0 U, 1 S, 3 M. */
  priv: number = PRIV_M;
  /** The hart's MMU (translation context and software TLB). */
  readonly mmu: Mmu;
  /** The physical address space. */
  readonly memory: PhysicalMemory;

  // Machine-level CSRs.
  /** mhartid. */
  readonly hartId: number;
  /** misa (read-only here: the extensions are fixed). */
  readonly misa: number = MISA_RV32IMASU;
  /** mstatus (RV32 low half; mstatush reads zero). */
  mstatus = 0;
  /** medeleg. */
  medeleg = 0;
  /** mideleg. */
  mideleg = 0;
  /** mie. */
  mie = 0;
  /** Software-writable bits of mip (SSIP, STIP, SEIP). */
  mipSoftware = 0;
  /**
   * Interrupt lines driven by devices or by a hypervisor injecting virtual interrupts (MSIP, MTIP,
   * MEIP from the board; SEIP, STIP, SSIP for a guest). mip reads as the OR with {@link mipSoftware}.
   */
  mipLines = 0;
  /** mtvec. */
  mtvec = 0;
  /** mcounteren. */
  mcounteren = 0;
  /** mcountinhibit. */
  mcountinhibit = 0;
  /** menvcfg (FIOM only). */
  menvcfg = 0;
  /** mscratch. */
  mscratch = 0;
  /** mepc. */
  mepc = 0;
  /** mcause. */
  mcause = 0;
  /** mtval. */
  mtval = 0;
  /** pmpcfg0..15, stored (WARL) but not enforced: the board has no PMP checks. */
  readonly pmpcfg: Int32Array = new Int32Array(16);
  /** pmpaddr0..63, stored but not enforced. */
  readonly pmpaddr: Int32Array = new Int32Array(64);

  // Supervisor-level CSRs.
  /** stvec. */
  stvec = 0;
  /** scounteren. */
  scounteren = 0;
  /** senvcfg (FIOM only). */
  senvcfg = 0;
  /** sscratch. */
  sscratch = 0;
  /** sepc. */
  sepc = 0;
  /** scause. */
  scause = 0;
  /** stval. */
  stval = 0;
  /** satp (the MMU holds the live copy; write through {@link setSatp}). */
  satp = 0;

  // Counters.
  /** Instructions retired (minstret as a 64-bit count held in a double). */
  instret = 0;
  /** Cycles (mcycle): one per retired instruction, adjustable by writes. */
  cycle = 0;
  /** Source of the `time` CSR. */
  readTime: () => number;

  // The host seam.
  /**
   * Exception causes (bit n = cause n) that leave `run()` as an exit instead of entering M-mode's
   * trap vector, when they would be taken to M-mode. A host playing M-mode (an SBI in TypeScript,
   * the hypervisor) claims ecalls from S this way; a bare-metal program claims nothing.
   */
  hostTraps = 0;
  /** LR reservation: the address reserved, or -1. */
  reservation: number = -1;
  /** The value loaded by the LR holding the reservation (SC also requires it unchanged). */
  reservationValue = 0;
  /** Set by code outside the loop (a device, the host) to stop `run()` after this instruction. */
  stopRequest: Exit | null = null;
  /** Register waiting for a host MMIO load's value (-1 when none), and how to extend it. */
  pendingMmioRd: number = -1;
  /** funct3 of the pending host MMIO load (width and signedness). */
  pendingMmioFunct3 = 0;
  /** Exceptions taken by the current `run()` slice whose instruction did not retire (internal). */
  unretired = 0;
  /** Status of the last slow-path access: 0 done, 1 trapped, 2 left to the host (internal). */
  fault = 0;
  /** The exit a slow path produced when `fault` is 2 (internal). */
  pendingExit: Exit | null = null;

  /** Creates a hart in M-mode at its reset pc, on the physical address space `memory`. */
  constructor(memory: PhysicalMemory, options: HartOptions = {}) {
    this.memory = memory;
    this.mmu = new Mmu(memory);
    this.hartId = options.hartId ?? 0;
    this.pc = (options.resetPc ?? 0x8000_0000) | 0;
    this.readTime = options.readTime ?? (() => 0);
  }

  /** mip as software reads it. */
  get mip(): number {
    return this.mipSoftware | this.mipLines;
  }

  /** Privilege used for loads and stores (MPRV substitutes MPP in M-mode). */
  get dataPriv(): number {
    if (this.priv === PRIV_M && (this.mstatus & MSTATUS_MPRV) !== 0) {
      return (this.mstatus & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT;
    }
    return this.priv;
  }

  /** Writes satp and flushes translations, as a CSR write does. */
  setSatp(value: number): void {
    this.satp = value | 0;
    this.syncTranslation();
  }

  /** Pushes satp, SUM and MXR into the MMU (flushing its TLB when they changed). */
  syncTranslation(): void {
    this.mmu.setContext(
      this.satp,
      (this.mstatus & MSTATUS_SUM) !== 0,
      (this.mstatus & MSTATUS_MXR) !== 0,
    );
  }

  /** Asks the running loop (or the next `run()`) to stop with `exit` after the current instruction. */
  requestStop(exit: Exit): void {
    this.stopRequest = exit;
  }

  /** Delivers the value of a load that left `run()` as an `mmio` exit. */
  completeMmioLoad(value: number): void {
    const rd = this.pendingMmioRd;
    if (rd < 0) throw new RangeError("No MMIO load is waiting for a value");
    let v = value | 0;
    switch (this.pendingMmioFunct3) {
      case 0:
        v = (v << 24) >> 24;
        break;
      case 1:
        v = (v << 16) >> 16;
        break;
      case 4:
        v &= 0xff;
        break;
      case 5:
        v &= 0xffff;
        break;
    }
    if (rd !== 0) this.x[rd] = v;
    this.pendingMmioRd = -1;
  }

  /**
   * Takes a trap exactly as the hardware would at the current pc: to S-mode when delegated and taken
   * from S or U, otherwise to M-mode. Used by the CPU and by a host reflecting a trap into a guest.
   * Never consults {@link hostTraps}.
   */
  raiseTrap(cause: number, tval: number, interrupt = false): void {
    const priv = this.priv;
    const bit = 1 << cause;
    const delegated = interrupt ? (this.mideleg & bit) !== 0 : (this.medeleg & bit) !== 0;
    const causeValue = interrupt ? (cause | 0x80000000) | 0 : cause;
    this.reservation = -1;
    let status = this.mstatus;
    if (priv <= PRIV_S && delegated) {
      this.sepc = this.pc;
      this.scause = causeValue;
      this.stval = tval | 0;
      status = (status & ~(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP)) |
        ((status & MSTATUS_SIE) !== 0 ? MSTATUS_SPIE : 0) | (priv === PRIV_S ? MSTATUS_SPP : 0);
      this.mstatus = status;
      this.priv = PRIV_S;
      const vectored = (this.stvec & 1) !== 0 && interrupt;
      this.pc = ((this.stvec & ~3) + (vectored ? cause * 4 : 0)) | 0;
    } else {
      this.mepc = this.pc;
      this.mcause = causeValue;
      this.mtval = tval | 0;
      status = (status & ~(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP)) |
        ((status & MSTATUS_MIE) !== 0 ? MSTATUS_MPIE : 0) | (priv << MSTATUS_MPP_SHIFT);
      this.mstatus = status;
      this.priv = PRIV_M;
      const vectored = (this.mtvec & 1) !== 0 && interrupt;
      this.pc = ((this.mtvec & ~3) + (vectored ? cause * 4 : 0)) | 0;
    }
  }
}
