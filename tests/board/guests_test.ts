/**
 * Every native test guest passes on our board, on both clocks (the proof-of-machine programs:
 * hello over the UART, traps and privilege, Sv32 paging, CLINT timer interrupts, HTIF, the demo).
 *
 * @module
 */

import assert from "node:assert/strict";
import { runElf } from "@paravirt/board";
import { guestImagePath } from "@paravirt/guests";

for (const name of ["hello", "traps", "sv32", "timer", "htif", "demo"] as const) {
  for (const clock of ["instructions", "realtime"] as const) {
    Deno.test(`${name} passes on the board (${clock} clock)`, async () => {
      const result = await runElf(await Deno.readFile(guestImagePath(name)), {
        clock,
        maxInstructions: 50_000_000,
      });
      assert.equal(result.outcome, "pass", result.output);
      assert.doesNotMatch(result.output, /FAIL/);
    });
  }
}
