/**
 * `xen_version(cmd, arg)`: the version, extra version, capabilities, features and page size.
 *
 * @module
 */

import {
  EINVAL,
  ENOSYS,
  XEN_CAPABILITIES,
  XEN_EXTRAVERSION,
  XEN_VERSION_MAJOR,
  XEN_VERSION_MINOR,
  XENVER_capabilities,
  XENVER_extraversion,
  XENVER_get_features,
  XENVER_pagesize,
  XENVER_version,
} from "@paravirt/public";
import type { Hypercall } from "./host.ts";

function fixedString(text: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(new TextEncoder().encode(text).subarray(0, size - 1));
  return out;
}

/** The xen_version hypercall. */
export const xenVersion: Hypercall = (_host, _domain, vcpu, args) => {
  const arg = args[1];
  switch (args[0]) {
    case XENVER_version:
      return (XEN_VERSION_MAJOR << 16) | XEN_VERSION_MINOR;
    case XENVER_extraversion:
      vcpu.guest.write(arg, fixedString(XEN_EXTRAVERSION, 16));
      return 0;
    case XENVER_capabilities:
      vcpu.guest.write(arg, fixedString(XEN_CAPABILITIES, 1024));
      return 0;
    case XENVER_get_features: {
      // struct xen_feature_info { unsigned int submap_idx; uint32_t submap; }
      const index = vcpu.guest.u32(arg);
      if (index !== 0) return -EINVAL;
      vcpu.guest.setU32(arg + 4, 0);
      return 0;
    }
    case XENVER_pagesize:
      return 4096;
    default:
      return -ENOSYS;
  }
};
