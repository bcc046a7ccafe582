/**
 * The network backend: a netback per guest interface, a software L2 bridge with MAC learning,
 * and a chain of pluggable filters in the bridge's I/O path — each bridge and each netback in
 * its own worker, joined by shared-memory frame queues.
 *
 * ```text
 *  guest A netfront ─ tx/rx rings ─ netback worker ─┐ frame    ┌─ bridge worker ─┐
 *  guest B netfront ─ tx/rx rings ─ netback worker ─┼ queues ──┤ filters → learn ├─ ports
 *  host UDP socket ──────────────── host port worker┘          └─ → forward/flood┘
 * ```
 *
 * - Protocol engine: {@link Netback} (`io/netif.h` with Xen's checks), {@link TsNetfront} (a
 *   TypeScript frontend for tests and benchmarks).
 * - Bridge: {@link Bridge}, {@link MacTable}, frame queues ({@link FrameQueueWriter},
 *   {@link FrameQueueReader}) and port links ({@link createPortLink}).
 * - Filters: the {@link NetFilter} interface, {@link FilterChain}, {@link loadFilterChain}, the
 *   built-in {@link PacketFilter} and {@link IntrusionDetector}, and {@link filterConformance},
 *   the suite every filter runs.
 * - For the device supervisor: {@link NetbackWorker}, {@link BridgeWorker},
 *   {@link HostPortWorker} (workers with their permission sets), {@link VifBackend} (a vif's
 *   whole lifecycle) and the xenbus helpers of `vif_xenbus.ts`.
 *
 * @module
 */

export * from "./params.ts";
export * from "./ethernet.ts";
export * from "./frame_queue.ts";
export * from "./port_link.ts";
export * from "./mac_table.ts";
export * from "./filter.ts";
export * from "./filter_loader.ts";
export * from "./filter_conformance.ts";
// Each filter module also exports `createFilter` (the module contract); re-export by name.
export {
  createPacketFilter,
  PacketFilter,
  type PacketFilterOptions,
  type PacketRule,
  parseRule,
} from "./packet_filter.ts";
export {
  createIntrusionDetector,
  IntrusionDetector,
  type IntrusionDetectorOptions,
  type Signature,
} from "./intrusion_detector.ts";
export * from "./bridge.ts";
export * from "./netback.ts";
export * from "./mapping_ledger.ts";
export * from "./ts_netfront.ts";
export * from "./worker_protocol.ts";
export * from "./launch.ts";
export * from "./vif_xenbus.ts";
export * from "./vif_backend.ts";
