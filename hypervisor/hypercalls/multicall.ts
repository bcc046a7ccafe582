/**
 * `multicall(entries, count)`: runs a batch of hypercalls in order, writing each result into its
 * entry (Xen runs them all; each result says whether that call succeeded). A multicall inside a
 * multicall fails with -EINVAL. The batch ends early if a call blocks the vCPU or ends the domain.
 *
 * @module
 */

import { EINVAL, HYPERVISOR_multicall, MULTICALL_ENTRY, MULTICALL_MAX } from "@paravirt/public";
import type { Hypercall } from "./host.ts";

/** The multicall hypercall. */
export const multicall: Hypercall = (host, domain, vcpu, args) => {
  const list = args[0];
  const count = args[1] >>> 0;
  if (count > MULTICALL_MAX) return -EINVAL;
  const guest = vcpu.guest;
  const callArgs = new Int32Array(6);
  const o = MULTICALL_ENTRY.offset;
  for (let i = 0; i < count; i++) {
    const at = list + i * MULTICALL_ENTRY.size;
    const op = guest.u64(at + o.op);
    for (let a = 0; a < 6; a++) callArgs[a] = guest.u32(at + o.args + 8 * a);
    const result = op === HYPERVISOR_multicall ? -EINVAL : host.call(domain, vcpu, op, callArgs);
    guest.setU64(at + o.result, result);
    if (!vcpu.runnable || domain.shutdownReason !== undefined) break;
  }
  return 0;
};
