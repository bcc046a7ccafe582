import assert from "node:assert/strict";
import { generateCHeader } from "./mod.ts";

Deno.test("the C header defines the numbers and asserts every layout", () => {
  const text = generateCHeader();
  assert.match(text, /#define __HYPERVISOR_mmu_update 0x1u/);
  assert.match(text, /#define HYPERCALL_EXTENSION 0x858454eu/);
  assert.match(text, /#define EINVAL 0x16u/);
  assert.match(text, /_Static_assert\(sizeof\(struct shared_info\) == 1088/);
  assert.match(text, /uint64_t evtchn_pending\[64\];/);
  assert.match(text, /#define START_INFO_MAGIC "xen-3.0-riscv32"/);
});
