/**
 * The xenstore wire protocol (`io/xs_wire.h`): message types, the message header, the error
 * names carried in `XS_ERROR` replies, and the shared ring page a guest talks to xenstored
 * through (`struct xenstore_domain_interface`).
 *
 * Rules of use: every message, on a Unix socket or on a guest ring, is a 16-byte
 * {@link XSD_SOCKMSG} header (little-endian 32-bit words on our machines) followed by `len`
 * payload bytes, `len` at most {@link XENSTORE_PAYLOAD_MAX}. Payloads are NUL-terminated strings
 * except a `XS_WRITE` value and a `XS_READ` reply, which are raw bytes. Errors travel as the
 * errno *name* (`"ENOENT"`), never a number, so both sides may have different errno tables; the
 * names a server may send are {@link XSD_ERRORS}.
 *
 * The ring page holds two byte rings of {@link XENSTORE_RING_SIZE} with free-running 32-bit
 * indices: the guest produces requests (`req_prod`) and xenstored consumes them (`req_cons`);
 * xenstored produces replies and watch events (`rsp_prod`) and the guest consumes them
 * (`rsp_cons`). An index is masked with `XENSTORE_RING_SIZE - 1` to find its byte; a producer
 * must never run more than `XENSTORE_RING_SIZE` bytes ahead of its consumer.
 *
 * @module
 */

import { type Struct, struct } from "./struct.ts";

/** Control command (`<command>|<args>|*`); named `XS_DEBUG` in older headers. */
export const XS_CONTROL = 0;
/** Old name of {@link XS_CONTROL}. */
export const XS_DEBUG = 0;
/** List a node's children: `<path>|` → `<name>|*`. */
export const XS_DIRECTORY = 1;
/** Read a node's value: `<path>|` → `<value>` (no NUL). */
export const XS_READ = 2;
/** Read a node's permissions: `<path>|` → `<perm>|+`. */
export const XS_GET_PERMS = 3;
/** Add a watch: `<path>|<token>|`. Fires once at once, then on every change at or below. */
export const XS_WATCH = 4;
/** Remove a watch: `<path>|<token>|`. */
export const XS_UNWATCH = 5;
/** Start a transaction: `|` → `<tx id>|` (decimal). */
export const XS_TRANSACTION_START = 6;
/** End the transaction named in the header's tx_id: `T|` commits, `F|` discards. */
export const XS_TRANSACTION_END = 7;
/** Tell xenstored about a domain's ring: `<domid>|<mfn>|<port>|` (control domain only). */
export const XS_INTRODUCE = 8;
/** Forget a domain: `<domid>|` (control domain only). */
export const XS_RELEASE = 9;
/** A domain's home path: `<domid>|` → `/local/domain/<domid>|`. */
export const XS_GET_DOMAIN_PATH = 10;
/** Write a node's value: `<path>|<value>` (raw bytes to the end), creating missing parents. */
export const XS_WRITE = 11;
/** Make sure a node exists: `<path>|`. */
export const XS_MKDIR = 12;
/** Remove a node and everything below it: `<path>|`. */
export const XS_RM = 13;
/** Set a node's permissions: `<path>|<perm>|+`. */
export const XS_SET_PERMS = 14;
/** Unsolicited watch event from xenstored: `<path>|<token>|`, req_id and tx_id 0. */
export const XS_WATCH_EVENT = 15;
/** Error reply: `<errno name>|`. */
export const XS_ERROR = 16;
/** Is a domain introduced: `<domid>|` → `T|` or `F|`. */
export const XS_IS_DOMAIN_INTRODUCED = 17;
/** Re-arm `@releaseDomain` for a domain: `<domid>|` (control domain only). */
export const XS_RESUME = 18;
/** Let a domain act for another: `<domid>|<target domid>|` (control domain only). */
export const XS_SET_TARGET = 19;
/** Drop all watches and transactions of the caller: `|`. (20 was XS_RESTRICT, removed.) */
export const XS_RESET_WATCHES = 21;
/** A slice of a long directory: `<path>|<offset>|` → `<generation>|<name>|*`, `|` at the end. */
export const XS_DIRECTORY_PART = 22;
/** Number of message types defined. */
export const XS_TYPE_COUNT = 23;
/** A type guaranteed never to be valid. */
export const XS_INVALID = 0xffff;

/** Old write flag (of clients before transactions carried them): none. */
export const XS_WRITE_NONE = "NONE";
/** Old write flag: create. */
export const XS_WRITE_CREATE = "CREATE";
/** Old write flag: create, fail if it exists. */
export const XS_WRITE_CREATE_EXCL = "CREATE|EXCL";

