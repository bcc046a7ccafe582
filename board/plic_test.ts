import assert from "node:assert/strict";
import { Plic } from "./plic.ts";

Deno.test("PLIC gateways, priorities, threshold and claim/complete", () => {
  const plic = new Plic();
  const out = [false, false];
  plic.onOutput = (context, level) => out[context] = level;
  plic.write(4 * 10, 4, 1); // source 10 priority 1
  plic.write(4 * 5, 4, 3); // source 5 priority 3
  plic.write(0x2080, 4, (1 << 10) | (1 << 5)); // context 1 enables both
  plic.setLevel(10, true);
  assert.deepEqual(out, [false, true]);
  assert.equal(plic.read(0x1000, 4), 1 << 10);
  plic.setLevel(5, true);
  assert.equal(plic.read(0x201004, 4), 5, "highest priority first");
  assert.equal(plic.read(0x201004, 4), 10);
  assert.equal(plic.read(0x201004, 4), 0, "nothing left");
  assert.equal(out[1], false);
  plic.write(0x201004, 4, 10); // complete while the line is still high: pending again
  assert.equal(out[1], true);
  plic.write(0x201000, 4, 1); // threshold 1 masks priority 1
  assert.equal(out[1], false);
  plic.setLevel(10, false);
  plic.write(0x201000, 4, 0);
  assert.equal(out[1], true, "level-triggered pending stays until claimed");
  assert.equal(plic.read(0x201004, 4), 10);
  plic.write(0x201004, 4, 10);
  assert.equal(out[1], false);
  plic.setLevel(99, true); // out of range: ignored
  assert.equal(plic.read(0x5000000, 4), 0);
});
