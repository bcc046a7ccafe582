/**
 * Xen's credit scheduler (credit1) for one physical CPU.
 *
 * - Every accounting period (30 ms) the period's CPU time, 10 credits per ms, is shared among the
 *   active domains (those with a vCPU that is runnable, ran in the period, or has not yet saturated
 *   its credit) in proportion to their
 *   weights, then split among each domain's active vCPUs. A capped domain receives at most its
 *   cap's worth. Credits are kept within one period's worth either way, so idle domains cannot
 *   hoard and hogs cannot sink forever.
 * - Running costs credit exactly (10 per ms). A vCPU with credit is UNDER, one without is OVER;
 *   UNDER vCPUs run before OVER ones, and OVER ones still run when nothing is UNDER (the CPU is
 *   never idle while work exists) — except capped vCPUs out of credit, which are parked until the
 *   next period even when the CPU would otherwise idle.
 * - A vCPU woken from sleep while UNDER is BOOSTed: it preempts UNDER and OVER vCPUs, which keeps
 *   event latency low; the boost ends when it is next charged.
 * - Equal priorities share the CPU round robin in 30 ms timeslices; priorities are re-examined
 *   every 10 ms tick (the loop re-picks at least that often).
 *
 * @module
 */

import type { Pick, SchedParams, Scheduler, SchedUnit } from "./scheduler.ts";

/** Credits earned (and spent) per ms of CPU. */
export const CREDITS_PER_MSEC = 10;
/** Accounting period. */
export const PERIOD_NS = 30e6;
/** Longest a vCPU runs before its peers of equal priority get a turn. */
export const TIMESLICE_NS = 30e6;
/** How often priorities are re-examined. */
export const TICK_NS = 10e6;
/** Credits one period of one CPU is worth. */
const PERIOD_CREDITS = (PERIOD_NS / 1e6) * CREDITS_PER_MSEC;
/** Shortest slice handed out (so a nearly spent capped vCPU still makes progress). */
const MIN_SLICE_NS = 100e3;

const BOOST = 2;
const UNDER = 1;
const OVER = 0;

interface Entry<U> {
  readonly unit: U;
  credit: number;
  priority: number;
  runnable: boolean;
  parked: boolean;
  /** Order among equals: lower runs first. */
  queuedAt: number;
  /** ns used of the current timeslice. */
  sliceUsed: number;
  /** Whether it ran since the last accounting. */
  ran: boolean;
}

/** Default weight, as Xen's. */
export const DEFAULT_WEIGHT = 256;

/** The credit scheduler. */
export class CreditScheduler<U extends SchedUnit = SchedUnit> implements Scheduler<U> {
  /** Policy name. */
  readonly name = "credit";
  readonly #entries = new Map<U, Entry<U>>();
  readonly #params = new Map<number, SchedParams>();
  #nextAccounting = -1;
  #sequence = 0;
  #last: Entry<U> | undefined;

