/**
 * The network backend's limits, one commented constant each (xv6's `param.h`). Every limit a
 * frontend, a netback worker or a configuration could push on is here, so the defences are in
 * one place.
 *
 * @module
 */

/** Bytes of an Ethernet header (destination, source, ethertype). */
export const ETH_HLEN = 14;
/** Largest frame the backend carries: a tx request's 16-bit `size` cannot say more. */
export const NET_MAX_FRAME = 0xffff;
/** Default MTU of a vif (the frame cap is MTU + header + one VLAN tag unless configured). */
export const NET_DEFAULT_MTU = 1500;
/**
 * A packet spanning more tx slots than this is dropped with `NETIF_RSP_ERROR` (Xen's
 * `XEN_NETIF_NR_SLOTS_MIN`: any valid packet fits in 18 slots).
 */
export const NET_MAX_TX_SLOTS = 18;
/**
 * A packet claiming this many slots or more (fragments plus extra info) is a broken or hostile
 * frontend: the vif is disconnected (Xen's `fatal_skb_slots`, raised to cover extra info).
 */
export const NET_FATAL_TX_SLOTS = 64;
/**
 * A frame waiting this long (ms) for the guest to post enough receive buffers is dropped, so a
 * guest that stops receiving cannot wedge its queue (Linux netback's `rx_drain_timeout`).
 */
export const NET_RX_STALL_MS = 2000;
/** Packets (tx) or frames (rx) a netback handles per ring before it publishes and notifies. */
export const NET_BATCH = 64;
/** Bytes of each direction of a netback ↔ bridge frame queue by default (a power of two). */
export const NET_QUEUE_BYTES = 1 << 20;
/** Smallest frame queue (must hold the largest frame plus its record header). */
export const NET_QUEUE_MIN_BYTES = 1 << 17;
/** Frames the bridge takes from one port before it serves the next (fairness). */
export const BRIDGE_PORT_BUDGET = 64;
/** Ports a bridge may have. */
export const BRIDGE_MAX_PORTS = 256;
/** MAC addresses a bridge learns at most (a flood of fake sources cannot grow it further). */
export const BRIDGE_MAC_TABLE_SIZE = 4096;
/** How long a learned MAC address stays valid without traffic, in ms (Linux bridge: 300 s). */
export const BRIDGE_MAC_AGE_MS = 300_000;
/** How long a sleeping worker waits before it looks again even without a notification, in ms. */
export const NET_IDLE_POLL_MS = 20;
/** Alerts an intrusion detector keeps (the oldest are forgotten; counters keep counting). */
export const IDS_MAX_ALERTS = 256;
/** Sources the port-scan heuristic tracks at once. */
export const IDS_MAX_SOURCES = 4096;
