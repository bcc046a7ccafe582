/**
 * The board's SBI firmware, written in TypeScript in M-mode's place: a kernel runs in S-mode and
 * its `ecall`s leave the CPU through the host seam (`hart.hostTraps`) and are served here, as
 * OpenSBI would serve them on real hardware. RISC-V SBI specification v2.0 numbers.
 *
 * Extensions: base (0x10), TIME (0x54494D45), IPI (0x735049), RFENCE (0x52464E43), HSM
 * (0x48534D), SRST (0x53525354), DBCN (0x4442434E), and the legacy calls 0x00-0x08 (set_timer,
 * console putchar/getchar, clear/send IPI, remote fences, shutdown). Every other extension,
 * including paravirt's hypercall extension 0x0858454E, probes as absent: that is how a kernel
 * learns it runs on the bare board.
 *
 * Rules of use: {@link SbiFirmware.enterSupervisor} sets the hart up the way OpenSBI leaves it
 * for the next stage (delegations, counter access, S-mode at the entry with a0/a1), and claims every
 * M-mode trap for the host. {@link SbiFirmware.handle} serves an `ecall` exit from S-mode and
 * returns false for anything else (no M-mode code runs, so any other M-mode trap is a bug the board
 * reports). Arguments come from the guest and are hostile: bad ones get SBI error codes, never
 * exceptions.
 *
 * @module
 */

import {
  type Exit,
  type Hart,
  IRQ_S_EXT,
  IRQ_S_SOFT,
  IRQ_S_TIMER,
  MSTATUS_SIE,
  MSTATUS_SPIE,
  MSTATUS_SPP,
  PRIV_S,
} from "@paravirt/cpu";
import { ACCESS_LOAD, XLATE_RAM } from "@paravirt/mmu";

/** SBI error codes (`sbiret.error`). */
export const SBI_SUCCESS = 0;
/** Failed for an unspecified reason. */
export const SBI_ERR_FAILED: number = -1;
/** The extension or function is not implemented. */
export const SBI_ERR_NOT_SUPPORTED: number = -2;
/** A parameter is invalid. */
export const SBI_ERR_INVALID_PARAM: number = -3;
/** Denied. */
export const SBI_ERR_DENIED: number = -4;
/** An address parameter is invalid. */
export const SBI_ERR_INVALID_ADDRESS: number = -5;
/** Already available (HSM: the hart is already started). */
export const SBI_ERR_ALREADY_AVAILABLE: number = -6;

/** Extension IDs. */
export const SBI_EXT_BASE = 0x10;
/** Timer extension ("TIME"). */
export const SBI_EXT_TIME = 0x54494d45;
/** IPI extension ("sPI"). */
export const SBI_EXT_IPI = 0x735049;
/** Remote fence extension ("RFNC"). */
export const SBI_EXT_RFENCE = 0x52464e43;
/** Hart state management ("HSM"). */
export const SBI_EXT_HSM = 0x48534d;
/** System reset ("SRST"). */
export const SBI_EXT_SRST = 0x53525354;
/** Debug console ("DBCN"). */
export const SBI_EXT_DBCN = 0x4442434e;

/** The SBI specification version reported: 2.0. */
export const SBI_SPEC_VERSION = 0x0200_0000;
/** Implementation ID reported by `get_impl_id` (not a registered ID: "PVRT"). */
export const SBI_IMPL_ID = 0x50565254;
/** Implementation version. */
export const SBI_IMPL_VERSION = 1;

/** HSM hart states. */
export const HSM_STARTED = 0;
/** The hart is stopped. */
export const HSM_STOPPED = 1;
/** The hart is suspended. */
export const HSM_SUSPENDED = 4;

const LEGACY_EXTENSIONS = 0x08;
/** Exceptions delegated to S-mode: all the kernel can handle (0-8, 12, 13, 15; not ecall from S). */
const MEDELEG = 0xb1ff;
/** Interrupts delegated to S-mode: software, timer, external. */
const MIDELEG = (1 << IRQ_S_SOFT) | (1 << IRQ_S_TIMER) | (1 << IRQ_S_EXT);
/** Counters S-mode may read: cycle, time, instret. */
const MCOUNTEREN = 0x7;
/** Result of a call that set the registers itself (a non-retentive suspend resuming elsewhere). */
const RESUMED = "resumed";

