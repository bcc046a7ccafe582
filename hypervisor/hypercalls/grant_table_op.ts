/**
 * `grant_table_op(cmd, uop, count)`: the grant-table frames of the calling domain
 * (GNTTABOP_setup_table, GNTTABOP_query_size). Mapping and copying grants come with the split
 * drivers.
 *
 * @module
 */

import {
  DOMID_SELF,
  EINVAL,
  ENOSYS,
  GNTST_bad_domain,
  GNTST_general_error,
  GNTST_okay,
  GNTTAB_QUERY_SIZE,
  GNTTAB_SETUP_TABLE,
  GNTTABOP_query_size,
  GNTTABOP_setup_table,
  GRANT_TABLE_MAX_FRAMES,
} from "@paravirt/public";
import type { Hypercall } from "./host.ts";

/** The grant_table_op hypercall. */
export const grantTableOp: Hypercall = (_host, domain, vcpu, args) => {
  const uop = args[1];
  const count = args[2];
  if (count !== 1) return -EINVAL;
  const guest = vcpu.guest;
  switch (args[0]) {
    case GNTTABOP_setup_table: {
      const o = GNTTAB_SETUP_TABLE.offset;
      const dom = guest.u16(uop + o.dom);
      const frames = guest.u32(uop + o.nr_frames);
      const list = guest.u32(uop + o.frame_list);
      if (dom !== DOMID_SELF && dom !== domain.id) {
        guest.setU16(uop + o.status, GNTST_bad_domain);
        return 0;
      }
      if (frames < 0 || frames > GRANT_TABLE_MAX_FRAMES) {
        guest.setU16(uop + o.status, GNTST_general_error);
        return 0;
      }
      for (let i = 0; i < frames; i++) guest.setU64(list + 8 * i, domain.grantFrameMfn(i));
      guest.setU16(uop + o.status, GNTST_okay);
      return 0;
    }
    case GNTTABOP_query_size: {
      const o = GNTTAB_QUERY_SIZE.offset;
      const dom = guest.u16(uop + o.dom);
      if (dom !== DOMID_SELF && dom !== domain.id) {
        guest.setU16(uop + o.status, GNTST_bad_domain);
        return 0;
      }
      guest.setU32(uop + o.nr_frames, GRANT_TABLE_MAX_FRAMES);
      guest.setU32(uop + o.max_nr_frames, GRANT_TABLE_MAX_FRAMES);
      guest.setU16(uop + o.status, GNTST_okay);
      return 0;
    }
    default:
      return -ENOSYS;
  }
};
