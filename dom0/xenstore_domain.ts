/**
 * A domain's place in xenstore, as Xen's toolstack makes it when it creates a domain: the
 * `/local/domain/<id>` directory (dom0's, readable by the domain) with `name` and `domid`, the
 * domain-writable `data/` and `control/shutdown`, and `device/` for its frontends; then its
 * xenstore ring is connected ({@link connectXenstore}). Closing undoes both, as domain
 * destruction does.
 *
 * @module
 */

import { LocalClient } from "./xenstore/client.ts";
import type { Xenstored } from "./xenstore/daemon.ts";
import type { DomainControl } from "./domain_control.ts";
import { connectXenstore } from "./xenstore_guest.ts";

/** A domain registered in xenstore. */
export interface XenstoreDomain {
  /** Its home path. */
  readonly path: string;
  /** Disconnects its ring and removes its nodes. */
  close(): Promise<void>;
}

/**
 * Writes domain `domid`'s nodes and serves its xenstore ring. Call it after the domain is built
 * and before it runs. Rejects if the ring cannot be connected (its nodes are removed again).
 */
export async function registerDomain(
  xenstored: Xenstored,
  control: DomainControl,
  domid: number,
  name: string,
): Promise<XenstoreDomain> {
  const dom0 = new LocalClient(xenstored);
  const path = `/local/domain/${domid}`;
  const readOnly = ["n0", `r${domid}`];
  const readWrite = [`n${domid}`];
  dom0.mkdir(path);
  dom0.setPerms(path, readOnly);
  dom0.write(`${path}/name`, name);
  dom0.write(`${path}/domid`, String(domid));
  for (const dir of ["device", "control"]) {
    dom0.mkdir(`${path}/${dir}`);
    dom0.setPerms(`${path}/${dir}`, readOnly);
  }
  dom0.mkdir(`${path}/data`);
  dom0.setPerms(`${path}/data`, readWrite);
  dom0.write(`${path}/control/shutdown`, "");
  dom0.setPerms(`${path}/control/shutdown`, readWrite);
  let link;
  try {
    link = await connectXenstore(xenstored, control, domid);
  } catch (error) {
    dom0.rm(path);
    throw error;
  }
  return {
    path,
    async close() {
      await link.close();
      try {
        dom0.rm(path);
      } catch {
        // Already gone (someone removed it by hand).
      }
    },
  };
}