/** What a system reset asks the machine to do. */
export type SbiResetKind = "shutdown" | "failure" | "reboot";

/** The machine around the firmware: what SBI calls act on. */
export interface SbiPlatform {
  /** The hart the firmware serves. */
  readonly hart: Hart;
  /** Arms the supervisor timer: STIP is raised once mtime >= `deadline` and cleared until then. */
  setTimer(deadline: number): void;
  /** Writes console output. */
  consoleWrite(bytes: Uint8Array): void;
  /** Takes one byte of console input, or -1 when none is waiting. */
  consoleRead(): number;
  /** Ends the run: shutdown (success), shutdown after a failure, or reboot. */
  reset(kind: SbiResetKind): void;
  /** Parks the hart until an interrupt is pending (HSM retentive suspend). */
  suspend(): void;
  /** Stops the hart for good (HSM hart_stop of the only hart). */
  stopHart(): void;
}

/** Options for {@link SbiFirmware.enterSupervisor}. */
export interface SupervisorEntry {
  /** Physical address where S-mode starts. */
  entry: number;
  /** Value of a1 (the device tree's physical address). */
  argument: number;
}

/** The SBI firmware of one hart. */
export class SbiFirmware {
  /** SBI calls served (a metric). */
  calls = 0;
  readonly #platform: SbiPlatform;
  readonly #hart: Hart;
  #state = HSM_STARTED;

  /** Creates the firmware for `platform`'s hart. */
  constructor(platform: SbiPlatform) {
    this.#platform = platform;
    this.#hart = platform.hart;
  }

  /** The hart's HSM state. */
  get hartState(): number {
    return this.#state;
  }

  /**
   * Prepares the hart as firmware leaves it for a kernel: delegations, counter access, interrupts
   * enabled in `mie` for S-mode, and S-mode at `entry` with paging off, a0 = hart id and a1 =
   * `argument`. Claims every M-mode exception for the host, so none enters emulated M-mode.
   */
  enterSupervisor(options: SupervisorEntry): void {
    const hart = this.#hart;
    hart.medeleg = MEDELEG;
    hart.mideleg = MIDELEG;
    hart.mcounteren = MCOUNTEREN;
    hart.mie = 0; // the kernel enables what it wants through sie
    hart.mstatus &= ~(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP);
    hart.hostTraps = -1;
    hart.priv = PRIV_S;
    hart.setSatp(0);
    hart.syncTranslation();
    hart.pc = options.entry | 0;
    hart.x.fill(0);
    hart.x[10] = hart.hartId;
    hart.x[11] = options.argument | 0;
    this.#state = HSM_STARTED;
  }

  /**
   * Serves an exit: an `ecall` from S-mode is an SBI call (the result goes to a0/a1 and pc moves
   * past the ecall). Returns false for any other exit.
   */
  handle(exit: Exit): boolean {
    if (exit.kind !== "ecall" || exit.privilege !== PRIV_S) return false;
    const hart = this.#hart;
    const x = hart.x;
    const eid = x[17] >>> 0;
    const fid = x[16] >>> 0;
    this.calls++;
    hart.pc = (hart.pc + 4) | 0;
    if (eid <= LEGACY_EXTENSIONS) {
      const value = this.#legacy(eid);
      if (value !== undefined) x[10] = value;
      return true;
    }
    const result = this.#call(eid, fid);
    if (result === RESUMED) return true;
    if (typeof result === "number") {
      x[10] = result;
    } else {
      x[10] = SBI_SUCCESS;
      x[11] = result.value;
    }
    return true;
  }

