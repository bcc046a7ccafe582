/**
 * An in-process xenstore client for dom0 code (the toolstack, the device supervisor): the same
 * requests, permissions and watch events as a socket or ring client, without a transport. Every
 * call is synchronous — the daemon handles a request to completion — and throws
 * {@link XenstoreError} with Xen's errno name when refused.
 *
 * Rules of use: values and tokens are strings (UTF-8 on the wire) or bytes; watch events are
 * queued and handed to `onWatch` from a microtask, never from inside another request, so a
 * watch callback may freely make requests. {@link LocalClient.close} drops its watches.
 *
 * @module
 */

import {
  XS_DIRECTORY,
  XS_ERROR,
  XS_GET_DOMAIN_PATH,
  XS_GET_PERMS,
  XS_INTRODUCE,
  XS_IS_DOMAIN_INTRODUCED,
  XS_MKDIR,
  XS_READ,
  XS_RELEASE,
  XS_RM,
  XS_SET_PERMS,
  XS_TRANSACTION_END,
  XS_TRANSACTION_START,
  XS_UNWATCH,
  XS_WATCH,
  XS_WATCH_EVENT,
  XS_WRITE,
  type XsdErrorName,
} from "@paravirt/public";
import type { Connection, Xenstored } from "./daemon.ts";
import { XenstoreError } from "./errors.ts";
import { decodeMessage, type Message, splitStrings } from "./wire.ts";

/** A watch event as a client sees it. */
export interface WatchEvent {
  /** The path that changed (relative if the watch was set with a relative path). */
  readonly path: string;
  /** The watch's token. */
  readonly token: string;
}

/** Options of a {@link LocalClient}. */
export interface LocalClientOptions {
  /** The domain the client speaks for (default 0). */
  domid?: number;
  /** Whether it is privileged (default: true for domain 0, false otherwise). */
  privileged?: boolean;
  /** Called with each watch event (from a microtask). */
  onWatch?: (event: WatchEvent) => void;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function text(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? utf8.encode(value) : value;
}

function strings(...parts: string[]): Uint8Array {
  const encoded = parts.map((p) => utf8.encode(p));
  const bytes = new Uint8Array(encoded.reduce((n, p) => n + p.length + 1, 0));
  let at = 0;
  for (const p of encoded) {
    bytes.set(p, at);
    at += p.length + 1;
  }
  return bytes;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(a.length + b.length);
  bytes.set(a);
  bytes.set(b, a.length);
  return bytes;
}

function decodeStrings(payload: Uint8Array): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let end = payload.indexOf(0); end >= 0; end = payload.indexOf(0, start)) {
    parts.push(fromUtf8.decode(payload.subarray(start, end)));
    start = end + 1;
  }
  return parts;
}

/** A synchronous in-process client of a {@link Xenstored}. */
export class LocalClient {
  /** Watch events not yet handed to `onWatch` (all of them, without `onWatch`). */
  readonly events: WatchEvent[] = [];
  #daemon: Xenstored;
  #connection: Connection;
  #reply: Message | undefined;
  #onWatch: ((event: WatchEvent) => void) | undefined;
  #nextId = 1;

