/**
 * `deno task run`, the main job. Until the hypervisor lands it boots the native demo guest on the
 * board: its console goes to stdout and the process exits with the guest's status.
 *
 * @module
 */

import { Board } from "@paravirt/board";
import { guestImagePath } from "@paravirt/guests";

const board = new Board();
board.onOutput = (bytes) => {
  let done = 0;
  while (done < bytes.length) done += Deno.stdout.writeSync(bytes.subarray(done));
};
const path = guestImagePath("demo");
board.loadElf(await Deno.readFile(path));
console.log(`[run] booting ${path} on the native board (RV32IMA, 128 MiB)`);
const started = performance.now();
const result = await board.run();
const seconds = (performance.now() - started) / 1000;
console.log(
  `[run] guest ${result.outcome} (exit ${result.exitCode}) after ${result.instructions} ` +
    `instructions in ${seconds.toFixed(2)} s (${
      (result.instructions / seconds / 1e6).toFixed(0)
    } MIPS)`,
);
Deno.exit(result.outcome === "pass" ? 0 : 1);
