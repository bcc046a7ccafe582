/**
 * The control domain's services. Today: the `xl` toolstack — its xl.cfg config format, the
 * toolstack that owns the pCPU and applies each domain's shutdown policy, the daemon's control
 * protocol on a Unix socket, and the `xl` command line (`deno task xl`).
 *
 * - {@link parseConfig}, {@link loadConfig}, {@link ConfigError}: xl.cfg files.
 * - {@link Toolstack}: domains created from configs on a {@link Pcpu}, console history, policy.
 * - {@link ToolstackServer}, {@link XlClient}: the daemon's socket protocol, both sides.
 * - {@link formatList}, {@link formatSchedCredit}, {@link formatInfo}: Xen's output formats.
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

export * from "./xl/config_syntax.ts";
export * from "./xl/config.ts";
export * from "./xl/toolstack.ts";
export * from "./xl/protocol.ts";
export * from "./xl/server.ts";
export * from "./xl/client.ts";
export * from "./xl/format.ts";
export * from "./xl/socket_path.ts";
export * from "./xl/daemon_start.ts";
export type { Pcpu } from "@paravirt/hypervisor";