  /** Connects to `daemon` as dom0 (or as `options.domid`). */
  constructor(daemon: Xenstored, options: LocalClientOptions = {}) {
    const domid = options.domid ?? 0;
    this.#daemon = daemon;
    this.#onWatch = options.onWatch;
    this.#connection = daemon.connect({
      domid,
      privileged: options.privileged ?? domid === 0,
      label: `local client of domain ${domid}`,
      deliver: (bytes) => this.#receive(bytes),
    });
  }

  /**
   * Sends a raw request and returns the reply payload; throws {@link XenstoreError} on an
   * `XS_ERROR` reply.
   */
  request(type: number, payload: Uint8Array, tx = 0): Uint8Array {
    if (this.#connection.closed) throw new XenstoreError("EIO", "the client is closed");
    const reqId = this.#nextId++;
    this.#reply = undefined;
    this.#daemon.handle(this.#connection, { type, reqId, txId: tx, len: payload.length, payload });
    const reply = this.#reply as Message | undefined;
    this.#reply = undefined;
    if (!reply) throw new XenstoreError("EIO", "no reply");
    if (reply.type === XS_ERROR) {
      throw new XenstoreError(splitStrings(reply.payload, 1)[0] as XsdErrorName);
    }
    return reply.payload;
  }

  /** Reads a value as text. */
  read(path: string, tx = 0): string {
    return fromUtf8.decode(this.readBytes(path, tx));
  }

  /** Reads a value as bytes. */
  readBytes(path: string, tx = 0): Uint8Array {
    return this.request(XS_READ, strings(path), tx);
  }

  /** Writes a value (creating the node and its parents). */
  write(path: string, value: string | Uint8Array, tx = 0): void {
    this.request(XS_WRITE, concat(strings(path), text(value)), tx);
  }

  /** Creates a node (and parents) if missing. */
  mkdir(path: string, tx = 0): void {
    this.request(XS_MKDIR, strings(path), tx);
  }

  /** Removes a node and everything below it. */
  rm(path: string, tx = 0): void {
    this.request(XS_RM, strings(path), tx);
  }

  /** The names of a node's children. */
  directory(path: string, tx = 0): string[] {
    return decodeStrings(this.request(XS_DIRECTORY, strings(path), tx));
  }

  /** A node's permissions as wire strings (`["n0", "r5"]`). */
  getPerms(path: string, tx = 0): string[] {
    return decodeStrings(this.request(XS_GET_PERMS, strings(path), tx));
  }

  /** Sets a node's permissions from wire strings (`["n0", "r5"]`). */
  setPerms(path: string, perms: readonly string[], tx = 0): void {
    this.request(XS_SET_PERMS, strings(path, ...perms), tx);
  }

  /** Sets a watch (it fires once at once). */
  watch(path: string, token: string): void {
    this.request(XS_WATCH, strings(path, token));
  }

  /** Removes a watch. */
  unwatch(path: string, token: string): void {
    this.request(XS_UNWATCH, strings(path, token));
  }

  /** Starts a transaction; returns its id. */
  transactionStart(): number {
    return Number(decodeStrings(this.request(XS_TRANSACTION_START, strings("")))[0]);
  }

  /** Commits (`commit` true) or discards a transaction; a conflict throws `EAGAIN`. */
  transactionEnd(tx: number, commit: boolean): void {
    this.request(XS_TRANSACTION_END, strings(commit ? "T" : "F"), tx);
  }

  /**
   * Runs `body` in a transaction and commits it, retrying on `EAGAIN` up to `attempts` times;
   * any other error discards the transaction and is rethrown.
   */
  transaction<T>(body: (tx: number) => T, attempts = 10): T {
    for (let attempt = 1;; attempt++) {
      const tx = this.transactionStart();
      let result: T;
      try {
        result = body(tx);
      } catch (error) {
        this.transactionEnd(tx, false);
        throw error;
      }
      try {
        this.transactionEnd(tx, true);
        return result;
      } catch (error) {
        if (!(error instanceof XenstoreError && error.code === "EAGAIN") || attempt >= attempts) {
          throw error;
        }
      }
    }
  }

  /** Asks xenstored to serve a domain's ring (`XS_INTRODUCE`). */
  introduce(domid: number, mfn: number, port: number): void {
    this.request(XS_INTRODUCE, strings(String(domid), String(mfn), String(port)));
  }

  /** Asks xenstored to forget a domain (`XS_RELEASE`). */
  release(domid: number): void {
    this.request(XS_RELEASE, strings(String(domid)));
  }

  /** A domain's home path. */
  getDomainPath(domid: number): string {
    return decodeStrings(this.request(XS_GET_DOMAIN_PATH, strings(String(domid))))[0];
  }

  /** Whether xenstored serves a domain. */
  isDomainIntroduced(domid: number): boolean {
    return decodeStrings(this.request(XS_IS_DOMAIN_INTRODUCED, strings(String(domid))))[0] === "T";
  }

  /** Disconnects (watches and open transactions are dropped). */
  close(): void {
    this.#daemon.disconnect(this.#connection);
  }

  #receive(bytes: Uint8Array): void {
    const message = decodeMessage(bytes);
    if (message.type !== XS_WATCH_EVENT) {
      this.#reply = message;
      return;
    }
    const [path, token] = decodeStrings(message.payload);
    const event = { path, token };
    if (!this.#onWatch) {
      this.events.push(event);
      return;
    }
    this.events.push(event);
    queueMicrotask(() => {
      const index = this.events.indexOf(event);
      if (index < 0) return;
      this.events.splice(index, 1);
      this.#onWatch?.(event);
    });
  }
}