  /** Adds a vCPU (not runnable). */
  insert(unit: U): void {
    if (this.#entries.has(unit)) throw new RangeError(`vCPU ${unit.domid}.${unit.id} is known`);
    this.#entries.set(unit, {
      unit,
      credit: 0,
      priority: UNDER,
      runnable: false,
      parked: false,
      queuedAt: ++this.#sequence,
      sliceUsed: 0,
      ran: false,
    });
    if (!this.#params.has(unit.domid)) {
      this.#params.set(unit.domid, { weight: DEFAULT_WEIGHT, cap: 0 });
    }
  }

  /** Removes a vCPU (and the domain's parameters with its last vCPU). */
  remove(unit: U): void {
    const entry = this.#entries.get(unit);
    if (!entry) return;
    this.#entries.delete(unit);
    if (this.#last === entry) this.#last = undefined;
    if (![...this.#entries.keys()].some((u) => u.domid === unit.domid)) {
      this.#params.delete(unit.domid);
    }
  }

  #entry(unit: U): Entry<U> {
    const entry = this.#entries.get(unit);
    if (!entry) throw new RangeError(`vCPU ${unit.domid}.${unit.id} is not scheduled here`);
    return entry;
  }

  /** The vCPU became runnable; an UNDER one is boosted. */
  wake(unit: U, _now: number): void {
    const entry = this.#entry(unit);
    if (entry.runnable) return;
    entry.runnable = true;
    if (entry.priority === UNDER) entry.priority = BOOST;
    entry.queuedAt = ++this.#sequence;
    entry.sliceUsed = 0;
  }

  /** The vCPU stopped being runnable. */
  sleep(unit: U): void {
    this.#entry(unit).runnable = false;
  }

  /** The vCPU goes behind its equals. */
  yield(unit: U): void {
    const entry = this.#entry(unit);
    entry.queuedAt = ++this.#sequence;
    entry.sliceUsed = 0;
    if (entry.priority === BOOST) entry.priority = UNDER;
    if (this.#last === entry) this.#last = undefined;
  }

  /** Chooses the vCPU to run at `now`. */
  pick(now: number): Pick<U> {
    if (this.#nextAccounting < 0) this.#nextAccounting = now + PERIOD_NS;
    while (now >= this.#nextAccounting) {
      this.#account();
      this.#nextAccounting += PERIOD_NS;
      if (this.#nextAccounting < now) this.#nextAccounting = now + PERIOD_NS;
    }
    let best: Entry<U> | undefined;
    let parkedWaiting = false;
    for (const entry of this.#entries.values()) {
      if (!entry.runnable) continue;
      if (entry.parked) {
        parkedWaiting = true;
        continue;
      }
      if (!best || this.#before(entry, best)) best = entry;
    }
    if (!best) return { unit: null, until: parkedWaiting ? this.#nextAccounting : Infinity };
    let slice = Math.min(TIMESLICE_NS - best.sliceUsed, TICK_NS, this.#nextAccounting - now);
    if (this.#params.get(best.unit.domid)!.cap > 0) {
      slice = Math.min(slice, (Math.max(best.credit, 0) / CREDITS_PER_MSEC) * 1e6);
    }
    return { unit: best.unit, sliceNs: Math.max(slice, MIN_SLICE_NS) };
  }

  /** Whether `a` should run before `b`. */
  #before(a: Entry<U>, b: Entry<U>): boolean {
    if (a.priority !== b.priority) return a.priority > b.priority;
    // The vCPU that ran last keeps the CPU until its timeslice is used up.
    const last = this.#last;
    if (last === a && a.sliceUsed < TIMESLICE_NS) return true;
    if (last === b && b.sliceUsed < TIMESLICE_NS) return false;
    return a.queuedAt < b.queuedAt;
  }

  /** Charges `unit` for CPU time. */
  charge(unit: U, ranNs: number, _now: number): void {
    const entry = this.#entries.get(unit);
    if (!entry) return;
    entry.credit -= (ranNs / 1e6) * CREDITS_PER_MSEC;
    entry.ran = true;
    entry.sliceUsed += ranNs;
    entry.priority = entry.credit > 0 ? UNDER : OVER;
    if (this.#params.get(unit.domid)!.cap > 0 && entry.credit <= 0) entry.parked = true;
    this.#last = entry;
    if (entry.sliceUsed >= TIMESLICE_NS) {
      entry.sliceUsed = 0;
      entry.queuedAt = ++this.#sequence;
      this.#last = undefined;
    }
  }

  /** Whether a runnable vCPU of higher priority than `running` waits. */
  preempts(running: U, _now: number): boolean {
    const current = this.#entries.get(running);
    if (!current) return true;
    for (const entry of this.#entries.values()) {
      if (entry.runnable && !entry.parked && entry.priority > current.priority) return true;
    }
    return false;
  }

  /** Shares one period's credits among the active domains. */
  #account(): void {
    const active = new Map<number, Entry<U>[]>();
    for (const entry of this.#entries.values()) {
      // As in Xen, a sleeping vCPU stays active (earning) until its credit saturates, so an
      // interactive vCPU is UNDER, and boosted, when it wakes.
      if (!entry.runnable && !entry.ran && entry.credit >= PERIOD_CREDITS) continue;
      const list = active.get(entry.unit.domid) ?? [];
      list.push(entry);
      active.set(entry.unit.domid, list);
    }
    let totalWeight = 0;
    for (const domid of active.keys()) totalWeight += this.#params.get(domid)!.weight;
    for (const [domid, entries] of active) {
      const { weight, cap } = this.#params.get(domid)!;
      let share = (PERIOD_CREDITS * weight) / totalWeight;
      if (cap > 0) share = Math.min(share, (PERIOD_CREDITS * cap) / 100);
      for (const entry of entries) {
        entry.credit = Math.max(
          -PERIOD_CREDITS,
          Math.min(PERIOD_CREDITS, entry.credit + share / entries.length),
        );
      }
    }
    for (const entry of this.#entries.values()) {
      entry.ran = false;
      if (entry.priority !== BOOST) entry.priority = entry.credit > 0 ? UNDER : OVER;
      entry.parked = this.#params.get(entry.unit.domid)!.cap > 0 && entry.credit <= 0;
    }
  }

  /** Sets a domain's weight and/or cap. */
  setParams(domid: number, params: Partial<SchedParams>): void {
    const current = this.#params.get(domid) ?? { weight: DEFAULT_WEIGHT, cap: 0 };
    const weight = params.weight ?? current.weight;
    const cap = params.cap ?? current.cap;
    if (!Number.isInteger(weight) || weight < 1 || weight > 65535) {
      throw new RangeError(`Weight ${weight} is outside 1..65535`);
    }
    if (!Number.isInteger(cap) || cap < 0 || cap > 100) {
      throw new RangeError(`Cap ${cap} is outside 0..100 (percent of one CPU)`);
    }
    this.#params.set(domid, { weight, cap });
  }

  /** A domain's parameters (the defaults for an unknown domain). */
  params(domid: number): SchedParams {
    return { ...(this.#params.get(domid) ?? { weight: DEFAULT_WEIGHT, cap: 0 }) };
  }
}
