/**
 * `vcpu_op(cmd, vcpuid, arg)`: vCPU up/down and status, runstate information, and the one-shot
 * timer. Timer operations act on the calling vCPU only, as in Xen.
 *
 * @module
 */

import {
  EINVAL,
  ENOENT,
  ENOSYS,
  ETIME,
  VCPU_RUNSTATE_INFO,
  VCPU_SET_SINGLESHOT_TIMER,
  VCPU_SSHOTTMR_future,
  VCPUOP_down,
  VCPUOP_get_runstate_info,
  VCPUOP_is_up,
  VCPUOP_set_singleshot_timer,
  VCPUOP_stop_singleshot_timer,
  VCPUOP_up,
} from "@paravirt/public";
import type { Hypercall } from "./host.ts";

/** The vcpu_op hypercall. */
export const vcpuOp: Hypercall = (host, domain, vcpu, args) => {
  const target = domain.vcpus[args[1]];
  if (args[1] < 0 || !target) return -ENOENT;
  const arg = args[2];
  switch (args[0]) {
    case VCPUOP_up:
      // Only vCPUs the builder readied can come up (there is no VCPUOP_initialise yet).
      if (target.baseMfn < 0) return -EINVAL;
      if (!target.up) {
        target.up = true;
        host.timersChanged(target);
      }
      return 0;
    case VCPUOP_down:
      target.up = false;
      if (target === vcpu) host.block(vcpu, "events");
      return 0;
    case VCPUOP_is_up:
      return target.up ? 1 : 0;
    case VCPUOP_get_runstate_info: {
      const now = host.clock.now();
      const o = VCPU_RUNSTATE_INFO.offset;
      vcpu.guest.setU32(arg + o.state, target.runstate);
      vcpu.guest.setU64(arg + o.state_entry_time, target.runstateEntry);
      for (let s = 0; s < 4; s++) {
        const extra = s === target.runstate ? now - target.runstateEntry : 0;
        vcpu.guest.setU64(arg + o.time + 8 * s, Math.floor(target.runstateTime[s] + extra));
      }
      return 0;
    }
    case VCPUOP_set_singleshot_timer: {
      if (target !== vcpu) return -EINVAL;
      const o = VCPU_SET_SINGLESHOT_TIMER.offset;
      const timeout = vcpu.guest.u64(arg + o.timeout_abs_ns);
      const flags = vcpu.guest.u32(arg + o.flags);
      if (timeout < 0) return -EINVAL;
      if ((flags & VCPU_SSHOTTMR_future) !== 0 && timeout < host.clock.now()) return -ETIME;
      vcpu.timerDeadline = timeout;
      host.timersChanged(vcpu);
      return 0;
    }
    case VCPUOP_stop_singleshot_timer:
      if (target !== vcpu) return -EINVAL;
      vcpu.timerDeadline = Infinity;
      return 0;
    default:
      return -ENOSYS;
  }
};
