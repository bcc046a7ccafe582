/**
 * The messages between the device supervisor (main thread) and the network workers: a netback
 * worker per vif (`netback_worker.ts`), a bridge worker per bridge (`bridge_worker.ts`), and a
 * host-socket port worker (`host_port_worker.ts`). Everything in them is structured-cloneable;
 * shared memory travels as SharedArrayBuffers (the guest's region, doorbells, frame queues).
 *
 * Rules of use: the supervisor sends one `start` first; the worker answers `ready` (or `error`
 * with a message, and then does nothing). Requests carrying an `id` are answered by a `reply`
 * with the same id. Unsolicited reports (`disconnected`, `alerts`, `port-error`) may come at any
 * time after `ready`. `stop` is answered by `stopped`, after which the worker may be terminated.
 *
 * @module
 */

import type { GrantSource } from "../grant_mapper.ts";
import type { BridgeState } from "./bridge.ts";
import type { FilterAlert } from "./filter.ts";
import type { FilterSpec } from "./filter_loader.ts";
import type { MacTableOptions } from "./mac_table.ts";
import type { BellHandle, PortLinkHandle } from "./port_link.ts";

/** What a netback worker needs to serve one vif. */
export interface NetbackConfig {
  /** The frontend domain's memory (the fields of its foreign view a backend uses). */
  readonly source: GrantSource;
  /** The doorbell carrying the vif's event channels (and the bridge's bell). */
  readonly doorbell: SharedArrayBuffer;
  /** The pCPU's wake word (kicks bump it). */
  readonly wake: SharedArrayBuffer;
  /** Doorbell slot of the tx event channel. */
  readonly txSlot: number;
  /** Doorbell slot of the rx event channel (= `txSlot` with one channel). */
  readonly rxSlot: number;
  /** `tx-ring-ref`. */
  readonly txRingRef: number;
  /** `rx-ring-ref`. */
  readonly rxRingRef: number;
  /** The link to the bridge. */
  readonly link: PortLinkHandle;
  /** The frontend's `feature-sg`. */
  readonly sg: boolean;
  /** Largest frame the guest may send (default: the link's cap). */
  readonly maxFrame?: number;
  /** The worker's mapping ledger (the launcher makes one when absent). */
  readonly ledger?: SharedArrayBuffer;
}

/** What a bridge worker starts with. */
export interface BridgeConfig {
  /** The bridge's name. */
  readonly name: string;
  /** The bell its ports ring. */
  readonly bell: BellHandle;
  /** Its filter chain, in order. */
  readonly filters?: readonly FilterSpec[];
  /** Where relative filter module specifiers are resolved from (a file URL). */
  readonly filterBase?: string;
  /** MAC table capacity and aging. */
  readonly macTable?: MacTableOptions;
  /** State saved by an earlier bridge (applied after `attach`es as ports appear). */
  readonly state?: BridgeState;
}

/** What a host-socket port worker starts with. */
export interface HostPortConfig {
  /** The link to the bridge. */
  readonly link: PortLinkHandle;
  /** The doorbell it waits on (the link's port bell). */
  readonly doorbell: SharedArrayBuffer;
  /** Local UDP address to bind (loopback only). */
  readonly bind: { readonly hostname: string; readonly port: number };
  /** The UDP peer frames go to and come from (loopback only). */
  readonly peer: { readonly hostname: string; readonly port: number };
}

/** Supervisor → worker. */
export type WorkerRequest =
  | { readonly type: "start"; readonly config: NetbackConfig | BridgeConfig | HostPortConfig }
  | { readonly type: "metrics"; readonly id: number }
  | { readonly type: "ping"; readonly id: number }
  | { readonly type: "save"; readonly id: number }
  | {
    readonly type: "attach";
    readonly id: number;
    readonly name: string;
    readonly link: PortLinkHandle;
  }
  | { readonly type: "detach"; readonly id: number; readonly name: string }
  | { readonly type: "stop" };

/** Worker → supervisor. */
export type WorkerReply =
  | { readonly type: "ready" }
  | { readonly type: "error"; readonly message: string }
  | {
    readonly type: "reply";
    readonly id: number;
    readonly ok: boolean;
    readonly value?: unknown;
    readonly error?: string;
  }
  | { readonly type: "disconnected"; readonly reason: string }
  | { readonly type: "alerts"; readonly alerts: readonly FilterAlert[] }
  | { readonly type: "port-error"; readonly port: string; readonly reason: string }
  | { readonly type: "stopped" };

/** Deno's per-worker permission set (`deno.permissions` of the Worker options). */
export type WorkerPermissions =
  | "none"
  | {
    readonly read?: false | readonly string[];
    readonly write?: false | readonly string[];
    readonly net?: false | readonly string[];
    readonly env?: false;
    readonly run?: false;
    readonly ffi?: false;
    readonly sys?: false;
  };
