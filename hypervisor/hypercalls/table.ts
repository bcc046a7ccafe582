/**
 * The hypercall table: `__HYPERVISOR_*` number → handler.
 *
 * @module
 */

import {
  HYPERVISOR_console_io,
  HYPERVISOR_event_channel_op,
  HYPERVISOR_grant_table_op,
  HYPERVISOR_memory_op,
  HYPERVISOR_mmu_update,
  HYPERVISOR_mmuext_op,
  HYPERVISOR_multicall,
  HYPERVISOR_sched_op,
  HYPERVISOR_set_timer_op,
  HYPERVISOR_update_va_mapping,
  HYPERVISOR_vcpu_op,
  HYPERVISOR_xen_version,
} from "@paravirt/public";
import type { Hypercall } from "./host.ts";
import { consoleIo } from "./console_io.ts";
import { xenVersion } from "./xen_version.ts";
import { schedOp, setTimerOp } from "./sched_op.ts";
import { vcpuOp } from "./vcpu_op.ts";
import { eventChannelOp } from "./event_channel_op.ts";
import { memoryOp } from "./memory_op.ts";
import { mmuextOp, mmuUpdate, updateVaMapping } from "./mmu.ts";
import { multicall } from "./multicall.ts";
import { grantTableOp } from "./grant_table_op.ts";

/** Handlers by hypercall number (unlisted numbers answer -ENOSYS). */
export const HYPERCALLS: ReadonlyMap<number, Hypercall> = new Map<number, Hypercall>([
  [HYPERVISOR_mmu_update, mmuUpdate],
  [HYPERVISOR_memory_op, memoryOp],
  [HYPERVISOR_multicall, multicall],
  [HYPERVISOR_update_va_mapping, updateVaMapping],
  [HYPERVISOR_set_timer_op, setTimerOp],
  [HYPERVISOR_xen_version, xenVersion],
  [HYPERVISOR_console_io, consoleIo],
  [HYPERVISOR_grant_table_op, grantTableOp],
  [HYPERVISOR_vcpu_op, vcpuOp],
  [HYPERVISOR_mmuext_op, mmuextOp],
  [HYPERVISOR_sched_op, schedOp],
  [HYPERVISOR_event_channel_op, eventChannelOp],
]);
