/**
 * Our board as a difftest {@link Machine}: `runElf` from `@paravirt/board` with an instruction
 * budget, so a hart that loops forever ends the run instead of hanging the test.
 *
 * @module
 */

import { runElf } from "@paravirt/board";
import type { Machine } from "./runner.ts";

/** Instruction budget per image: generous for 100 streams (about 1 M instructions). */
export const DEFAULT_BUDGET = 50_000_000;

/** Returns our board as a {@link Machine} with the given instruction budget per image. */
export function boardMachine(maxInstructions: number = DEFAULT_BUDGET): Machine {
  return async (image) => {
    const result = await runElf(image, { maxInstructions });
    return { output: result.output, exitCode: result.exitCode };
  };
}
