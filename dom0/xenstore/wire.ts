/**
 * Encoding and decoding of xenstore messages (`io/xs_wire.h`): the 16-byte little-endian header
 * and the NUL-separated string payloads.
 *
 * Rules of use: strings cross the wire as bytes; this module maps each byte to one UTF-16 code
 * unit and back ("binary strings"), so a token or value survives byte for byte whatever it holds.
 * Paths are checked separately ({@link resolvePath}) and only ever hold ASCII.
 *
 * @module
 */

import { XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG } from "@paravirt/public";
import { XenstoreError } from "./errors.ts";

/** Size of the message header. */
export const HEADER_SIZE: number = XSD_SOCKMSG.size;

/** A decoded message header. */
export interface Header {
  /** `XS_*` type. */
  type: number;
  /** Request id, echoed in the reply. */
  reqId: number;
  /** Transaction id (0 outside a transaction). */
  txId: number;
  /** Payload length. */
  len: number;
}

/** A whole message. */
export interface Message extends Header {
  /** The payload (`len` bytes). */
  payload: Uint8Array;
}

/** Reads a header from the first 16 bytes of `bytes` (which must be at least that long). */
export function decodeHeader(bytes: Uint8Array): Header {
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  return {
    type: view.getUint32(XSD_SOCKMSG.offset.type, true),
    reqId: view.getUint32(XSD_SOCKMSG.offset.req_id, true),
    txId: view.getUint32(XSD_SOCKMSG.offset.tx_id, true),
    len: view.getUint32(XSD_SOCKMSG.offset.len, true),
  };
}

/** Builds a message. Throws RangeError if the payload exceeds XENSTORE_PAYLOAD_MAX. */
export function encodeMessage(
  type: number,
  reqId: number,
  txId: number,
  payload: Uint8Array,
): Uint8Array {
  if (payload.length > XENSTORE_PAYLOAD_MAX) {
    throw new RangeError(`Payload of ${payload.length} bytes exceeds ${XENSTORE_PAYLOAD_MAX}`);
  }
  const bytes = new Uint8Array(HEADER_SIZE + payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(XSD_SOCKMSG.offset.type, type, true);
  view.setUint32(XSD_SOCKMSG.offset.req_id, reqId, true);
  view.setUint32(XSD_SOCKMSG.offset.tx_id, txId, true);
  view.setUint32(XSD_SOCKMSG.offset.len, payload.length, true);
  bytes.set(payload, HEADER_SIZE);
  return bytes;
}

/** Decodes a whole message (header and payload, copied). Throws RangeError if truncated. */
export function decodeMessage(bytes: Uint8Array): Message {
  if (bytes.length < HEADER_SIZE) {
    throw new RangeError(`Message of ${bytes.length} bytes is shorter than its header`);
  }
  const header = decodeHeader(bytes);
  if (bytes.length < HEADER_SIZE + header.len) {
    throw new RangeError(`Message of ${bytes.length} bytes is shorter than its length`);
  }
  return { ...header, payload: bytes.slice(HEADER_SIZE, HEADER_SIZE + header.len) };
}

/** Bytes to a binary string (one code unit per byte). */
export function bytesToString(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

/** A binary string back to bytes (code units above 255 are refused with a RangeError). */
export function stringToBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`Character ${c} at ${i} of "${text}" is not a byte`);
    bytes[i] = c;
  }
  return bytes;
}

/** Strings, each followed by a NUL, as one payload. */
export function joinStrings(strings: readonly string[]): Uint8Array {
  let length = 0;
  for (const s of strings) length += s.length + 1;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const s of strings) {
    bytes.set(stringToBytes(s), at);
    at += s.length + 1;
  }
  return bytes;
}

/**
 * The NUL-terminated strings at the start of `payload`: exactly `count` of them, or at least
 * `count` with `atLeast` (bytes after the last NUL are ignored then). Throws
 * {@link XenstoreError} `EINVAL` if there are too few (or, without `atLeast`, anything after).
 */
export function splitStrings(payload: Uint8Array, count: number, atLeast = false): string[] {
  const strings: string[] = [];
  let start = 0;
  while (strings.length < count || atLeast) {
    const end = payload.indexOf(0, start);
    if (end < 0) break;
    strings.push(bytesToString(payload.subarray(start, end)));
    start = end + 1;
  }
  if (strings.length < count || (!atLeast && start !== payload.length)) {
    throw new XenstoreError("EINVAL", `expected ${count} strings in the payload`);
  }
  return strings;
}

/**
 * Cuts a byte stream (a socket) into messages. Feed it whatever arrives; it calls back once per
 * whole message, with a fresh copy. A header announcing more than XENSTORE_PAYLOAD_MAX bytes
 * throws a RangeError: xenstored drops such a client, as the protocol says.
 */
export class MessageAssembler {
  #buffer = new Uint8Array(HEADER_SIZE + XENSTORE_PAYLOAD_MAX);
  #have = 0;
  #need = HEADER_SIZE;

  /** Bytes of a partial message held. */
  get buffered(): number {
    return this.#have;
  }

  /** Takes `bytes` and calls `onMessage` for each message they complete. */
  push(bytes: Uint8Array, onMessage: (message: Message) => void): void {
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(bytes.length - at, this.#need - this.#have);
      this.#buffer.set(bytes.subarray(at, at + take), this.#have);
      this.#have += take;
      at += take;
      if (this.#have === HEADER_SIZE && this.#need === HEADER_SIZE) {
        const { len } = decodeHeader(this.#buffer);
        if (len > XENSTORE_PAYLOAD_MAX) {
          throw new RangeError(`Message payload of ${len} bytes exceeds ${XENSTORE_PAYLOAD_MAX}`);
        }
        this.#need = HEADER_SIZE + len;
      }
      if (this.#have === this.#need) {
        const message = decodeMessage(this.#buffer.subarray(0, this.#have));
        this.#have = 0;
        this.#need = HEADER_SIZE;
        onMessage(message);
      }
    }
  }
}
