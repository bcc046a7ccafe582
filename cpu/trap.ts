/**
 * Trap entry from the instruction loop: exceptions (with the host's claim on M-mode traps) and the
 * choice of which pending interrupt to take.
 *
 * Rules of use: called with `hart.pc` at the instruction that traps. Sets `hart.fault` to 1 when
 * the trap was taken inside the emulated CPU, or to 2 with `hart.pendingExit` when it leaves to the
 * host. The interrupt priority order is the spec's: MEI, MSI, MTI, SEI, SSI, STI.
 *
 * @module
 */

import type { Hart } from "./hart.ts";
import type { Exit } from "./exit.ts";
import {
  CAUSE_BREAKPOINT,
  CAUSE_MACHINE_ECALL,
  CAUSE_SUPERVISOR_ECALL,
  CAUSE_USER_ECALL,
  MSTATUS_MIE,
  MSTATUS_SIE,
  PRIV_M,
  PRIV_S,
} from "./csr_numbers.ts";

/** Whether exception `cause` taken now would go to M-mode (not delegated to S). */
export function trapsToMachine(hart: Hart, cause: number): boolean {
  return hart.priv === PRIV_M || (hart.medeleg & (1 << cause)) === 0;
}

/**
 * Raises exception `cause` for the instruction at `hart.pc`. The instruction does not retire.
 * If the host claims the cause and the trap targets M-mode, nothing changes in the hart and the
 * exit is recorded for `run()` to return.
 */
export function exception(hart: Hart, cause: number, tval: number): void {
  hart.unretired++;
  if ((hart.hostTraps & (1 << cause)) !== 0 && trapsToMachine(hart, cause)) {
    hart.fault = 2;
    hart.pendingExit = hostExit(cause, tval, hart.priv);
    return;
  }
  hart.raiseTrap(cause, tval);
  hart.fault = 1;
}

function hostExit(cause: number, tval: number, privilege: number): Exit {
  switch (cause) {
    case CAUSE_USER_ECALL:
    case CAUSE_SUPERVISOR_ECALL:
    case CAUSE_MACHINE_ECALL:
      return { kind: "ecall", privilege };
    case CAUSE_BREAKPOINT:
      return { kind: "breakpoint" };
    default:
      return { kind: "trap", cause, tval: tval | 0, privilege };
  }
}

// Highest priority first.
const PRIORITY = [11, 3, 7, 9, 1, 5];

/**
 * Returns the cause number of the interrupt the hart must take now, or -1. An interrupt not
 * delegated is taken below M-mode always and in M-mode when MIE is set; a delegated one is taken
 * in U-mode always and in S-mode when SIE is set, never in M-mode.
 */
export function pendingInterrupt(hart: Hart): number {
  const pending = (hart.mipSoftware | hart.mipLines) & hart.mie;
  if (pending === 0) return -1;
  const priv = hart.priv;
  const machine = pending & ~hart.mideleg;
  let takeable = 0;
  if (machine !== 0 && (priv < PRIV_M || (hart.mstatus & MSTATUS_MIE) !== 0)) takeable = machine;
  else {
    const supervisor = pending & hart.mideleg;
    if (
      supervisor !== 0 &&
      (priv < PRIV_S || (priv === PRIV_S && (hart.mstatus & MSTATUS_SIE) !== 0))
    ) takeable = supervisor;
  }
  if (takeable === 0) return -1;
  for (const cause of PRIORITY) if ((takeable & (1 << cause)) !== 0) return cause;
  return -1;
}
