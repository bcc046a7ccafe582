import { equal, ok } from "node:assert/strict";
import { formatMismatch, type Mismatch } from "./compare.ts";
import { replayCommand } from "./main.ts";
import { boardMachine } from "./our_machine.ts";
import { qemuMachine, runBatch } from "./runner.ts";

/** Seeds checked in CI: 0..SEEDS-1, BATCH per image (the replay command assumes 100). */
const SEEDS = 2000;
const BATCH = 100;

Deno.test({
  name: `our hart matches QEMU on ${SEEDS} random instruction streams`,
  // QEMU is a subprocess; its pipes and the temp file are closed before each run returns.
  sanitizeResources: true,
  fn: async () => {
    const ours = boardMachine();
    const mismatches: Mismatch[] = [];
    const tolerated = new Map<string, number>();
    const start = performance.now();
    for (let first = 0; first < SEEDS; first += BATCH) {
      const result = await runBatch(first, BATCH, { ours, stream: { minstret: true } });
      equal(
        result.reference.signatures.length,
        BATCH,
        `QEMU printed ${result.reference.signatures.length} of ${BATCH} signatures`,
      );
      ok(result.reference.finished, "QEMU did not reach the end of the image");
      mismatches.push(...result.comparison.mismatches);
      for (const [name, n] of result.comparison.tolerated) {
        tolerated.set(name, (tolerated.get(name) ?? 0) + n);
      }
    }
    const seconds = ((performance.now() - start) / 1000).toFixed(1);
    const seeds = [...new Set(mismatches.map((m) => m.seed))];
    console.log(
      `difftest: ${SEEDS} seeds in ${seconds} s, ${seeds.filter((s) => s >= 0).length} ` +
        `mismatching; tolerated QEMU deviations: ${
          [...tolerated].map(([name, n]) => `${name} ×${n}`).join(", ") || "none"
        }`,
    );
    if (mismatches.length > 0) {
      for (const m of mismatches.slice(0, 50)) console.log(formatMismatch(m));
      for (const seed of seeds.filter((s) => s >= 0).slice(0, 10)) {
        console.log(`replay: ${replayCommand(seed)}`);
      }
    }
    equal(mismatches.length, 0, `${seeds.length} seed(s) differ from QEMU: ${seeds.slice(0, 20)}`);
  },
});

Deno.test("two QEMU runs of the same image agree (the reference is deterministic)", async () => {
  const result = await runBatch(0, 50, { ours: qemuMachine, stream: { minstret: true } });
  equal(result.reference.signatures.length, 50);
  equal(result.comparison.mismatches.map(formatMismatch).join("\n"), "");
  equal(result.comparison.tolerated.size, 0);
});