  #call(eid: number, fid: number): number | { value: number } | typeof RESUMED {
    const x = this.#hart.x;
    const a0 = x[10];
    const a1 = x[11];
    const a2 = x[12];
    switch (eid) {
      case SBI_EXT_BASE:
        switch (fid) {
          case 0:
            return { value: SBI_SPEC_VERSION };
          case 1:
            return { value: SBI_IMPL_ID };
          case 2:
            return { value: SBI_IMPL_VERSION };
          case 3:
            return { value: this.#probe(a0 >>> 0) ? 1 : 0 };
          case 4: // mvendorid, marchid, mimpid: the hart reads them as 0
          case 5:
          case 6:
            return { value: 0 };
        }
        return SBI_ERR_NOT_SUPPORTED;
      case SBI_EXT_TIME:
        if (fid !== 0) return SBI_ERR_NOT_SUPPORTED;
        this.#platform.setTimer((a1 >>> 0) * 0x1_0000_0000 + (a0 >>> 0));
        return { value: 0 };
      case SBI_EXT_IPI:
        if (fid !== 0) return SBI_ERR_NOT_SUPPORTED;
        return this.#sendIpi(a0 >>> 0, a1);
      case SBI_EXT_RFENCE:
        return this.#remoteFence(fid, a0 >>> 0, a1);
      case SBI_EXT_HSM:
        return this.#hsm(fid, a0 >>> 0, a1, a2);
      case SBI_EXT_SRST:
        if (fid !== 0) return SBI_ERR_NOT_SUPPORTED;
        return this.#systemReset(a0 >>> 0, a1 >>> 0);
      case SBI_EXT_DBCN:
        return this.#debugConsole(fid, a0 >>> 0, a1 >>> 0, a2 >>> 0);
    }
    return SBI_ERR_NOT_SUPPORTED;
  }