/**
 * The errno names xenstored may send in an `XS_ERROR` reply, in the header's table order (new
 * ones are only ever appended). A server maps any other error to the first, `EINVAL`.
 */
export const XSD_ERRORS: readonly XsdErrorName[] = [
  "EINVAL",
  "EACCES",
  "EEXIST",
  "EISDIR",
  "ENOENT",
  "ENOMEM",
  "ENOSPC",
  "EIO",
  "ENOTEMPTY",
  "ENOSYS",
  "EROFS",
  "EBUSY",
  "EAGAIN",
  "EISCONN",
  "E2BIG",
  "EPERM",
];

/** One of the {@link XSD_ERRORS} names. */
export type XsdErrorName =
  | "EINVAL"
  | "EACCES"
  | "EEXIST"
  | "EISDIR"
  | "ENOENT"
  | "ENOMEM"
  | "ENOSPC"
  | "EIO"
  | "ENOTEMPTY"
  | "ENOSYS"
  | "EROFS"
  | "EBUSY"
  | "EAGAIN"
  | "EISCONN"
  | "E2BIG"
  | "EPERM";

/** Index of the path string in a watch event payload. */
export const XS_WATCH_PATH = 0;
/** Index of the token string in a watch event payload. */
export const XS_WATCH_TOKEN = 1;

/** `struct xsd_sockmsg`: the 16-byte header of every message. */
export const XSD_SOCKMSG: Struct<"type" | "req_id" | "tx_id" | "len"> = struct(
  "xsd_sockmsg",
  "xenstore message header, followed by len payload bytes",
  [
    ["type", "u32", 1, "XS_*"],
    ["req_id", "u32", 1, "request id, echoed in the reply"],
    ["tx_id", "u32", 1, "transaction id, 0 outside a transaction"],
    ["len", "u32", 1, "payload bytes that follow (at most XENSTORE_PAYLOAD_MAX)"],
  ],
);

/** Bytes in each of the two rings of the xenstore page. */
export const XENSTORE_RING_SIZE = 1024;
/** Largest payload of one message, in either direction; a client exceeding it is dropped. */
export const XENSTORE_PAYLOAD_MAX = 4096;
/** Longest absolute path accepted. */
export const XENSTORE_ABS_PATH_MAX = 3072;
/** Longest relative path a client should send. */
export const XENSTORE_REL_PATH_MAX = 2048;

/** Server feature bit: the guest may ask for its ring to be reset (`connection` field). */
export const XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
/** Server feature bit: the server reports ring errors in the `error` field. */
export const XENSTORE_SERVER_FEATURE_ERROR = 2;

/** `connection` value: the steady state. */
export const XENSTORE_CONNECTED = 0;
/** `connection` value written by the guest: reset the ring; the server writes CONNECTED back. */
export const XENSTORE_RECONNECT = 1;

/** `error` value: no error. */
export const XENSTORE_ERROR_NONE = 0;
/** `error` value: communication problem. */
export const XENSTORE_ERROR_COMM = 1;
/** `error` value: an index is invalid (a producer ran more than a ring ahead). */
export const XENSTORE_ERROR_RINGIDX = 2;
/** `error` value: protocol violation (a payload longer than XENSTORE_PAYLOAD_MAX). */
export const XENSTORE_ERROR_PROTO = 3;

/** `struct xenstore_domain_interface`: the xenstore ring page (the first 2076 bytes of it). */
export const XENSTORE_DOMAIN_INTERFACE: Struct<
  | "req"
  | "rsp"
  | "req_cons"
  | "req_prod"
  | "rsp_cons"
  | "rsp_prod"
  | "server_features"
  | "connection"
  | "error"
> = struct("xenstore_domain_interface", "the xenstore ring page", [
  ["req", "u8", XENSTORE_RING_SIZE, "requests to xenstored"],
  ["rsp", "u8", XENSTORE_RING_SIZE, "replies and watch events"],
  ["req_cons", "u32", 1, "written by xenstored"],
  ["req_prod", "u32", 1, "written by the guest"],
  ["rsp_cons", "u32", 1, "written by the guest"],
  ["rsp_prod", "u32", 1, "written by xenstored"],
  ["server_features", "u32", 1, "XENSTORE_SERVER_FEATURE_* bits, written by xenstored"],
  ["connection", "u32", 1, "XENSTORE_CONNECTED or XENSTORE_RECONNECT"],
  ["error", "u32", 1, "XENSTORE_ERROR_*, written by xenstored"],
]);
