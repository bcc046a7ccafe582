/**
 * The scheduler interface: what the hypervisor's pCPU loop asks of a scheduling policy. Policies
 * are swappable (Xen's `struct scheduler`); each one runs the conformance suite in
 * `conformance.ts`.
 *
 * The loop's contract: it calls {@link Scheduler.pick} whenever it needs a vCPU, runs the chosen
 * one for at most the returned slice (less if it blocks, yields, or {@link Scheduler.preempts}
 * says so), then reports the time with {@link Scheduler.charge}. Runnability changes are reported
 * as they happen ({@link Scheduler.wake}, {@link Scheduler.sleep}).
 *
 * @module
 */

/** What the scheduler knows of a vCPU: an identity and its domain. */
export interface SchedUnit {
  /** Domain id. */
  readonly domid: number;
  /** vCPU number within the domain. */
  readonly id: number;
}

/** Per-domain scheduling parameters. */
export interface SchedParams {
  /** Relative weight (1..65535; default 256). */
  weight: number;
  /** Cap in percent of one CPU; 0 means no cap. */
  cap: number;
}

/** The result of {@link Scheduler.pick}. */
export type Pick<U extends SchedUnit> =
  /** Run `unit` for at most `sliceNs`. */
  | { readonly unit: U; readonly sliceNs: number }
  /** Nothing can run; something may change by itself at `until` (system time ns, or Infinity). */
  | { readonly unit: null; readonly until: number };

/** A scheduling policy for one physical CPU. */
export interface Scheduler<U extends SchedUnit = SchedUnit> {
  /** Policy name (`xl info` shows it). */
  readonly name: string;
  /** Adds a vCPU, not runnable yet. */
  insert(unit: U): void;
  /** Removes a vCPU for good. */
  remove(unit: U): void;
  /** The vCPU became runnable at `now` (woken, unpaused, brought up). */
  wake(unit: U, now: number): void;
  /** The vCPU stopped being runnable (blocked, paused, down, shut down). */
  sleep(unit: U): void;
  /** The vCPU gives up the rest of its slice (SCHEDOP_yield). */
  yield(unit: U): void;
  /** Chooses what runs at `now`. */
  pick(now: number): Pick<U>;
  /** Charges `unit` for `ranNs` of CPU time ending at `now`. */
  charge(unit: U, ranNs: number, now: number): void;
  /** Whether `running` should give the CPU up now (a woken vCPU of higher priority waits). */
  preempts(running: U, now: number): boolean;
  /** Sets a domain's parameters. Throws a RangeError for out-of-range values. */
  setParams(domid: number, params: Partial<SchedParams>): void;
  /** A domain's parameters. */
  params(domid: number): SchedParams;
}
