/**
 * Event channels, Xen's virtual interrupts: per-domain port tables with interdomain, virq and IPI
 * bindings, and 2-level delivery into the pending/mask bitmaps of a domain's shared-info page.
 *
 * - {@link ChannelTable}: a domain's ports and the operations of `EVTCHNOP_*`; finds other
 *   domains through a {@link ChannelDirectory} the hypervisor provides.
 * - {@link PendingBits}: atomic access to the bitmaps and upcall flags of a shared-info page.
 * - {@link HostEvents}: delivery to a domain whose kernel is TypeScript (domain 0).
 *
 * ```ts
 * import { ChannelTable, HostEvents } from "@paravirt/events";
 * const tables = new Map<number, ChannelTable>();
 * const directory = { table: (domid: number) => tables.get(domid) };
 * const dom0 = new ChannelTable(0, directory);
 * const dom1 = new ChannelTable(1, directory);
 * tables.set(0, dom0).set(1, dom1);
 * const host = new HostEvents(dom0);
 * const port = dom0.allocUnbound(1);
 * const remote = dom1.bindInterdomain(0, port);
 * host.handle(port, () => console.log("kicked"));
 * host.dispatch(); // the bind itself does not notify dom0
 * dom1.send(remote);
 * host.dispatch(); // logs "kicked"
 * ```
 *
 * @module
 */

export * from "./channel_table.ts";
export * from "./pending_bits.ts";
export * from "./host_events.ts";
export * from "./doorbell.ts";