  #probe(eid: number): boolean {
    switch (eid) {
      case SBI_EXT_BASE:
      case SBI_EXT_TIME:
      case SBI_EXT_IPI:
      case SBI_EXT_RFENCE:
      case SBI_EXT_HSM:
      case SBI_EXT_SRST:
      case SBI_EXT_DBCN:
        return true;
    }
    return eid <= LEGACY_EXTENSIONS;
  }

  /** Whether hart 0 is named by (`mask`, `base`); undefined when the mask names a hart we lack. */
  #targetsUs(mask: number, base: number): boolean | undefined {
    if (base === -1) return true; // all harts
    const id = this.#hart.hartId;
    const baseU = base >>> 0;
    if (mask === 0) return false;
    if (id < baseU || id >= baseU + 32) return undefined;
    if ((mask & ~(1 << (id - baseU))) !== 0) return undefined;
    return true;
  }

  #sendIpi(mask: number, base: number): number | { value: number } {
    const target = this.#targetsUs(mask, base);
    if (target === undefined) return SBI_ERR_INVALID_PARAM;
    if (target) this.#hart.mipSoftware |= 1 << IRQ_S_SOFT;
    return { value: 0 };
  }

  #remoteFence(fid: number, mask: number, base: number): number | { value: number } {
    if (fid > 2) return SBI_ERR_NOT_SUPPORTED; // 3-6 are HFENCE: there is no H extension
    const target = this.#targetsUs(mask, base);
    if (target === undefined) return SBI_ERR_INVALID_PARAM;
    // FENCE.I needs nothing (no instruction cache); SFENCE.VMA with or without ASID: flush.
    if (target && fid !== 0) this.#hart.mmu.flushTranslated();
    return { value: 0 };
  }

  #hsm(
    fid: number,
    hartId: number,
    a1: number,
    a2: number,
  ): number | { value: number } | typeof RESUMED {
    const hart = this.#hart;
    switch (fid) {
      case 0: // hart_start
        return hartId === hart.hartId ? SBI_ERR_ALREADY_AVAILABLE : SBI_ERR_INVALID_PARAM;
      case 1: // hart_stop
        this.#state = HSM_STOPPED;
        this.#platform.stopHart();
        return { value: 0 };
      case 2: // hart_get_status
        return hartId === hart.hartId ? { value: this.#state } : SBI_ERR_INVALID_PARAM;
      case 3: { // hart_suspend(type, resume_addr, opaque)
        const type = hartId; // a0 is the suspend type here
        if (type === 0) {
          this.#platform.suspend();
          return { value: 0 };
        }
        if (type === 0x8000_0000) {
          // Non-retentive: resume at resume_addr in S-mode with paging off, a0 = hart id,
          // a1 = opaque, as after hart_start.
          this.#platform.suspend();
          hart.setSatp(0);
          hart.mstatus &= ~MSTATUS_SIE;
          hart.pc = a1 | 0;
          hart.x[10] = hart.hartId;
          hart.x[11] = a2;
          return RESUMED;
        }
        return SBI_ERR_INVALID_PARAM;
      }
    }
    return SBI_ERR_NOT_SUPPORTED;
  }

  #systemReset(type: number, reason: number): number {
    if (type > 2 || reason > 1) return SBI_ERR_INVALID_PARAM;
    this.#platform.reset(type === 0 ? (reason === 0 ? "shutdown" : "failure") : "reboot");
    return SBI_SUCCESS;
  }

  #debugConsole(fid: number, a0: number, a1: number, a2: number): number | { value: number } {
    const memory = this.#hart.memory;
    switch (fid) {
      case 0: // console_write(num_bytes, base_lo, base_hi)
      case 1: { // console_read(num_bytes, base_lo, base_hi)
        if (a2 !== 0) return SBI_ERR_INVALID_PARAM; // above 4 GiB: nothing there on this board
        if (a0 === 0) return { value: 0 };
        try {
          if (fid === 0) {
            this.#platform.consoleWrite(memory.readBytes(a1, a0));
            return { value: a0 };
          }
          const bytes: number[] = [];
          while (bytes.length < a0) {
            const byte = this.#platform.consoleRead();
            if (byte < 0) break;
            bytes.push(byte);
          }
          memory.writeBytes(a1, new Uint8Array(bytes));
          return { value: bytes.length };
        } catch {
          return SBI_ERR_INVALID_PARAM; // the buffer is not all RAM
        }
      }
      case 2: // console_write_byte
        this.#platform.consoleWrite(new Uint8Array([a0 & 0xff]));
        return { value: 0 };
    }
    return SBI_ERR_NOT_SUPPORTED;
  }

  /** Legacy extensions (SBI v0.1): the result is a0 alone, or undefined to leave a0 unchanged. */
  #legacy(eid: number): number | undefined {
    const hart = this.#hart;
    const x = hart.x;
    switch (eid) {
      case 0x00: // set_timer(stime_value as a0 low, a1 high)
        this.#platform.setTimer((x[11] >>> 0) * 0x1_0000_0000 + (x[10] >>> 0));
        return 0;
      case 0x01: // console_putchar
        this.#platform.consoleWrite(new Uint8Array([x[10] & 0xff]));
        return 0;
      case 0x02: // console_getchar
        return this.#platform.consoleRead();
      case 0x03: // clear_ipi
        hart.mipSoftware &= ~(1 << IRQ_S_SOFT);
        return 0;
      case 0x04: { // send_ipi(const unsigned long *hart_mask)
        const mask = this.#legacyMask(x[10]);
        if (mask === undefined) return SBI_ERR_INVALID_ADDRESS;
        if ((mask & (1 << hart.hartId)) !== 0) hart.mipSoftware |= 1 << IRQ_S_SOFT;
        return 0;
      }
      case 0x05: // remote_fence_i
        return this.#legacyMask(x[10]) === undefined ? SBI_ERR_INVALID_ADDRESS : 0;
      case 0x06: // remote_sfence_vma
      case 0x07: { // remote_sfence_vma_asid
        const mask = this.#legacyMask(x[10]);
        if (mask === undefined) return SBI_ERR_INVALID_ADDRESS;
        if ((mask & (1 << hart.hartId)) !== 0) hart.mmu.flushTranslated();
        return 0;
      }
      case 0x08: // shutdown
        this.#platform.reset("shutdown");
        return undefined;
    }
    return SBI_ERR_NOT_SUPPORTED;
  }

  /**
   * Reads a legacy hart mask through the kernel's page tables (the argument is an S-mode virtual
   * address; 0 means every hart). Undefined when it cannot be read.
   */
  #legacyMask(va: number): number | undefined {
    if (va === 0) return -1;
    if ((va & 3) !== 0) return undefined;
    const hart = this.#hart;
    const mmu = hart.mmu;
    if (mmu.translate(va, ACCESS_LOAD, PRIV_S) !== XLATE_RAM) return undefined;
    return hart.memory.regions[mmu.region].words[mmu.offset >> 2];
  }
}
