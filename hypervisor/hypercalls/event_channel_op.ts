/**
 * `event_channel_op(cmd, arg)`: Xen's EVTCHNOP_* on the calling domain's channel table (or, for a
 * privileged domain, on another domain's where Xen allows it: alloc_unbound and status).
 *
 * @module
 */

import {
  DOMID_FIRST_RESERVED,
  DOMID_SELF,
  EINVAL,
  ENOSYS,
  EPERM,
  ESRCH,
  EVTCHN_ALLOC_UNBOUND,
  EVTCHN_BIND_INTERDOMAIN,
  EVTCHN_BIND_IPI,
  EVTCHN_BIND_VCPU,
  EVTCHN_BIND_VIRQ,
  EVTCHN_PORT,
  EVTCHN_STATUS,
  EVTCHNOP_alloc_unbound,
  EVTCHNOP_bind_interdomain,
  EVTCHNOP_bind_ipi,
  EVTCHNOP_bind_vcpu,
  EVTCHNOP_bind_virq,
  EVTCHNOP_close,
  EVTCHNOP_send,
  EVTCHNOP_status,
  EVTCHNOP_unmask,
  EVTCHNSTAT_virq,
} from "@paravirt/public";
import type { ChannelTable } from "@paravirt/events";
import type { Domain } from "../domain.ts";
import type { Hypercall, HypercallHost } from "./host.ts";

/** Resolves a domid argument to a table the caller may act on, or -errno. */
function tableFor(host: HypercallHost, domain: Domain, domid: number): ChannelTable | number {
  if (domid === DOMID_SELF || domid === domain.id) return domain.events;
  if (!domain.privileged) return -EPERM;
  return host.domain(domid)?.events ?? -ESRCH;
}

/** The event_channel_op hypercall. */
export const eventChannelOp: Hypercall = (host, domain, vcpu, args) => {
  const arg = args[1];
  const guest = vcpu.guest;
  const table = domain.events;
  switch (args[0]) {
    case EVTCHNOP_alloc_unbound: {
      const o = EVTCHN_ALLOC_UNBOUND.offset;
      const owner = tableFor(host, domain, guest.u16(arg + o.dom));
      if (typeof owner === "number") return owner;
      let remote = guest.u16(arg + o.remote_dom);
      if (remote === DOMID_SELF) remote = domain.id;
      if (remote >= DOMID_FIRST_RESERVED) return -EINVAL;
      const port = owner.allocUnbound(remote);
      if (port < 0) return port;
      guest.setU32(arg + o.port, port);
      return 0;
    }
    case EVTCHNOP_bind_interdomain: {
      const o = EVTCHN_BIND_INTERDOMAIN.offset;
      let remote = guest.u16(arg + o.remote_dom);
      if (remote === DOMID_SELF) remote = domain.id;
      const port = table.bindInterdomain(remote, guest.u32(arg + o.remote_port));
      if (port < 0) return port;
      guest.setU32(arg + o.local_port, port);
      return 0;
    }
    case EVTCHNOP_bind_virq: {
      const o = EVTCHN_BIND_VIRQ.offset;
      const port = table.bindVirq(guest.u32(arg + o.virq), guest.u32(arg + o.vcpu));
      if (port < 0) return port;
      guest.setU32(arg + o.port, port);
      return 0;
    }
    case EVTCHNOP_bind_ipi: {
      const o = EVTCHN_BIND_IPI.offset;
      const port = table.bindIpi(guest.u32(arg + o.vcpu));
      if (port < 0) return port;
      guest.setU32(arg + o.port, port);
      return 0;
    }
    case EVTCHNOP_close:
      return table.close(guest.u32(arg + EVTCHN_PORT.offset.port));
    case EVTCHNOP_send:
      return table.send(guest.u32(arg + EVTCHN_PORT.offset.port));
    case EVTCHNOP_unmask:
      return table.unmask(guest.u32(arg + EVTCHN_PORT.offset.port));
    case EVTCHNOP_status: {
      const o = EVTCHN_STATUS.offset;
      const owner = tableFor(host, domain, guest.u16(arg + o.dom));
      if (typeof owner === "number") return owner;
      const status = owner.status(guest.u32(arg + o.port));
      if (typeof status === "number") return status;
      guest.setU32(arg + o.status, status.status);
      guest.setU32(arg + o.vcpu, status.vcpu);
      if (status.status === EVTCHNSTAT_virq) {
        guest.setU32(arg + o.u_dom, status.virq);
      } else {
        guest.setU16(arg + o.u_dom, status.remoteDomain);
        guest.setU32(arg + o.u_port, status.remotePort);
      }
      return 0;
    }
    case EVTCHNOP_bind_vcpu: {
      const o = EVTCHN_BIND_VCPU.offset;
      return table.bindVcpu(guest.u32(arg + o.port), guest.u32(arg + o.vcpu));
    }
    default:
      return -ENOSYS;
  }
};
