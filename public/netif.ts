/**
 * The network device protocol (`io/netif.h`): the request and response formats of a virtual
 * interface's two shared rings, their flags and status codes, and the xenstore keys of its xenbus
 * handshake.
 *
 * Rules of use:
 * - A vif has a transmit ring (frontend → backend frames) and a receive ring (backend → frontend
 *   frames), each one 4 KiB page granted by the frontend (`tx-ring-ref`, `rx-ring-ref`), and one
 *   event channel (`event-channel`) or, with `feature-split-event-channels`, one per ring
 *   (`event-channel-tx`, `event-channel-rx`). Both rings use `io/ring.h` headers; a tx slot is
 *   12 bytes (the request), an rx slot 8, so each ring holds {@link NETIF_TX_RING_SIZE} /
 *   {@link NETIF_RX_RING_SIZE} slots.
 * - Transmit: a packet is one {@link NETIF_TX_REQUEST} whose `size` is the *whole* packet's
 *   length, optionally followed by {@link NETIF_EXTRA_INFO} slots (when the first request has
 *   {@link NETTXF_extra_info}, and as long as each extra has {@link XEN_NETIF_EXTRA_FLAG_MORE}),
 *   then by one request per further fragment while the previous one has {@link NETTXF_more_data};
 *   a fragment's `size` is its own length, and the first fragment's length is the total minus the
 *   others'. Each request's data lies within its granted page (`offset + length <= 4096`). Every
 *   slot gets a {@link NETIF_TX_RESPONSE} with its request's `id`; extra-info slots get
 *   {@link NETIF_RSP_NULL}.
 * - Receive: the frontend posts {@link NETIF_RX_REQUEST}s, each naming an empty page; the backend
 *   copies a frame into one or more of them and answers each with a {@link NETIF_RX_RESPONSE} in
 *   the *same ring slot* as its request (Linux netfront relies on it), `status` = bytes placed
 *   (or a negative `NETIF_RSP_*`), {@link NETRXF_more_data} on all but the last.
 * - Layouts follow Xen's with the ARM/RISC-V rules; none of these has a 64-bit field.
 *
 * @module
 */

import { type Struct, struct } from "./struct.ts";

/** A frontend can send any valid packet in at most this many tx slots. */
export const XEN_NETIF_NR_SLOTS_MIN = 18;
/** Largest packet a tx request's 16-bit `size` can describe. */
export const XEN_NETIF_MAX_TX_SIZE = 0xffff;

/** Tx flag: the protocol checksum is blank (checksum offload). */
export const NETTXF_csum_blank = 1 << 0;
/** Tx flag: the packet's checksum has been validated. */
export const NETTXF_data_validated = 1 << 1;
/** Tx flag: the packet continues in the next request. */
export const NETTXF_more_data = 1 << 2;
/** Tx flag: extra-info slots follow this request. */
export const NETTXF_extra_info = 1 << 3;

/** Rx flag: the packet's checksum has been validated. */
export const NETRXF_data_validated = 1 << 0;
/** Rx flag: the protocol checksum is blank. */
export const NETRXF_csum_blank = 1 << 1;
/** Rx flag: the packet continues in the next response. */
export const NETRXF_more_data = 1 << 2;
/** Rx flag: extra-info slots follow this response. */
export const NETRXF_extra_info = 1 << 3;
/** Rx flag: a GSO prefix descriptor (legacy). */
export const NETRXF_gso_prefix = 1 << 4;

/** Response status: the packet was dropped (no room, or filtered). */
export const NETIF_RSP_DROPPED: number = -2;
/** Response status: the request was malformed or its grant unusable. */
export const NETIF_RSP_ERROR: number = -1;
/** Response status: done. */
export const NETIF_RSP_OKAY = 0;
/** Response status: no response (the slot held extra info). */
export const NETIF_RSP_NULL = 1;

/** Extra-info type: never used (invalid). */
export const XEN_NETIF_EXTRA_TYPE_NONE = 0;
/** Extra-info type: generic segmentation offload (`u.gso`). */
export const XEN_NETIF_EXTRA_TYPE_GSO = 1;
/** Extra-info type: add a multicast address (`u.mcast`). */
export const XEN_NETIF_EXTRA_TYPE_MCAST_ADD = 2;
/** Extra-info type: remove a multicast address (`u.mcast`). */
export const XEN_NETIF_EXTRA_TYPE_MCAST_DEL = 3;
/** Extra-info type: a hash value (`u.hash`). */
export const XEN_NETIF_EXTRA_TYPE_HASH = 4;
/** One past the last extra-info type. */
export const XEN_NETIF_EXTRA_TYPE_MAX = 5;
/** Extra-info flag: another extra-info slot follows. */
export const XEN_NETIF_EXTRA_FLAG_MORE = 1 << 0;

/** GSO type: none. */
export const XEN_NETIF_GSO_TYPE_NONE = 0;
/** GSO type: TCP over IPv4. */
export const XEN_NETIF_GSO_TYPE_TCPV4 = 1;
/** GSO type: TCP over IPv6. */
export const XEN_NETIF_GSO_TYPE_TCPV6 = 2;

/** `struct netif_tx_request`: 12 bytes, one tx ring slot. */
export const NETIF_TX_REQUEST: Struct<"gref" | "offset" | "flags" | "id" | "size"> = struct(
  "netif_tx_request",
  "a transmit request (one fragment of a packet)",
  [
    ["gref", "u32", 1, "grant of the page holding the data"],
    ["offset", "u16", 1, "byte offset of the data in that page"],
    ["flags", "u16", 1, "NETTXF_*"],
    ["id", "u16", 1, "echoed in the response"],
    ["size", "u16", 1, "first request: the packet's total length; others: the fragment's"],
  ],
);

