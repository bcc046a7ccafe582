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
  assert.match(text, /#define BLKIF_OP_INDIRECT 0x6u/);
  assert.match(text, /#define BLKIF_RSP_EOPNOTSUPP \(-2\)/);
  assert.match(
    text,
    /#define BLKIF_KEY_FEATURE_MAX_INDIRECT_SEGMENTS "feature-max-indirect-segments"/,
  );
  assert.match(text, /struct blkif_request_segment seg\[11\];/);
  assert.match(text, /_Static_assert\(sizeof\(struct blkif_request\) == 112/);
  assert.match(text, /_Static_assert\(offsetof\(struct xencons_interface, out_prod\) == 3084/);
  assert.match(text, /_Static_assert\(sizeof\(struct netif_tx_request\) == 12/);
  assert.match(text, /_Static_assert\(offsetof\(struct netif_rx_response, status\) == 6/);
  assert.match(text, /#define NETTXF_more_data 0x4u/);
  assert.match(text, /#define NETIF_RSP_ERROR \(-1\)/);
  assert.match(text, /#define NETIF_KEY_TX_RING_REF "tx-ring-ref"/);
});

const gcc = "riscv64-unknown-elf-gcc";
const haveGcc = await new Deno.Command(gcc, { args: ["--version"], stdout: "null", stderr: "null" })
  .output().then((r) => r.success, () => false);

Deno.test({
  name: "the C header compiles for RV32 and its layout assertions hold",
  ignore: !haveGcc,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/paravirt_abi.h`, generateCHeader());
      await Deno.writeTextFile(`${dir}/t.c`, '#include "paravirt_abi.h"\nint x;\n');
      const out = await new Deno.Command(gcc, {
        args: ["-march=rv32ima", "-mabi=ilp32", "-ffreestanding", "-c", "t.c", "-o", "t.o"],
        cwd: dir,
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
