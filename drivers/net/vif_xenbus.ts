/**
 * The xenbus side of a vif: where its two xenstore directories are, what the toolstack writes
 * there, what the backend advertises, and how the frontend's connection details are read and
 * checked — Xen's keys (`io/netif.h`, `io/xenbus.h`), as small functions over any store that
 * reads and writes paths (dom0's `LocalClient` is one).
 *
 * ```text
 * /local/domain/<domid>/device/vif/<devid>/          (frontend; owned by the guest, backend reads)
 *   backend, backend-id, handle, mac, state           written by the toolstack
 *   tx-ring-ref, rx-ring-ref, event-channel           written by the frontend
 *     (or event-channel-tx + event-channel-rx), request-rx-copy, feature-sg,
 *     feature-rx-notify, state
 * /local/domain/0/backend/vif/<domid>/<devid>/       (backend; owned by dom0, guest reads)
 *   frontend, frontend-id, online, handle, mac,       written by the toolstack
 *   bridge, state
 *   feature-sg, feature-rx-copy, feature-rx-flip,     advertised by the backend
 *   feature-gso-tcpv4, feature-split-event-channels,
 *   feature-multicast-control, state
 * ```
 *
 * Rules of use: values written by the frontend are untrusted text; {@link readVifFrontend}
 * parses them strictly and throws {@link VifHandshakeError} naming the key and the bad value.
 *
 * @module
 */

import {
  NETIF_DEVICE_TYPE,
  NETIF_KEY_BRIDGE,
  NETIF_KEY_EVENT_CHANNEL,
  NETIF_KEY_EVENT_CHANNEL_RX,
  NETIF_KEY_EVENT_CHANNEL_TX,
  NETIF_KEY_FEATURE_GSO_TCPV4,
  NETIF_KEY_FEATURE_MULTICAST_CONTROL,
  NETIF_KEY_FEATURE_RX_COPY,
  NETIF_KEY_FEATURE_RX_FLIP,
  NETIF_KEY_FEATURE_RX_NOTIFY,
  NETIF_KEY_FEATURE_SG,
  NETIF_KEY_FEATURE_SPLIT_EVENT_CHANNELS,
  NETIF_KEY_HANDLE,
  NETIF_KEY_MAC,
  NETIF_KEY_MULTI_QUEUE_NUM_QUEUES,
  NETIF_KEY_REQUEST_RX_COPY,
  NETIF_KEY_RX_RING_REF,
  NETIF_KEY_TX_RING_REF,
  XenbusStateInitialising,
  XenbusStateInitWait,
} from "@paravirt/public";
import { formatMac, parseMac } from "./ethernet.ts";

/** The xenstore operations a vif's handshake needs (dom0's `LocalClient` has them). */
export interface VifStore {
  /** Reads a node; throws if it does not exist. */
  read(path: string): string;
  /** Writes a node (creating its parents). */
  write(path: string, value: string): void;
  /** Makes sure a node exists. */
  mkdir(path: string): void;
  /** Removes a node and its children. */
  rm(path: string): void;
  /** Sets a node's permissions (Xen's `n0`, `r5`, ... strings). */
  setPerms(path: string, perms: readonly string[]): void;
}

/** A handshake value the frontend wrote is missing or malformed. */
export class VifHandshakeError extends RangeError {
  /** Creates the error naming the key (and its value). */
  constructor(message: string) {
    super(message);
    this.name = "VifHandshakeError";
  }
}

/** The two directories of a vif. */
export interface VifPaths {
  /** The backend directory (`/local/domain/0/backend/vif/<domid>/<devid>`). */
  readonly backend: string;
  /** The frontend directory (`/local/domain/<domid>/device/vif/<devid>`). */
  readonly frontend: string;
}

/** Where vif `devid` of domain `domid` lives in xenstore. */
export function vifPaths(domid: number, devid: number, backendDomid = 0): VifPaths {
  for (const [what, n] of [["domid", domid], ["devid", devid], ["backend", backendDomid]]) {
    if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > 0xffff) {
      throw new RangeError(`Vif ${what} ${JSON.stringify(n)} is not 0..65535`);
    }
  }
  return {
    backend: `/local/domain/${backendDomid}/backend/${NETIF_DEVICE_TYPE}/${domid}/${devid}`,
    frontend: `/local/domain/${domid}/device/${NETIF_DEVICE_TYPE}/${devid}`,
  };
}