/** `struct netif_tx_response`: 4 bytes (its slot is 12). */
export const NETIF_TX_RESPONSE: Struct<"id" | "status"> = struct(
  "netif_tx_response",
  "a transmit response",
  [
    ["id", "u16", 1, "the request's id"],
    ["status", "i16", 1, "NETIF_RSP_*"],
  ],
);

/** `struct netif_extra_info`: 8 bytes, in a tx slot after a request with extra info. */
export const NETIF_EXTRA_INFO: Struct<"type" | "flags" | "u"> = struct(
  "netif_extra_info",
  "an extra-info slot",
  [
    ["type", "u8", 1, "XEN_NETIF_EXTRA_TYPE_*"],
    ["flags", "u8", 1, "XEN_NETIF_EXTRA_FLAG_*"],
    [
      "u",
      "u16",
      3,
      "union: gso {u16 size; u8 type; u8 pad; u16 features}, mcast {u8 addr[6]}, " +
      "hash {u8 type; u8 algorithm; u8 value[4]}",
    ],
  ],
);

/** `struct netif_rx_request`: 8 bytes, one rx ring slot. */
export const NETIF_RX_REQUEST: Struct<"id" | "pad" | "gref"> = struct(
  "netif_rx_request",
  "a receive buffer posted by the frontend",
  [
    ["id", "u16", 1, "echoed in the response"],
    ["pad", "u16"],
    ["gref", "u32", 1, "grant of an empty page for the backend to fill"],
  ],
);

/** `struct netif_rx_response`: 8 bytes. */
export const NETIF_RX_RESPONSE: Struct<"id" | "offset" | "flags" | "status"> = struct(
  "netif_rx_response",
  "a received fragment",
  [
    ["id", "u16", 1, "the request's id"],
    ["offset", "u16", 1, "where in the page the data starts"],
    ["flags", "u16", 1, "NETRXF_*"],
    ["status", "i16", 1, "bytes received, or a negative NETIF_RSP_*"],
  ],
);

/** Bytes of a tx ring slot (a request; responses and extra info are smaller). */
export const NETIF_TX_SLOT_SIZE = 12;
/** Bytes of an rx ring slot. */
export const NETIF_RX_SLOT_SIZE = 8;
/** Slots of a one-page tx ring (`__CONST_RING_SIZE(netif_tx, 4096)`). */
export const NETIF_TX_RING_SIZE = 256;
/** Slots of a one-page rx ring (`__CONST_RING_SIZE(netif_rx, 4096)`). */
export const NETIF_RX_RING_SIZE = 256;

// ---- xenstore keys of the vif handshake ------------------------------------------------------
// Backend directory: /local/domain/0/backend/vif/<domid>/<devid>/
// Frontend directory: /local/domain/<domid>/device/vif/<devid>/

/** Xenbus device type of a network interface. */
export const NETIF_DEVICE_TYPE = "vif";
/** Both ends: the interface's MAC address, `aa:bb:cc:dd:ee:ff`. */
export const NETIF_KEY_MAC = "mac";
/** Both ends: the interface's handle (its device id). */
export const NETIF_KEY_HANDLE = "handle";
/** Backend: the bridge the interface is attached to. */
export const NETIF_KEY_BRIDGE = "bridge";
/** Backend: scatter-gather (multi-slot packets) supported, "0"/"1". */
export const NETIF_KEY_FEATURE_SG = "feature-sg";
/** Backend: receive by copy supported (the only mode here), "1". */
export const NETIF_KEY_FEATURE_RX_COPY = "feature-rx-copy";
/** Backend: receive by page flipping supported, "0". */
export const NETIF_KEY_FEATURE_RX_FLIP = "feature-rx-flip";
/** Backend: TCPv4 segmentation offload supported, "0"/"1". */
export const NETIF_KEY_FEATURE_GSO_TCPV4 = "feature-gso-tcpv4";
/** Backend: one event channel per ring supported, "0"/"1". */
export const NETIF_KEY_FEATURE_SPLIT_EVENT_CHANNELS = "feature-split-event-channels";
/** Backend: multicast control extra-info accepted, "0"/"1". */
export const NETIF_KEY_FEATURE_MULTICAST_CONTROL = "feature-multicast-control";
/** Backend: most queues a frontend may ask for. */
export const NETIF_KEY_MULTI_QUEUE_MAX_QUEUES = "multi-queue-max-queues";
/** Frontend: grant of the tx ring page. */
export const NETIF_KEY_TX_RING_REF = "tx-ring-ref";
/** Frontend: grant of the rx ring page. */
export const NETIF_KEY_RX_RING_REF = "rx-ring-ref";
/** Frontend: the one event channel (unbound, for the backend). */
export const NETIF_KEY_EVENT_CHANNEL = "event-channel";
/** Frontend: the tx ring's event channel (split event channels). */
export const NETIF_KEY_EVENT_CHANNEL_TX = "event-channel-tx";
/** Frontend: the rx ring's event channel (split event channels). */
export const NETIF_KEY_EVENT_CHANNEL_RX = "event-channel-rx";
/** Frontend: wants receive by copy, "1" (required here). */
export const NETIF_KEY_REQUEST_RX_COPY = "request-rx-copy";
/** Frontend: notifies when it posts rx buffers, "0"/"1". */
export const NETIF_KEY_FEATURE_RX_NOTIFY = "feature-rx-notify";
/** Frontend: checksum offload off, "0"/"1". */
export const NETIF_KEY_FEATURE_NO_CSUM_OFFLOAD = "feature-no-csum-offload";
/** Frontend: queues it uses (absent: one). */
export const NETIF_KEY_MULTI_QUEUE_NUM_QUEUES = "multi-queue-num-queues";
