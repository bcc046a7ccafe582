/**
 * `sched_op(cmd, arg)` and `set_timer_op(lo, hi)`: yielding, blocking until an event, polling a
 * set of ports with a timeout, shutting the domain down, and the one-shot timer behind
 * VIRQ_TIMER.
 *
 * @module
 */

import {
  EINVAL,
  ENOSYS,
  SCHED_POLL,
  SCHED_POLL_MAX_PORTS,
  SCHED_SHUTDOWN,
  SCHEDOP_block,
  SCHEDOP_poll,
  SCHEDOP_shutdown,
  SCHEDOP_yield,
  SHUTDOWN_watchdog,
} from "@paravirt/public";
import type { Hypercall } from "./host.ts";

/** The sched_op hypercall. */
export const schedOp: Hypercall = (host, domain, vcpu, args) => {
  const arg = args[1];
  switch (args[0]) {
    case SCHEDOP_yield:
      host.yieldVcpu(vcpu);
      return 0;
    case SCHEDOP_block:
      // As Xen: blocking enables event delivery, and returns at once if an event is pending.
      domain.unmaskUpcalls();
      if (!domain.upcallPending) host.block(vcpu, "events");
      return 0;
    case SCHEDOP_shutdown: {
      const reason = vcpu.guest.u32(arg + SCHED_SHUTDOWN.offset.reason);
      if (reason < 0 || reason > SHUTDOWN_watchdog) return -EINVAL;
      host.shutdown(domain, reason);
      return 0;
    }
    case SCHEDOP_poll: {
      const o = SCHED_POLL.offset;
      const list = vcpu.guest.u32(arg + o.ports);
      const count = vcpu.guest.u32(arg + o.nr_ports);
      const timeout = vcpu.guest.u64(arg + o.timeout);
      if (count < 0 || count > SCHED_POLL_MAX_PORTS || timeout < 0) return -EINVAL;
      const ports: number[] = [];
      for (let i = 0; i < count; i++) {
        const port = vcpu.guest.u32(list + 4 * i);
        if (port <= 0 || port >= domain.events.maxPorts) return -EINVAL;
        if (domain.events.isPending(port)) return 0;
        ports.push(port);
      }
      if (timeout !== 0 && timeout <= host.clock.now()) return 0;
      vcpu.pollPorts = ports;
      vcpu.pollDeadline = timeout === 0 ? Infinity : timeout;
      host.block(vcpu, "poll");
      host.timersChanged(vcpu);
      return 0;
    }
    default:
      return -ENOSYS;
  }
};

/** The set_timer_op hypercall: an absolute system time in ns (two words), 0 to cancel. */
export const setTimerOp: Hypercall = (host, _domain, vcpu, args) => {
  const timeout = (args[1] >>> 0) * 0x1_0000_0000 + (args[0] >>> 0);
  vcpu.timerDeadline = timeout === 0 ? Infinity : timeout;
  host.timersChanged(vcpu);
  return 0;
};
