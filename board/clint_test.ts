import assert from "node:assert/strict";
import { Hart, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_TIMER } from "@paravirt/cpu";
import { PhysicalMemory } from "@paravirt/mmu";
import { Clint } from "./clint.ts";
import { InstructionClock } from "./clock.ts";

Deno.test("CLINT drives MTIP from mtime >= mtimecmp and MSIP from msip", () => {
  const memory = new PhysicalMemory();
  memory.addRam(0x8000_0000, 4096);
  const hart = new Hart(memory);
  const clock = new InstructionClock(hart);
  const clint = new Clint(hart, clock);
  clint.update();
  assert.equal(hart.mipLines & (1 << IRQ_M_TIMER), 0, "mtimecmp starts at the far future");
  clint.write(0x4004, 4, 0);
  clint.write(0x4000, 4, 50);
  assert.equal(clint.ticksToDeadline(), 50);
  hart.cycle = 100 * 50;
  clint.update();
  assert.notEqual(hart.mipLines & (1 << IRQ_M_TIMER), 0);
  assert.equal(clint.read(0xbff8, 4), 50);
  clint.write(0xbff8, 4, 10); // mtime is writable
  assert.equal(clint.mtime, 10);
  assert.equal(hart.mipLines & (1 << IRQ_M_TIMER), 0);
  clock.skip(40);
  clint.update();
  assert.notEqual(hart.mipLines & (1 << IRQ_M_TIMER), 0);
  clint.write(0, 4, 1);
  assert.notEqual(hart.mipLines & (1 << IRQ_M_SOFT), 0);
  clint.write(0, 4, 0);
  assert.equal(hart.mipLines & (1 << IRQ_M_SOFT), 0);
});

Deno.test("the supervisor timer drives STIP and a new deadline clears it", () => {
  const memory = new PhysicalMemory();
  memory.addRam(0x8000_0000, 4096);
  const hart = new Hart(memory);
  const clock = new InstructionClock(hart);
  const clint = new Clint(hart, clock);
  const stip = () => (hart.mipLines & (1 << IRQ_S_TIMER)) !== 0;
  clint.update();
  assert.equal(stip(), false);
  assert.equal(clint.ticksToEnabledDeadline(1 << IRQ_S_TIMER), Infinity, "never armed");
  clint.setSupervisorTimer(20);
  assert.equal(stip(), false);
  assert.equal(clint.ticksToEnabledDeadline(1 << IRQ_S_TIMER), 20);
  assert.equal(clint.ticksToEnabledDeadline(1 << IRQ_M_TIMER), Infinity, "STIE decides");
  hart.cycle = 100 * 20;
  clint.update();
  assert.equal(stip(), true);
  assert.equal(hart.mipLines & (1 << IRQ_M_TIMER), 0, "mtimecmp is separate");
  clint.setSupervisorTimer(25);
  assert.equal(stip(), false);
  clint.setSupervisorTimer(2 ** 64);
  assert.equal(stip(), false);
  clint.setSupervisorTimer(0);
  assert.equal(stip(), true, "a deadline in the past fires at once");
});
