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
  assert.match(text, /_Static_assert\(sizeof\(struct netif_tx_request\) == 12/);
  assert.match(text, /_Static_assert\(offsetof\(struct netif_rx_response, status\) == 6/);
  assert.match(text, /#define NETTXF_more_data 0x4u/);
  assert.match(text, /#define NETIF_RSP_ERROR \(-1\)/);
  assert.match(text, /#define NETIF_KEY_TX_RING_REF "tx-ring-ref"/);
});
