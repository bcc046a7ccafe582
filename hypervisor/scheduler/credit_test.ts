import assert from "node:assert/strict";
import { CreditScheduler } from "./credit.ts";
import { schedulerConformance, simulateShares } from "./conformance.ts";

schedulerConformance("credit", () => new CreditScheduler());

Deno.test("credit: an idle domain does not hoard credit", () => {
  const s = new CreditScheduler();
  const busy = { domid: 1, id: 0 };
  const idle = { domid: 2, id: 0 };
  s.insert(busy);
  s.insert(idle);
  s.wake(busy, 0);
  simulateShares(s, [busy], 1e9);
  // The idle domain wakes after a second; it must not run alone for the next second.
  s.wake(idle, 1e9);
  let idleRan = 0;
  let now = 1e9;
  while (now < 1.3e9) {
    const pick = s.pick(now);
    const ran = pick.unit === null ? 1e6 : pick.sliceNs;
    if (pick.unit === idle) idleRan += ran;
    if (pick.unit) s.charge(pick.unit, ran, now + ran);
    now += ran;
  }
  assert.ok(idleRan < 0.25e9, `the woken domain ran ${idleRan / 1e6} ms of 300`);
});
