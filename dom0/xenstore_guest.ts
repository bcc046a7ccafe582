/**
 * Connects a guest's xenstore ring to xenstored: maps the ring page named in its start-info
 * (through the domain's memory view), binds dom0 to the guest's store port with a doorbell, pumps
 * the doorbell into the ring server, and introduces the domain — what Xen's toolstack and
 * xenstored do together with XS_INTRODUCE.
 *
 * @module
 */

import type { Xenstored } from "./xenstore/daemon.ts";
import { createDoorbell, type DomainControl } from "./domain_control.ts";

/** A live link between a guest's xenstore ring and the daemon. */
export interface XenstoreLink {
  /** Stops serving the ring (the domain is going away). */
  close(): Promise<void>;
}

/**
 * Serves domain `domid`'s xenstore ring. Rejects if the domain has no ring (not built) or its
 * port cannot be bound.
 */
export async function connectXenstore(
  xenstored: Xenstored,
  control: DomainControl,
  domid: number,
): Promise<XenstoreLink> {
  const view = await control.foreignView(domid);
  if (!view.store) throw new RangeError(`Domain ${domid} has no xenstore ring`);
  const page = new Uint8Array(view.buffer, (view.store.mfn - view.firstFrame) * 4096, 4096);
  const doorbell = await createDoorbell(control);
  let open = true;
  const ring = xenstored.introduceDomain(domid, {
    page,
    notify: () => doorbell.kick(0),
    close: () => {
      open = false;
    },
  });
  const port = await control.bindBackend(domid, view.store.port, doorbell, 0);
  if (port < 0) {
    xenstored.releaseDomain(domid);
    throw new RangeError(`Cannot bind domain ${domid}'s xenstore port (${port})`);
  }
  const pump = (async () => {
    while (open) {
      await doorbell.wait(1000);
      if (doorbell.takeRings() !== 0) ring.onEvent();
    }
  })();
  return {
    async close() {
      open = false;
      xenstored.releaseDomain(domid);
      await control.unbindBackend(port);
      await pump;
    },
  };
}
