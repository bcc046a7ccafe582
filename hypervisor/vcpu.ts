/**
 * A virtual CPU: one emulated hart plus what the hypervisor tracks about it — its run state and
 * the time spent in each (Xen's runstate), its timers, why it is blocked, and the root table it
 * holds a reference to.
 *
 * Rules of use: state changes go through the hypervisor (which tells the scheduler); the fields are
 * public for the scheduler, the hypercalls and the toolstack to read.
 *
 * @module
 */

import {
  CAUSE_BREAKPOINT,
  CAUSE_FETCH_ACCESS,
  CAUSE_FETCH_PAGE_FAULT,
  CAUSE_LOAD_ACCESS,
  CAUSE_LOAD_PAGE_FAULT,
  CAUSE_MISALIGNED_FETCH,
  CAUSE_MISALIGNED_LOAD,
  CAUSE_MISALIGNED_STORE,
  CAUSE_STORE_ACCESS,
  CAUSE_STORE_PAGE_FAULT,
  CAUSE_USER_ECALL,
  Hart,
  IRQ_S_EXT,
  IRQ_S_SOFT,
  IRQ_S_TIMER,
  MSTATUS_TVM,
  PRIV_S,
} from "@paravirt/cpu";
import type { PhysicalMemory } from "@paravirt/mmu";
import {
  RUNSTATE_blocked,
  RUNSTATE_offline,
  RUNSTATE_runnable,
  RUNSTATE_running,
} from "@paravirt/public";
import { GuestMemory } from "./guest_memory.ts";

/** Exceptions a PV kernel handles itself: they go straight to its `stvec`, as on hardware. */
export const PV_MEDELEG: number = [
  CAUSE_MISALIGNED_FETCH,
  CAUSE_FETCH_ACCESS,
  CAUSE_BREAKPOINT,
  CAUSE_MISALIGNED_LOAD,
  CAUSE_LOAD_ACCESS,
  CAUSE_MISALIGNED_STORE,
  CAUSE_STORE_ACCESS,
  CAUSE_USER_ECALL,
  CAUSE_FETCH_PAGE_FAULT,
  CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_PAGE_FAULT,
].reduce((mask, cause) => mask | (1 << cause), 0);

/** Interrupts delivered to the PV kernel: software, timer (SBI) and external (event upcalls). */
export const PV_MIDELEG: number = (1 << IRQ_S_SOFT) | (1 << IRQ_S_TIMER) | (1 << IRQ_S_EXT);

/**
 * Puts `hart` in the state a PV kernel runs in: S-mode, `mstatus.TVM` (satp and sfence.vma trap
 * to us), its own exceptions and interrupts delegated to it, everything else claimed by the host,
 * counters readable.
 */
export function configurePvHart(hart: Hart): void {
  hart.priv = PRIV_S;
  hart.mstatus = MSTATUS_TVM;
  hart.medeleg = PV_MEDELEG;
  hart.mideleg = PV_MIDELEG;
  hart.hostTraps = ~PV_MEDELEG;
  hart.mcounteren = 7;
}

/** Why a blocked vCPU waits. */
export type BlockReason =
  /** SCHEDOP_block: until an event is pending. */
  | "events"
  /** WFI: until an enabled interrupt is pending. */
  | "wfi"
  /** SCHEDOP_poll: until one of {@link Vcpu.pollPorts} is pending or the timeout. */
  | "poll";

/** One virtual CPU. */
export class Vcpu {
  /** vCPU number within its domain. */
  readonly id: number;
  /** The domain's id. */
  readonly domid: number;
  /** The emulated hart. */
  readonly hart: Hart;
  /** Guest-virtual memory access through this vCPU's page tables. */
  readonly guest: GuestMemory;
  /** Xen runstate: `RUNSTATE_*`. */
  runstate: number = RUNSTATE_offline;
  /** System time (ns) of the last runstate change. */
  runstateEntry = 0;
  /** ns spent in each runstate (indexed by `RUNSTATE_*`). */
  readonly runstateTime: Float64Array = new Float64Array(4);
  /** Whether the vCPU is up (VCPUOP_up/down); a down vCPU never runs. */
  up = false;
  /** Why it is blocked, when {@link runstate} is blocked. */
  blockedOn: BlockReason | undefined;
  /** Ports a SCHEDOP_poll waits on. */
  pollPorts: number[] = [];
  /** One-shot timer deadline (system time ns) raising VIRQ_TIMER, or Infinity. */
  timerDeadline: number = Infinity;
  /** SCHEDOP_poll timeout (ns), or Infinity. */
  pollDeadline: number = Infinity;
  /** SBI timer deadline (ns) raising the supervisor timer line, or Infinity. */
  sbiTimerDeadline: number = Infinity;
  /** The root table `satp` points at (we hold a PT_ROOT type reference on it), or -1. */
  baseMfn: number = -1;
  /** Hypercalls made (a metric). */
  hypercalls = 0;
  /** Scheduler-private state. */
  sched: unknown = undefined;

  /** Creates vCPU `id` of domain `domid` on the domain's memory view. */
  constructor(domid: number, id: number, memory: PhysicalMemory) {
    this.domid = domid;
    this.id = id;
    this.hart = new Hart(memory, { hartId: id });
    this.guest = new GuestMemory(this.hart);
  }

  /** Moves to runstate `state` at system time `now`, accounting the time spent in the old one. */
  setRunstate(state: number, now: number): void {
    this.runstateTime[this.runstate] += now - this.runstateEntry;
    this.runstate = state;
    this.runstateEntry = now;
  }

  /** ns this vCPU has run, up to `now`. */
  cpuTime(now: number): number {
    const running = this.runstate === RUNSTATE_running ? now - this.runstateEntry : 0;
    return this.runstateTime[RUNSTATE_running] + running;
  }

  /** Whether it can be given the CPU. */
  get runnable(): boolean {
    return this.up && (this.runstate === RUNSTATE_runnable || this.runstate === RUNSTATE_running);
  }

  /** Whether it is blocked. */
  get blocked(): boolean {
    return this.runstate === RUNSTATE_blocked;
  }
}
