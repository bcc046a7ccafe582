/**
 * `memory_op(cmd, arg)`: growing and shrinking a domain's reservation one 4 KiB extent at a time
 * (within its maximum), and the reservation queries.
 *
 * @module
 */

import {
  DOMID_SELF,
  EFAULT,
  EINVAL,
  ENOSYS,
  EPERM,
  ESRCH,
  MEMORY_OP_MAX_EXTENTS,
  XEN_MEMORY_RESERVATION,
  XENMEM_current_reservation,
  XENMEM_decrease_reservation,
  XENMEM_increase_reservation,
  XENMEM_maximum_ram_page,
  XENMEM_maximum_reservation,
} from "@paravirt/public";
import type { Domain } from "../domain.ts";
import { GuestFault } from "../guest_memory.ts";
import { DOMAIN_FRAMES_END } from "../layout.ts";
import type { Hypercall, HypercallHost } from "./host.ts";

function target(host: HypercallHost, domain: Domain, domid: number): Domain | number {
  if (domid === DOMID_SELF || domid === domain.id) return domain;
  if (!domain.privileged) return -EPERM;
  return host.domain(domid) ?? -ESRCH;
}

/** The memory_op hypercall. */
export const memoryOp: Hypercall = (host, domain, vcpu, args) => {
  const arg = args[1];
  const guest = vcpu.guest;
  switch (args[0]) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation: {
      const o = XEN_MEMORY_RESERVATION.offset;
      const list = guest.u32(arg + o.extent_start);
      const count = guest.u64(arg + o.nr_extents);
      const order = guest.u32(arg + o.extent_order);
      const who = target(host, domain, guest.u16(arg + o.domid));
      if (typeof who === "number") return who;
      if (order !== 0 || count < 0 || count > MEMORY_OP_MAX_EXTENTS) return -EINVAL;
      let done = 0;
      if (args[0] === XENMEM_increase_reservation) {
        let hint = 0;
        for (; done < count && who.pages < who.maxPages; done++) {
          const index = who.findFreePage(hint);
          if (index < 0) break;
          hint = index + 1;
          who.populate(index, -1);
          const mfn = who.region.firstFrame + index;
          if (list !== 0) {
            try {
              guest.setU64(list + 8 * done, mfn);
            } catch (error) {
              // The guest cannot learn of this frame: take it back and report what was done.
              who.release(mfn);
              if (error instanceof GuestFault) return done === 0 ? -EFAULT : done;
              throw error;
            }
          }
        }
        return done;
      }
      for (; done < count; done++) {
        const mfn = guest.u64(list + 8 * done);
        if (mfn < 0 || !who.release(mfn)) break;
      }
      return done;
    }
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation: {
      const who = target(host, domain, guest.u16(arg));
      if (typeof who === "number") return who;
      return args[0] === XENMEM_current_reservation ? who.pages : who.maxPages;
    }
    case XENMEM_maximum_ram_page:
      return DOMAIN_FRAMES_END - 1;
    default:
      return -ENOSYS;
  }
};
