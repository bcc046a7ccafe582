/**
 * The paravirt ABI, Xen's `include/public` analogue: hypercall and operation numbers, error
 * numbers, domain ids, and the structure layouts shared by guests and the hypervisor (shared-info,
 * vcpu_info, start-info, event channel, scheduler, vCPU, memory, MMU, multicall and grant table
 * arguments, the xenstore wire protocol and ring page, xenbus states, the block protocol, the
 * console ring, and the network interface rings and their handshake keys). Numbers and layouts
 * only — no behaviour.
 *
 * Layouts are written once with {@link struct}; the TypeScript side reads `X.offset.field` and
 * `X.size`, and {@link generateCHeader} emits the same layouts for guest C code.
 *
 * ```ts
 * import { SHARED_INFO } from "@paravirt/public";
 * console.log(SHARED_INFO.size, SHARED_INFO.offset.evtchn_pending); // 1088 48
 * ```
 *
 * @module
 */

export * from "./struct.ts";
export * from "./errno.ts";
export * from "./domid.ts";
export * from "./hypercall.ts";
export * from "./shared_info.ts";
export * from "./start_info.ts";
export * from "./event_channel.ts";
export * from "./sched.ts";
export * from "./vcpu.ts";
export * from "./memory.ts";
export * from "./mmu.ts";
export * from "./multicall.ts";
export * from "./grant_table.ts";
export * from "./version.ts";
export * from "./xs_wire.ts";
export * from "./xenbus.ts";
export * from "./blkif.ts";
export * from "./console.ts";
export * from "./netif.ts";
export { generateCHeader } from "./c_header.ts";