/** A vif as the toolstack configures it. */
export interface VifNodesConfig {
  /** The guest. */
  readonly domid: number;
  /** The device id (the `handle`). */
  readonly devid: number;
  /** The interface's MAC address. */
  readonly mac: string;
  /** The bridge it attaches to. */
  readonly bridge: string;
  /** The backend domain (default 0). */
  readonly backendDomid?: number;
}

/**
 * The toolstack's part (libxl's): writes both directories, each owned by its end and readable
 * by the other, with both states Initialising. Returns the paths.
 */
export function createVifNodes(store: VifStore, config: VifNodesConfig): VifPaths {
  const back = config.backendDomid ?? 0;
  const paths = vifPaths(config.domid, config.devid, back);
  const mac = formatMac(parseMac(config.mac));
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(config.bridge)) {
    throw new RangeError(
      `Bridge name ${JSON.stringify(config.bridge)} is not 1-64 of [A-Za-z0-9._-]`,
    );
  }
  const f = paths.frontend;
  store.mkdir(f);
  store.setPerms(f, [`n${config.domid}`, `r${back}`]);
  store.write(`${f}/backend`, paths.backend);
  store.write(`${f}/backend-id`, String(back));
  store.write(`${f}/${NETIF_KEY_HANDLE}`, String(config.devid));
  store.write(`${f}/${NETIF_KEY_MAC}`, mac);
  store.write(`${f}/state`, String(XenbusStateInitialising));
  const b = paths.backend;
  store.mkdir(b);
  store.setPerms(b, [`n${back}`, `r${config.domid}`]);
  store.write(`${b}/frontend`, f);
  store.write(`${b}/frontend-id`, String(config.domid));
  store.write(`${b}/online`, "1");
  store.write(`${b}/${NETIF_KEY_HANDLE}`, String(config.devid));
  store.write(`${b}/${NETIF_KEY_MAC}`, mac);
  store.write(`${b}/${NETIF_KEY_BRIDGE}`, config.bridge);
  store.write(`${b}/state`, String(XenbusStateInitialising));
  return paths;
}

/** Removes both directories (the toolstack's part of detaching). */
export function removeVifNodes(store: VifStore, paths: VifPaths): void {
  for (const path of [paths.frontend, paths.backend]) {
    try {
      store.rm(path);
    } catch {
      // already gone
    }
  }
}

/**
 * The backend's probe: advertises what this netback does (copying receive, scatter-gather,
 * split event channels; no GSO, no page flipping, no multicast control, one queue) and moves
 * the backend to InitWait.
 */
export function advertiseVifBackend(store: VifStore, paths: VifPaths): void {
  const b = paths.backend;
  store.write(`${b}/${NETIF_KEY_FEATURE_SG}`, "1");
  store.write(`${b}/${NETIF_KEY_FEATURE_RX_COPY}`, "1");
  store.write(`${b}/${NETIF_KEY_FEATURE_RX_FLIP}`, "0");
  store.write(`${b}/${NETIF_KEY_FEATURE_GSO_TCPV4}`, "0");
  store.write(`${b}/${NETIF_KEY_FEATURE_SPLIT_EVENT_CHANNELS}`, "1");
  store.write(`${b}/${NETIF_KEY_FEATURE_MULTICAST_CONTROL}`, "0");
  store.write(`${b}/state`, String(XenbusStateInitWait));
}

/** Reads a node, or undefined if it does not exist. */
export function tryRead(store: VifStore, path: string): string | undefined {
  try {
    return store.read(path);
  } catch {
    return undefined;
  }
}

/** A xenbus state node's value (0, Unknown, if absent or not a state). */
export function readXenbusState(store: VifStore, path: string): number {
  const text = tryRead(store, path);
  return text !== undefined && /^[0-8]$/.test(text) ? Number(text) : 0;
}

