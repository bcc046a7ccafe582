/**
 * The control domain's services: xenstored, Xen's configuration database, speaking
 * `io/xs_wire.h` to host tools on a Unix socket and to guests on their xenstore ring pages; the
 * device supervisor, which runs every backend device in its own restricted worker; and the `xl`
 * toolstack — its xl.cfg config format, the toolstack that owns the pCPU and applies each
 * domain's shutdown policy, the daemon's control protocol on a Unix socket, and the `xl` command
 * line (`deno task xl`).
 *
 * - {@link Xenstored}: the daemon (store, permissions, quotas, watches, transactions, domains).
 * - {@link serveUnixSocket}: the socket transport (Debian's `xenstore-*` tools work against it
 *   with `XENSTORED_PATH` pointing at the socket).
 * - {@link RingServer}, {@link RingBinder}: the guest ring transport the hypervisor plugs in.
 * - {@link LocalClient}: an in-process dom0 client.
 * - {@link parseConfig}, {@link loadConfig}, {@link ConfigError}: xl.cfg files.
 * - {@link Toolstack}: domains created from configs on a pCPU, console history, policy.
 * - {@link ToolstackServer}, {@link XlClient}: the toolstack daemon's protocol, both sides.
 * - {@link formatList}, {@link formatSchedCredit}, {@link formatInfo}: Xen's output formats.
 * - {@link DeviceSupervisor}: backend devices in workers with their own permissions — block
 *   (`xl block-attach/detach/list`, {@link parseDiskSpec}) and the console ring — with the xenbus
 *   handshake, a heartbeat watchdog and restarts.
 *
 * ```ts
 * import { LocalClient, Xenstored } from "@paravirt/dom0";
 * const xenstored = new Xenstored();
 * const client = new LocalClient(xenstored);
 * client.write("/local/domain/1/name", "guest");
 * console.log(client.read("/local/domain/1/name")); // "guest"
 * ```
 *
 * ```ts ignore
 * import { loadConfig, Toolstack } from "@paravirt/dom0";
 * const { config, kernel } = await loadConfig("guest.cfg");
 * const toolstack = new Toolstack();
 * const domain = await toolstack.create(config, kernel);
 * console.log(domain.id, domain.state);
 * await toolstack.close();
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
export * from "./xenstore_domain.ts";
export * from "./xl/config_syntax.ts";
export * from "./xl/config.ts";
export * from "./xl/toolstack.ts";
export * from "./xl/protocol.ts";
export * from "./xl/server.ts";
export * from "./xl/client.ts";
export * from "./xl/format.ts";
export * from "./xl/socket_path.ts";
export * from "./xl/daemon_start.ts";
export * from "./devices/disk_spec.ts";
export * from "./devices/vdev.ts";
export * from "./devices/backend_worker.ts";
export * from "./devices/vbd.ts";
export * from "./devices/console_device.ts";
export * from "./devices/supervisor.ts";
