/**
 * Why `run()` stopped: a discriminated union handled with an exhaustive `switch`, like
 * kvm-ioctls' `VcpuExit`.
 *
 * Rules of use: on every exit the hart's state is consistent and resumable. For `ecall`,
 * `breakpoint` and `trap`, `hart.pc` still points at the instruction that trapped (the host either
 * emulates it and advances `pc`, or reflects the trap with `hart.raiseTrap`). For `wfi` and `mmio`
 * the instruction has completed (`pc` is past it); a load from a host MMIO window is finished by
 * `hart.completeMmioLoad(value)` before the next `run()`.
 *
 * @module
 */

/** The instruction budget was spent. */
export interface BudgetExit {
  /** Discriminant. */
  readonly kind: "budget";
}

/** WFI executed with no interrupt pending: the host may sleep until one is. */
export interface WfiExit {
  /** Discriminant. */
  readonly kind: "wfi";
}

/** An environment call that the host claimed (hypercalls, SBI calls). */
export interface EcallExit {
  /** Discriminant. */
  readonly kind: "ecall";
  /** Privilege level the call was made from (0 U, 1 S, 3 M). */
  readonly privilege: number;
}

/** EBREAK that the host claimed (a debugger breakpoint). */
export interface BreakpointExit {
  /** Discriminant. */
  readonly kind: "breakpoint";
}

/** Another exception that the host claimed (for example an illegal instruction to emulate). */
export interface TrapExit {
  /** Discriminant. */
  readonly kind: "trap";
  /** The exception cause (`CAUSE_*`). */
  readonly cause: number;
  /** The value the trap would have written to `mtval`. */
  readonly tval: number;
  /** Privilege level the trap was taken from. */
  readonly privilege: number;
}

/** A load or store to an MMIO window with no device (it is emulated by the host). */
export interface MmioExit {
  /** Discriminant. */
  readonly kind: "mmio";
  /** Physical address accessed. */
  readonly address: number;
  /** Access width in bytes. */
  readonly size: 1 | 2 | 4;
  /** Whether it is a store. */
  readonly write: boolean;
  /** The stored value (stores only; 0 for loads). */
  readonly value: number;
}

/** A device or the host asked the machine to stop (test finisher, HTIF, poweroff). */
export interface HaltExit {
  /** Discriminant. */
  readonly kind: "halt";
  /** Exit status: 0 for success, the program's failure code otherwise. */
  readonly code: number;
}

/** Why `run()` returned. */
export type Exit =
  | BudgetExit
  | WfiExit
  | EcallExit
  | BreakpointExit
  | TrapExit
  | MmioExit
  | HaltExit;

/** The shared budget exit (allocated once). */
export const EXIT_BUDGET: BudgetExit = Object.freeze({ kind: "budget" });
/** The shared WFI exit (allocated once). */
export const EXIT_WFI: WfiExit = Object.freeze({ kind: "wfi" });
