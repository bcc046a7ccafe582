/**
 * What dom0's services (xenstored's guest rings, the device supervisor, backends) ask of the
 * hypervisor, as a narrow consumer-side interface: the memory view of a domain they serve, and
 * event-channel links to its ports through a doorbell. The pCPU client (`Pcpu` in
 * `@paravirt/hypervisor`) implements it across threads; {@link localControl} implements it over a
 * `Hypervisor` in the same thread (tests, tools).
 *
 * @module
 */

import { Doorbell, WakeWord } from "@paravirt/events";
import type { ForeignDomainView, Hypervisor } from "@paravirt/hypervisor";

/** A doorbell as it crosses threads: its buffer (the wake word comes from the hypervisor). */
export interface DoorbellHandle {
  /** The doorbell's shared state. */
  readonly buffer: SharedArrayBuffer;
}

/** The hypervisor services dom0 uses to serve a domain's devices. */
export interface DomainControl {
  /** The buffer of the hypervisor's wake word (needed to build doorbells). */
  wakeBuffer(): Promise<SharedArrayBuffer>;
  /** The memory view of domain `domid` (rejects for an unknown domain). */
  foreignView(domid: number): Promise<ForeignDomainView>;
  /**
   * Binds a dom0 port to `frontPort` (unbound, for dom0) of domain `domid`, routed to `slot` of
   * the doorbell. Resolves to the dom0 port or a negative errno.
   */
  bindBackend(
    domid: number,
    frontPort: number,
    doorbell: DoorbellHandle,
    slot: number,
  ): Promise<number>;
  /** Allocates a dom0 port domain `domid` may bind, routed like {@link bindBackend}. */
  offerBackendPort(domid: number, doorbell: DoorbellHandle, slot: number): Promise<number>;
  /** Closes a dom0 port made by the calls above. */
  unbindBackend(port: number): Promise<void>;
}

/** A {@link DomainControl} over a hypervisor running in this thread. */
export function localControl(hv: Hypervisor): DomainControl {
  const doorbells = new Map<SharedArrayBuffer, Doorbell>();
  const doorbell = (handle: DoorbellHandle) => {
    let found = doorbells.get(handle.buffer);
    if (!found) {
      found = new Doorbell(hv.wake, handle.buffer);
      doorbells.set(handle.buffer, found);
    }
    return found;
  };
  const domain = (domid: number) => {
    const found = hv.domain(domid);
    if (!found) throw new RangeError(`No domain ${domid}`);
    return found;
  };
  return {
    wakeBuffer: () => Promise.resolve(hv.wake.buffer),
    foreignView: (domid) => Promise.resolve().then(() => hv.foreignView(domain(domid))),
    bindBackend: (domid, frontPort, handle, slot) =>
      Promise.resolve().then(() =>
        hv.bindBackend(domain(domid), frontPort, doorbell(handle), slot)
      ),
    offerBackendPort: (domid, handle, slot) =>
      Promise.resolve().then(() => hv.offerBackendPort(domain(domid), doorbell(handle), slot)),
    unbindBackend: (port) => Promise.resolve().then(() => hv.unbindBackend(port)),
  };
}

/** Creates a doorbell on the dom0 side of `control` (tied to the hypervisor's wake word). */
export async function createDoorbell(control: DomainControl): Promise<Doorbell> {
  return new Doorbell(new WakeWord(await control.wakeBuffer()));
}
