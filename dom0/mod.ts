/**
 * The control domain's services. Today: xenstored, Xen's configuration database, speaking
 * `io/xs_wire.h` to host tools on a Unix socket and to guests on their xenstore ring pages.
 *
 * - {@link Xenstored}: the daemon (store, permissions, quotas, watches, transactions, domains).
 * - {@link serveUnixSocket}: the socket transport (Debian's `xenstore-*` tools work against it
 *   with `XENSTORED_PATH` pointing at the socket).
 * - {@link RingServer}, {@link RingBinder}: the guest ring transport the hypervisor plugs in.
 * - {@link LocalClient}: an in-process dom0 client.
 *
 * ```ts
 * import { LocalClient, Xenstored } from "@paravirt/dom0";
 * const xenstored = new Xenstored();
 * const client = new LocalClient(xenstored);
 * client.write("/local/domain/1/name", "guest");
 * console.log(client.read("/local/domain/1/name")); // "guest"
 * ```
 *
 * @module
 */

export * from "./xenstore/errors.ts";
export * from "./xenstore/path.ts";
export * from "./xenstore/permissions.ts";
export * from "./xenstore/quota.ts";
export * from "./xenstore/store.ts";
export * from "./xenstore/transaction.ts";
export * from "./xenstore/watches.ts";
export * from "./xenstore/wire.ts";
export * from "./xenstore/ring.ts";
export * from "./xenstore/daemon.ts";
export * from "./xenstore/socket.ts";
export * from "./xenstore/client.ts";
export * from "./domain_control.ts";
export * from "./xenstore_guest.ts";
