/**
 * The requests the device supervisor sends a block worker (`blkback_worker.ts`), and what they
 * answer. In order: `open` once (the backend module opens the disk), then `connect`/`disconnect`
 * for each connection of the frontend, `metrics` any time, `close` at the end.
 *
 * Events the worker sends on its own: `retain` (a SharedArrayBuffer to keep for the next instance
 * of this disk), `fatal` (the backend failed in a way that is not an I/O error: restart me),
 * `ring-error` (the frontend's ring is beyond repair: disconnect it).
 *
 * @module
 */

import type { GrantSource } from "../grant_mapper.ts";
import type { BlockInfo } from "./backend.ts";
import type { BlkbackMetrics } from "./blkback.ts";

/** Arguments of `open`. */
export interface BlockOpenArgs {
  /** The backend module's specifier (for messages: the worker was built around it). */
  readonly backend: string;
  /** The disk line's target as an absolute path. */
  readonly target?: string;
  /** Whether the disk is read-only. */
  readonly readOnly: boolean;
  /** The disk line's other parameters. */
  readonly params: Readonly<Record<string, string>>;
  /** Buffers earlier instances retained. */
  readonly retained: readonly SharedArrayBuffer[];
  /** The heartbeat word. */
  readonly heartbeat: SharedArrayBuffer;
}

/** Arguments of `connect`. */
export interface BlockConnectArgs {
  /** The frontend's memory. */
  readonly source: GrantSource;
  /** Grant of the ring page. */
  readonly ringRef: number;
  /** The doorbell's buffer. */
  readonly doorbell: SharedArrayBuffer;
  /** The hypervisor's wake word. */
  readonly wake: SharedArrayBuffer;
  /** The doorbell slot of this device's port. */
  readonly slot: number;
  /** `feature-max-indirect-segments` as advertised. */
  readonly maxIndirectSegments: number;
  /** Whether both ends advertised `feature-persistent`. */
  readonly persistent: boolean;
}

/** What `open` answers. */
export type BlockOpenResult = BlockInfo;

/** What `metrics` answers (all zero before the first connection). */
export type BlockMetricsResult = BlkbackMetrics;
