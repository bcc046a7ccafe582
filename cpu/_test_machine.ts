/**
 * A tiny test machine for the CPU's unit tests: 1 MiB of RAM at 0x8000_0000, a program assembled
 * at its start, and helpers to run until the program hits EBREAK (claimed by the host).
 *
 * @module
 */

import { PhysicalMemory } from "@paravirt/mmu";
import { Assembler } from "./assembler.ts";
import { Hart } from "./hart.ts";
import { run } from "./run.ts";
import type { Exit } from "./exit.ts";
import { CAUSE_BREAKPOINT } from "./csr_numbers.ts";

/** RAM base of the test machine. */
export const RAM = 0x8000_0000;
/** Scratch data area inside RAM. */
export const DATA = 0x8008_0000;

/** A hart with RAM and a program. */
export interface TestMachine {
  /** The hart (pc at the program start, M-mode). */
  hart: Hart;
  /** Its memory. */
  memory: PhysicalMemory;
  /** Runs until an exit, with a budget; returns the exit. */
  go(budget?: number): Exit;
}

/** Builds a machine whose program is written by `write` (EBREAK exits to the host). */
export function machine(write: (a: Assembler) => void): TestMachine {
  const memory = new PhysicalMemory();
  memory.addRam(RAM, 1 << 20);
  const asm = new Assembler(RAM);
  write(asm);
  memory.writeBytes(RAM, asm.finish());
  const hart = new Hart(memory, { resetPc: RAM });
  hart.hostTraps = 1 << CAUSE_BREAKPOINT;
  return { hart, memory, go: (budget = 100_000) => run(hart, budget) };
}

/** Runs `write`'s program to its EBREAK and returns the hart (asserting it got there). */
export function runToBreak(write: (a: Assembler) => void): Hart {
  const m = machine((a) => {
    write(a);
    a.emit({ op: "ebreak" });
  });
  const exit = m.go();
  if (exit.kind !== "breakpoint") {
    throw new Error(`expected to reach ebreak, got ${JSON.stringify(exit)} at pc ${m.hart.pc}`);
  }
  return m.hart;
}
