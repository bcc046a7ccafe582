import assert from "node:assert/strict";
import { blockBackendConformance } from "./conformance.ts";
import * as memory from "./memory_backend.ts";

blockBackendConformance({
  name: "memory",
  create: () =>
    Promise.resolve({ module: memory, params: { size: "4M" }, cleanup: async () => {} }),
});

Deno.test("memory backend: size is required and checked", async () => {
  const base = { readOnly: false, retained: [], retain() {} };
  await assert.rejects(memory.open({ ...base, params: {} }), /needs size=/);
  await assert.rejects(memory.open({ ...base, params: { size: "12Q" } }), /not a number/);
  await assert.rejects(memory.open({ ...base, params: { size: "1000" } }), /multiple of 512/);
  await assert.rejects(memory.open({ ...base, params: { size: "0" } }), /positive/);
});

Deno.test("memory backend: a restart with the retained buffer keeps the contents", async () => {
  const retained: SharedArrayBuffer[] = [];
  const options = {
    readOnly: false,
    params: { size: "64K" },
    retained,
    retain: (b: SharedArrayBuffer) => retained.push(b),
  };
  const first = await memory.open(options);
  await first.write(3, new Uint8Array(512).fill(7));
  assert.equal(retained.length, 1);
  const second = await memory.open({ ...options, retained: [...retained] });
  const out = new Uint8Array(512);
  await second.read(3, out);
  assert.ok(out.every((b) => b === 7));
  assert.equal(retained.length, 1, "nothing new retained");
});
