/**
 * `vcpu_op(cmd, vcpuid, arg)`: vCPU up/down and status, runstate information, and the one-shot
 * timer. Timer operations act on the calling vCPU only, as in Xen.
 *
 * @module
 */

import {
  EEXIST,
  EINVAL,
  ENOENT,
  ENOSYS,
  ETIME,
  VCPU_GUEST_CONTEXT,
  VCPU_RUNSTATE_INFO,
  VCPU_SET_SINGLESHOT_TIMER,
  VCPU_SSHOTTMR_future,
  VCPUOP_down,
  VCPUOP_get_runstate_info,
  VCPUOP_initialise,
  VCPUOP_is_up,
  VCPUOP_set_singleshot_timer,
  VCPUOP_stop_singleshot_timer,
  VCPUOP_up,
} from "@paravirt/public";
import type { Hypercall } from "./host.ts";
import { setBasePointer } from "./mmu.ts";
import { configurePvHart } from "../vcpu.ts";

/** The vcpu_op hypercall. */
export const vcpuOp: Hypercall = (host, domain, vcpu, args) => {
  const target = domain.vcpus[args[1]];
  if (args[1] < 0 || !target) return -ENOENT;
  const arg = args[2];
  switch (args[0]) {
    case VCPUOP_initialise: {
      if (target.baseMfn >= 0) return -EEXIST; // it has a context already
      const o = VCPU_GUEST_CONTEXT.offset;
      const guest = vcpu.guest;
      const satp = guest.u32(arg + o.satp);
      if ((satp & 0x8000_0000) === 0) return -EINVAL; // paging is never off
      const registers = new Int32Array(32);
      for (let i = 1; i < 32; i++) registers[i] = guest.u32(arg + o.x + 4 * i);
      const pc = guest.u32(arg + o.pc);
      const stvec = guest.u32(arg + o.stvec);
      const sscratch = guest.u32(arg + o.sscratch);
      const rc = setBasePointer(domain, target, satp & 0x3f_ffff);
      if (rc < 0) return rc;
      const hart = target.hart;
      configurePvHart(hart);
      hart.x.set(registers);
      hart.pc = pc;
      hart.stvec = stvec;
      hart.sscratch = sscratch;
      return 0;
    }
    case VCPUOP_up:
      // Only a vCPU with a context (the builder's, or VCPUOP_initialise's) can come up.
      if (target.baseMfn < 0) return -EINVAL;
      host.setVcpuUp(target, true);
      return 0;
    case VCPUOP_down:
      host.setVcpuUp(target, false);
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
