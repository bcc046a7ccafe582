/**
 * The conformance suite every {@link Scheduler} must pass (as Hono's routers share one suite):
 * driven by a simulated clock, so it checks policy, not speed. Call it from the policy's test
 * file: `schedulerConformance("credit", () => new CreditScheduler())`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Scheduler, SchedUnit } from "./scheduler.ts";

/** A unit for simulations. */
interface TestUnit extends SchedUnit {
  /** Whether it always wants the CPU. */
  hog: boolean;
}

function unit(domid: number, id = 0): TestUnit {
  return { domid, id, hog: true };
}

/**
 * Runs `units` (all CPU hogs while runnable) for `durationNs` of simulated time and returns each
 * one's share of the CPU in percent.
 */
export function simulateShares(
  scheduler: Scheduler,
  units: SchedUnit[],
  durationNs: number,
): number[] {
  const used = new Map<SchedUnit, number>(units.map((u) => [u, 0]));
  let now = 0;
  while (now < durationNs) {
    const pick = scheduler.pick(now);
    if (pick.unit === null) {
      now = Math.min(durationNs, Math.max(now + 1e5, Math.min(pick.until, now + 1e7)));
      continue;
    }
    const ran = Math.min(pick.sliceNs, durationNs - now);
    now += ran;
    scheduler.charge(pick.unit, ran, now);
    used.set(pick.unit, (used.get(pick.unit) ?? 0) + ran);
  }
  return units.map((u) => (100 * used.get(u)!) / durationNs);
}

/** Registers the conformance tests for the scheduler made by `create`. */
export function schedulerConformance(name: string, create: () => Scheduler): void {
  Deno.test(`${name}: idles with nothing runnable, runs the only runnable vCPU`, () => {
    const s = create();
    const a = unit(1);
    s.insert(a);
    assert.equal(s.pick(0).unit, null);
    s.wake(a, 0);
    const pick = s.pick(0);
    assert.equal(pick.unit, a);
    assert.ok(pick.unit !== null && pick.sliceNs > 0);
    s.sleep(a);
    assert.equal(s.pick(1).unit, null);
    s.remove(a);
    assert.equal(s.pick(2).unit, null);
  });

  Deno.test(`${name}: equal weights share the CPU equally`, () => {
    const s = create();
    const units = [unit(1), unit(2)];
    for (const u of units) s.insert(u), s.wake(u, 0);
    const shares = simulateShares(s, units, 10e9);
    for (const share of shares) assert.ok(Math.abs(share - 50) <= 2, `shares ${shares}`);
  });

  Deno.test(`${name}: weights 256/512/256 give 25/50/25 within 2 points`, () => {
    const s = create();
    const units = [unit(1), unit(2), unit(3)];
    for (const u of units) s.insert(u), s.wake(u, 0);
    s.setParams(2, { weight: 512 });
    const shares = simulateShares(s, units, 10e9);
    const expected = [25, 50, 25];
    shares.forEach((share, i) => assert.ok(Math.abs(share - expected[i]) <= 2, `shares ${shares}`));
  });

  Deno.test(`${name}: a cap holds even when the CPU would otherwise idle`, () => {
    const s = create();
    const capped = unit(1);
    s.insert(capped);
    s.wake(capped, 0);
    s.setParams(1, { cap: 20 });
    const [alone] = simulateShares(s, [capped], 10e9);
    assert.ok(alone <= 20.5 && alone >= 18, `capped alone: ${alone}`);
    const other = unit(2);
    s.insert(other);
    s.wake(other, 0);
    const [withOther, rest] = simulateShares(s, [capped, other], 10e9);
    assert.ok(withOther <= 20.5, `capped with a competitor: ${withOther}`);
    assert.ok(rest >= 79, `the competitor gets the rest: ${rest}`);
  });

  Deno.test(`${name}: a yielding vCPU lets an equal one run`, () => {
    const s = create();
    const a = unit(1);
    const b = unit(2);
    for (const u of [a, b]) s.insert(u), s.wake(u, 0);
    const first = s.pick(0).unit!;
    s.charge(first, 1e5, 1e5);
    s.yield(first);
    const second = s.pick(1e5).unit;
    assert.notEqual(second, first);
  });

  Deno.test(`${name}: a vCPU woken from sleep preempts a CPU hog`, () => {
    const s = create();
    const hog = unit(1);
    const sleeper = unit(2);
    for (const u of [hog, sleeper]) s.insert(u);
    s.wake(hog, 0);
    // Let both earn credit: the sleeper ran a little before it slept.
    s.wake(sleeper, 0);
    let now = 0;
    for (let i = 0; i < 20; i++) {
      const pick = s.pick(now);
      now += 1e6;
      s.charge(pick.unit!, 1e6, now);
    }
    s.sleep(sleeper);
    for (let i = 0; i < 100; i++) {
      const pick = s.pick(now);
      assert.equal(pick.unit, hog);
      now += 1e6;
      s.charge(hog, 1e6, now);
    }
    s.wake(sleeper, now);
    assert.equal(s.preempts(hog, now), true);
    assert.equal(s.pick(now).unit, sleeper);
  });

  Deno.test(`${name}: parameters are validated`, () => {
    const s = create();
    assert.throws(() => s.setParams(1, { weight: 0 }), RangeError);
    assert.throws(() => s.setParams(1, { weight: 70000 }), RangeError);
    assert.throws(() => s.setParams(1, { cap: 101 }), RangeError);
    assert.throws(() => s.setParams(1, { cap: -1 }), RangeError);
    s.setParams(1, { weight: 512, cap: 50 });
    assert.deepEqual(s.params(1), { weight: 512, cap: 50 });
  });
}