/** What the frontend published to connect. */
export interface VifFrontendConfig {
  /** `tx-ring-ref`. */
  readonly txRingRef: number;
  /** `rx-ring-ref`. */
  readonly rxRingRef: number;
  /** The tx event channel (the frontend's port). */
  readonly eventChannelTx: number;
  /** The rx event channel (the same port without split channels). */
  readonly eventChannelRx: number;
  /** Whether the frontend uses one channel per ring. */
  readonly split: boolean;
  /** `feature-sg`. */
  readonly sg: boolean;
  /** `feature-rx-notify`. */
  readonly rxNotify: boolean;
}

function number(store: VifStore, dir: string, key: string, max: number): number {
  const text = tryRead(store, `${dir}/${key}`);
  if (text === undefined) throw new VifHandshakeError(`Frontend key ${key} is missing`);
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) > max) {
    throw new VifHandshakeError(`Frontend key ${key} = ${JSON.stringify(text)} is not a number`);
  }
  return Number(text);
}

function flag(store: VifStore, dir: string, key: string): boolean {
  const text = tryRead(store, `${dir}/${key}`);
  if (text === undefined || text === "0") return false;
  if (text === "1") return true;
  throw new VifHandshakeError(`Frontend key ${key} = ${JSON.stringify(text)} is not 0 or 1`);
}

/** Reads and checks the frontend's connection keys. Throws {@link VifHandshakeError}. */
export function readVifFrontend(store: VifStore, paths: VifPaths): VifFrontendConfig {
  const f = paths.frontend;
  const queues = tryRead(store, `${f}/${NETIF_KEY_MULTI_QUEUE_NUM_QUEUES}`);
  if (queues !== undefined && queues !== "1") {
    throw new VifHandshakeError(
      `Frontend key ${NETIF_KEY_MULTI_QUEUE_NUM_QUEUES} = ${
        JSON.stringify(queues)
      }: one queue only`,
    );
  }
  if (!flag(store, f, NETIF_KEY_REQUEST_RX_COPY)) {
    throw new VifHandshakeError(
      `Frontend key ${NETIF_KEY_REQUEST_RX_COPY} is not 1: this backend only copies`,
    );
  }
  const txRingRef = number(store, f, NETIF_KEY_TX_RING_REF, 0xffff_ffff);
  const rxRingRef = number(store, f, NETIF_KEY_RX_RING_REF, 0xffff_ffff);
  const split = tryRead(store, `${f}/${NETIF_KEY_EVENT_CHANNEL_TX}`) !== undefined;
  const eventChannelTx = number(
    store,
    f,
    split ? NETIF_KEY_EVENT_CHANNEL_TX : NETIF_KEY_EVENT_CHANNEL,
    0xffff_ffff,
  );
  const eventChannelRx = split
    ? number(store, f, NETIF_KEY_EVENT_CHANNEL_RX, 0xffff_ffff)
    : eventChannelTx;
  return {
    txRingRef,
    rxRingRef,
    eventChannelTx,
    eventChannelRx,
    split,
    sg: flag(store, f, NETIF_KEY_FEATURE_SG),
    rxNotify: flag(store, f, NETIF_KEY_FEATURE_RX_NOTIFY),
  };
}

/** Writes what a connected frontend writes (for TypeScript frontends and tests). */
export function publishVifFrontend(
  store: VifStore,
  paths: VifPaths,
  config: VifFrontendConfig,
): void {
  const f = paths.frontend;
  store.write(`${f}/${NETIF_KEY_TX_RING_REF}`, String(config.txRingRef));
  store.write(`${f}/${NETIF_KEY_RX_RING_REF}`, String(config.rxRingRef));
  if (config.split) {
    store.write(`${f}/${NETIF_KEY_EVENT_CHANNEL_TX}`, String(config.eventChannelTx));
    store.write(`${f}/${NETIF_KEY_EVENT_CHANNEL_RX}`, String(config.eventChannelRx));
  } else {
    store.write(`${f}/${NETIF_KEY_EVENT_CHANNEL}`, String(config.eventChannelTx));
  }
  store.write(`${f}/${NETIF_KEY_REQUEST_RX_COPY}`, "1");
  store.write(`${f}/${NETIF_KEY_FEATURE_SG}`, config.sg ? "1" : "0");
  store.write(`${f}/${NETIF_KEY_FEATURE_RX_NOTIFY}`, config.rxNotify ? "1" : "0");
}
