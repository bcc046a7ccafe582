/**
 * Backend drivers and what they stand on. Backends run in workers and reach a frontend's memory
 * only through the backend end of Xen's shared rings ({@link BackRing}) and grant access with
 * Xen's checks ({@link GrantMapper}).
 *
 * - Block: {@link Blkback}, the protocol engine of `io/blkif.h`, over any {@link BlockBackend}
 *   (the interface a `backend=` module implements; built in: {@link FileBackend},
 *   {@link MemoryBackend}, {@link OverlayBackend}; every one runs
 *   {@link blockBackendConformance}); {@link BlockFrontRing}, the frontend end in TypeScript, for
 *   tests and benchmarks.
 * - Console: {@link ConsoleBack}, the backend of a domain's `io/console.h` page.
 * - Workers: {@link blockWorkerUrl} and {@link CONSOLE_WORKER_URL}, spoken to with the
 *   requests of {@link BackendRequest} ({@link serveWorker} on the worker side).
 *
 * - Network (`net/`): {@link Netback}, the learning {@link Bridge} with its {@link FilterChain},
 *   their workers and the vif's xenbus handshake ({@link VifBackend}).
 *
 * ```ts
 * import { BUILTIN_BLOCK_BACKENDS } from "@paravirt/drivers";
 * console.log(Object.keys(BUILTIN_BLOCK_BACKENDS)); // ["file", "memory", "overlay"]
 * ```
 *
 * @module
 */

export * from "./ring.ts";
export * from "./grant_mapper.ts";
export * from "./worker_protocol.ts";
export * from "./workers.ts";
export * from "./block/backend.ts";
export * from "./block/conformance.ts";
export { FileBackend } from "./block/file_backend.ts";
export { MemoryBackend } from "./block/memory_backend.ts";
export { OverlayBackend } from "./block/overlay_backend.ts";
export * from "./block/blkback.ts";
export * from "./block/front_ring.ts";
export type * from "./block/messages.ts";
export * from "./console/console_back.ts";
export type { ConsoleConnectArgs } from "./console/messages.ts";
export * from "./net/mod.ts";
