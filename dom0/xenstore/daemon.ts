/**
 * xenstored: the store, its clients and the dispatch of every `io/xs_wire.h` request — database
 * operations, watches and their events, transactions, domain introduction and release, control
 * commands — with Xen's permissions and per-domain quotas.
 *
 * Clients are {@link Connection}s made by a transport: the Unix socket (host tools, privileged
 * as dom0), a guest's ring page ({@link Xenstored.introduceDomain}, or `XS_INTRODUCE` through a
 * {@link RingBinder}), or an in-process client. A transport decodes messages and calls
 * {@link Xenstored.handle}; every reply and watch event goes back through the connection's
 * `deliver` callback.
 *
 * Rules of use: {@link Xenstored.handle} never throws; a refused request gets an `XS_ERROR`
 * reply. Requests are handled one at a time, to completion, in the order they arrive, so each
 * request is atomic. Watch events are sent after the reply to the request that caused them.
 *
 * @module
 */

import {
  DOMID_FIRST_RESERVED,
  XENSTORE_PAYLOAD_MAX,
  XS_CONTROL,
  XS_DIRECTORY,
  XS_DIRECTORY_PART,
  XS_ERROR,
  XS_GET_DOMAIN_PATH,
  XS_GET_PERMS,
  XS_INTRODUCE,
  XS_IS_DOMAIN_INTRODUCED,
  XS_MKDIR,
  XS_READ,
  XS_RELEASE,
  XS_RESET_WATCHES,
  XS_RESUME,
  XS_RM,
  XS_SET_PERMS,
  XS_SET_TARGET,
  XS_TRANSACTION_END,
  XS_TRANSACTION_START,
  XS_UNWATCH,
  XS_WATCH,
  XS_WATCH_EVENT,
  XS_WRITE,
} from "@paravirt/public";
import { XenstoreError } from "./errors.ts";
import * as ops from "./operations.ts";
import {
  domainPath,
  INTRODUCE_DOMAIN,
  preview,
  relativeTo,
  RELEASE_DOMAIN,
  resolvePath,
} from "./path.ts";
import { type Caller, formatPerm, type NodePerms, parsePerm } from "./permissions.ts";
import { DEFAULT_QUOTA, type Quota } from "./quota.ts";
import { type RingBinder, type RingEndpoint, RingServer } from "./ring.ts";
import { Store } from "./store.ts";
import { type Change, Transaction } from "./transaction.ts";
import { WatchTable } from "./watches.ts";
import { bytesToString, encodeMessage, joinStrings, type Message, splitStrings } from "./wire.ts";

/** Options of {@link Xenstored}. */
export interface XenstoredOptions {
  /** Limits for unprivileged domains (defaults: {@link DEFAULT_QUOTA}). */
  quota?: Partial<Quota>;
  /** How `XS_INTRODUCE` maps a guest's ring page; without one, `XS_INTRODUCE` is `EINVAL`. */
  rings?: RingBinder;
  /** Where log lines go (refused guest rings, control `print`, internal errors). */
  log?: (line: string) => void;
}

/** How a transport creates a connection. */
export interface ConnectionOptions {
  /** The client's domain (0 for host tools). */
  domid: number;
  /** Whether it bypasses permissions and quotas (dom0). */
  privileged: boolean;
  /** Sends one encoded message to the client; `event` marks a watch event (may be dropped). */
  deliver(message: Uint8Array, event: boolean): void;
  /** A name for logs. */
  label?: string;
}

/** Counters of the daemon. */
export interface XenstoredMetrics {
  /** Requests handled. */
  requests: number;
  /** Requests answered with `XS_ERROR`. */
  errors: number;
  /** Watch events sent. */
  watchEvents: number;
  /** Watch events too long for one message (path plus token over the payload limit). */
  droppedEvents: number;
  /** Transactions committed. */
  commits: number;
  /** Transaction commits refused with `EAGAIN`. */
  conflicts: number;
  /** Requests that hit a bug in xenstored (answered `EIO`); always 0 in a healthy daemon. */
  internalErrors: number;
}

/** One client of xenstored. */
export class Connection {
  /** The client's domain. */
  readonly domid: number;
  /** Whether it bypasses permissions and quotas. */
  readonly privileged: boolean;
  /** A name for logs. */
  readonly label: string;
  #deliver: (message: Uint8Array, event: boolean) => void;
  #closed = false;

  /** Made by {@link Xenstored.connect}. */
  constructor(options: ConnectionOptions) {
    this.domid = options.domid;
    this.privileged = options.privileged;
    this.label = options.label ?? `domain ${options.domid}`;
    this.#deliver = options.deliver;
  }

  /** Whether the connection was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a message to the client (nothing once closed). */
  send(message: Uint8Array, event = false): void {
    if (!this.#closed) this.#deliver(message, event);
  }

  /** Marks the connection closed (the daemon forgets it). */
  markClosed(): void {
    this.#closed = true;
  }
}

interface ConnectionState {
  transactions: Map<number, Transaction>;
  nextTransaction: number;
}

interface Domain {
  connection: Connection;
  ring: RingServer;
  endpoint: RingEndpoint;
}

// Requests that may run inside a client transaction.
const TRANSACTIONAL = new Set([
  XS_READ,
  XS_WRITE,
  XS_MKDIR,
  XS_RM,
  XS_DIRECTORY,
  XS_DIRECTORY_PART,
  XS_GET_PERMS,
  XS_SET_PERMS,
]);

const OK = joinStrings(["OK"]);
const CONTROL_COMMANDS = ["check", "help", "print", "quota", "quota-set"];

/** The xenstore daemon. */
export class Xenstored {
  /** The database. */
  readonly store: Store = new Store();
  /** Counters. */
  readonly metrics: XenstoredMetrics = {
    requests: 0,
    errors: 0,
    watchEvents: 0,
    droppedEvents: 0,
    commits: 0,
    conflicts: 0,
    internalErrors: 0,
  };
  #quota: Quota;
  #rings: RingBinder | undefined;
  #log: (line: string) => void;
  #connections = new Map<Connection, ConnectionState>();
  #watches = new WatchTable<Connection>();
  #domains = new Map<number, Domain>();
  #targets = new Map<number, number>();
  #special = new Map<string, NodePerms>([
    [INTRODUCE_DOMAIN, [{ domid: 0, access: 0 }]],
    [RELEASE_DOMAIN, [{ domid: 0, access: 0 }]],
  ]);

  /** A daemon with an empty store (only `/`, owned by dom0). */
  constructor(options: XenstoredOptions = {}) {
    this.#quota = { ...DEFAULT_QUOTA, ...options.quota };
    this.#rings = options.rings;
    this.#log = options.log ?? (() => {});
  }

  /** The limits in force. */
  get quota(): Quota {
    return this.#quota;
  }

  /** Registers a client. */
  connect(options: ConnectionOptions): Connection {
    const connection = new Connection(options);
    this.#connections.set(connection, { transactions: new Map(), nextTransaction: 1 });
    return connection;
  }

  /** Forgets a client: its watches and open transactions go. */
  disconnect(connection: Connection): void {
    connection.markClosed();
    this.#watches.removeAll(connection);
    this.#connections.delete(connection);
  }

  /** Number of connected clients. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Serves domain `domid` on its ring page: connects it as an unprivileged client, processes any
   * requests already in the ring, fires `@introduceDomain`, and returns the ring server whose
   * `onEvent()` the hypervisor calls when the guest notifies. Introducing a domain again moves
   * it to the new ring and keeps its watches. Throws RangeError for a domid that cannot be a
   * guest (0 or reserved).
   */
  introduceDomain(domid: number, endpoint: RingEndpoint): RingServer {
    if (!Number.isInteger(domid) || domid <= 0 || domid >= DOMID_FIRST_RESERVED) {
      throw new RangeError(`Domain id ${domid} cannot be introduced`);
    }
    const ring = this.#attach(domid, endpoint);
    this.#announce(ring);
    return ring;
  }

  // Serves `endpoint` for `domid` (replacing an earlier ring); throws if the page is unusable,
  // before anything changed.
  #attach(domid: number, endpoint: RingEndpoint): RingServer {
    const owner: { connection?: Connection } = {};
    const ring = new RingServer(endpoint.page, {
      notify: () => endpoint.notify(),
      onMessage: (message) => this.handle(owner.connection!, message),
      onReset: () => this.#resetConnection(owner.connection!),
      onFailure: (reason) => this.#log(`xenstored: domain ${domid} ring failed: ${reason}`),
      maxPending: this.#quota.maxPendingMessages,
    });
    const old = this.#domains.get(domid);
    if (old) {
      old.ring.close();
      old.endpoint.close?.();
    }
    const connection = old?.connection ?? this.connect({
      domid,
      privileged: false,
      label: `domain ${domid}`,
      deliver: (message, event) => this.#domains.get(domid)?.ring.send(message, event),
    });
    owner.connection = connection;
    this.#domains.set(domid, { connection, ring, endpoint });
    return ring;
  }

  // Takes whatever the guest queued before, and tells the @introduceDomain watchers.
  #announce(ring: RingServer): void {
    ring.onEvent();
    this.#fireSpecial(INTRODUCE_DOMAIN);
  }

  /**
   * Stops serving domain `domid` (its ring is closed, its watches and transactions dropped) and
   * fires `@releaseDomain`. The toolstack calls this when a domain is destroyed. Returns false
   * if the domain was not introduced.
   */
  releaseDomain(domid: number): boolean {
    const domain = this.#domains.get(domid);
    if (!domain) return false;
    this.#domains.delete(domid);
    this.#targets.delete(domid);
    domain.ring.close();
    domain.endpoint.close?.();
    this.disconnect(domain.connection);
    this.#fireSpecial(RELEASE_DOMAIN);
    return true;
  }

  /** Whether domain `domid` is being served (dom0 always is). */
  isIntroduced(domid: number): boolean {
    return domid === 0 || this.#domains.has(domid);
  }

  /** The ring server of an introduced domain. */
  ring(domid: number): RingServer | undefined {
    return this.#domains.get(domid)?.ring;
  }

  /** Handles one request from `connection` and sends its reply (and any watch events). */
  handle(connection: Connection, message: Message): void {
    if (connection.closed) return;
    this.metrics.requests++;
    const after: (() => void)[] = [];
    let reply: Uint8Array;
    try {
      if (message.payload.length > XENSTORE_PAYLOAD_MAX) {
        // Only an in-process client can get here; the transports drop such clients.
        throw new XenstoreError("E2BIG", `payload of ${message.payload.length} bytes`);
      }
      const payload = this.#dispatch(connection, message, after);
      reply = encodeMessage(message.type, message.reqId, message.txId, payload);
    } catch (error) {
      after.length = 0;
      this.metrics.errors++;
      let code = "EIO";
      if (error instanceof XenstoreError) {
        code = error.code;
      } else {
        this.metrics.internalErrors++;
        this.#log(`xenstored: internal error on ${connection.label}: ${error}`);
      }
      reply = encodeMessage(XS_ERROR, message.reqId, message.txId, joinStrings([code]));
    }
    connection.send(reply);
    for (const action of after) {
      try {
        action();
      } catch (error) {
        // Embedder callbacks (a ring's close or notify) failing must not reach the transport.
        this.metrics.internalErrors++;
        this.#log(`xenstored: internal error after a request of ${connection.label}: ${error}`);
      }
    }
  }

  #caller(connection: Connection): Caller {
    return {
      domid: connection.domid,
      privileged: connection.privileged,
      target: this.#targets.get(connection.domid),
    };
  }

  #dispatch(connection: Connection, message: Message, after: (() => void)[]): Uint8Array {
    const state = this.#connections.get(connection)!;
    const caller = this.#caller(connection);
    const { payload } = message;
    if (TRANSACTIONAL.has(message.type)) {
      let tx: Transaction;
      if (message.txId !== 0) {
        const open = state.transactions.get(message.txId);
        if (!open) throw new XenstoreError("ENOENT", `no transaction ${message.txId}`);
        tx = open;
      } else {
        tx = new Transaction(this.store, 0);
      }
      const ctx: ops.OperationContext = { tx, caller, quota: this.#quota };
      const result = this.#database(ctx, message.type, payload);
      if (message.txId === 0) {
        // Requests run one at a time, so nothing can have changed under an implicit one.
        if (!tx.commit()) throw new Error("an implicit transaction conflicted");
        if (tx.changes.length > 0) after.push(() => this.#fire(tx.changes));
      }
      return result;
    }
    switch (message.type) {
      case XS_WATCH: {
        const [given, token] = splitStrings(payload, 2, true);
        const { path, relative } = resolvePath(given, caller.domid, { allowSpecial: true });
        if (!caller.privileged && this.#watches.count(connection) >= this.#quota.maxWatches) {
          throw new XenstoreError("E2BIG", `more than ${this.#quota.maxWatches} watches`);
        }
        const watch = { path, token, given, relative, owner: connection };
        if (!this.#watches.add(watch)) throw new XenstoreError("EEXIST", "watch exists");
        // A new watch fires once at once, with the path as given.
        after.push(() => this.#sendEvent(connection, given, token));
        return OK;
      }
      case XS_UNWATCH: {
        const [given, token] = splitStrings(payload, 2, true);
        const { path } = resolvePath(given, caller.domid, { allowSpecial: true });
        if (!this.#watches.remove(connection, path, token)) {
          throw new XenstoreError("ENOENT", "no such watch");
        }
        return OK;
      }
      case XS_TRANSACTION_START: {
        if (message.txId !== 0) throw new XenstoreError("EBUSY", "transactions do not nest");
        if (!caller.privileged && state.transactions.size >= this.#quota.maxTransactions) {
          throw new XenstoreError("ENOSPC", `more than ${this.#quota.maxTransactions} open`);
        }
        let id = state.nextTransaction;
        while (id === 0 || state.transactions.has(id)) id = (id + 1) >>> 0;
        state.nextTransaction = (id + 1) >>> 0;
        const limit = caller.privileged ? Infinity : this.#quota.maxTransactionNodes;
        state.transactions.set(id, new Transaction(this.store, id, limit));
        return joinStrings([String(id)]);
      }
      case XS_TRANSACTION_END: {
        const tx = state.transactions.get(message.txId);
        if (!tx) throw new XenstoreError("ENOENT", `no transaction ${message.txId}`);
        const [verdict] = splitStrings(payload, 1);
        if (verdict !== "T" && verdict !== "F") {
          throw new XenstoreError("EINVAL", `transaction end "${preview(verdict)}"`);
        }
        state.transactions.delete(message.txId);
        if (verdict === "T") {
          if (!tx.commit()) {
            this.metrics.conflicts++;
            throw new XenstoreError("EAGAIN", "the transaction conflicts with a change");
          }
          this.metrics.commits++;
          if (tx.changes.length > 0) after.push(() => this.#fire(tx.changes));
        }
        return OK;
      }
      case XS_INTRODUCE: {
        this.#requirePrivilege(caller);
        const [domidText, mfnText, portText] = splitStrings(payload, 3, true);
        const domid = parseDomid(domidText);
        const mfn = parseNumber(mfnText, "frame");
        const port = parseNumber(portText, "port");
        if (domid === 0 || domid >= DOMID_FIRST_RESERVED) {
          throw new XenstoreError("EINVAL", `domain ${domid} cannot be introduced`);
        }
        if (!this.#rings) throw new XenstoreError("EINVAL", "no way to map guest rings");
        let ring: RingServer | undefined;
        let endpoint: RingEndpoint;
        try {
          endpoint = this.#rings.bind(domid, mfn, port, () => ring?.onEvent());
        } catch (error) {
          this.#log(`xenstored: cannot bind domain ${domid} ring: ${error}`);
          throw new XenstoreError("EINVAL", `cannot bind domain ${domid}`);
        }
        try {
          ring = this.#attach(domid, endpoint);
        } catch (error) {
          this.#log(`xenstored: unusable ring page for domain ${domid}: ${error}`);
          endpoint.close?.();
          throw new XenstoreError("EINVAL", `cannot serve domain ${domid}`);
        }
        // Serve and announce after replying, so dom0 sees OK before any @introduceDomain.
        const attached = ring;
        after.push(() => this.#announce(attached));
        return OK;
      }
      case XS_RELEASE: {
        this.#requirePrivilege(caller);
        const domid = parseDomid(splitStrings(payload, 1, true)[0]);
        if (!this.#domains.has(domid)) throw new XenstoreError("ENOENT", `no domain ${domid}`);
        after.push(() => this.releaseDomain(domid));
        return OK;
      }
      case XS_GET_DOMAIN_PATH: {
        const domid = parseDomid(splitStrings(payload, 1, true)[0]);
        return joinStrings([domainPath(domid)]);
      }
      case XS_IS_DOMAIN_INTRODUCED: {
        const domid = parseDomid(splitStrings(payload, 1, true)[0]);
        return joinStrings([this.isIntroduced(domid) ? "T" : "F"]);
      }
      case XS_RESUME: {
        this.#requirePrivilege(caller);
        const domid = parseDomid(splitStrings(payload, 1, true)[0]);
        if (!this.#domains.has(domid)) throw new XenstoreError("ENOENT", `no domain ${domid}`);
        return OK;
      }
      case XS_SET_TARGET: {
        this.#requirePrivilege(caller);
        const [domidText, targetText] = splitStrings(payload, 2, true);
        const domid = parseDomid(domidText);
        const target = parseDomid(targetText);
        if (!this.#domains.has(domid)) throw new XenstoreError("ENOENT", `no domain ${domid}`);
        this.#targets.set(domid, target);
        return OK;
      }
      case XS_RESET_WATCHES: {
        this.#resetConnection(connection);
        return OK;
      }
      case XS_CONTROL:
        this.#requirePrivilege(caller);
        return this.#control(splitStrings(payload, 1, true));
      default:
        // XS_WATCH_EVENT and XS_ERROR are server-to-client only; anything else is unknown.
        throw new XenstoreError("ENOSYS", `unknown request type ${message.type}`);
    }
  }

  // The operations on the tree (these run inside a transaction).
  #database(ctx: ops.OperationContext, type: number, payload: Uint8Array): Uint8Array {
    const domid = ctx.caller.domid;
    switch (type) {
      case XS_READ: {
        const { path } = resolvePath(splitStrings(payload, 1)[0], domid);
        return ops.read(ctx, path);
      }
      case XS_WRITE: {
        const end = payload.indexOf(0);
        if (end < 0) throw new XenstoreError("EINVAL", "write without a path");
        const { path } = resolvePath(bytesToString(payload.subarray(0, end)), domid);
        ops.write(ctx, path, payload.slice(end + 1));
        return OK;
      }
      case XS_MKDIR: {
        const { path } = resolvePath(splitStrings(payload, 1)[0], domid);
        ops.mkdir(ctx, path);
        return OK;
      }
      case XS_RM: {
        const { path } = resolvePath(splitStrings(payload, 1)[0], domid);
        ops.rm(ctx, path);
        return OK;
      }
      case XS_DIRECTORY: {
        const { path } = resolvePath(splitStrings(payload, 1)[0], domid);
        const reply = joinStrings(ops.directory(ctx, path));
        if (reply.length > XENSTORE_PAYLOAD_MAX) {
          throw new XenstoreError("E2BIG", `${path} has too many children for one reply`);
        }
        return reply;
      }
      case XS_DIRECTORY_PART: {
        const [given, offsetText] = splitStrings(payload, 2);
        const { path } = resolvePath(given, domid);
        const offset = parseNumber(offsetText, "offset");
        if (offset < 0) throw new XenstoreError("EINVAL", `negative offset ${offset}`);
        return directoryPart(ops.readNode(ctx, path), offset);
      }
      case XS_GET_PERMS: {
        const { path } = resolvePath(splitStrings(payload, 1)[0], domid, { allowSpecial: true });
        const special = this.#specialPerms(path);
        const perms = special ? special : ops.getPerms(ctx, path);
        return joinStrings(perms.map(formatPerm));
      }
      case XS_SET_PERMS: {
        const [given, ...texts] = splitStrings(payload, 1, true);
        const { path } = resolvePath(given, domid, { allowSpecial: true });
        const perms = texts.map(parsePerm);
        const special = this.#specialPerms(path);
        if (special) {
          this.#requirePrivilege(ctx.caller);
          ops.checkPerms(ctx, special, perms);
          this.#special.set(path, perms);
        } else {
          ops.setPerms(ctx, path, perms);
        }
        return OK;
      }
      default:
        throw new Error(`request type ${type} is not a database operation`);
    }
  }

  #specialPerms(path: string): NodePerms | undefined {
    if (!path.startsWith("@")) return undefined;
    const perms = this.#special.get(path);
    if (!perms) throw new XenstoreError("ENOENT", `no special node ${path}`);
    return perms;
  }

  #requirePrivilege(caller: Caller): void {
    if (!caller.privileged) throw new XenstoreError("EACCES", "only dom0 may do this");
  }

  #resetConnection(connection: Connection): void {
    this.#watches.removeAll(connection);
    this.#connections.get(connection)?.transactions.clear();
  }

  #control(args: string[]): Uint8Array {
    const [command, ...rest] = args;
    switch (command) {
      case "help":
        return joinStrings([CONTROL_COMMANDS.join("\n") + "\n"]);
      case "print":
        this.#log(`xenstored: ${rest.join(" ")}`);
        return OK;
      case "check": {
        const problems = this.store.check();
        for (const problem of problems) this.#log(`xenstored: check: ${problem}`);
        if (problems.length > 0) throw new XenstoreError("EIO", problems[0]);
        return OK;
      }
      case "quota": {
        const lines = Object.entries(this.#quota).map(([name, value]) => `${name} ${value}\n`);
        return joinStrings([lines.join("")]);
      }
      case "quota-set": {
        const [name, valueText] = rest;
        if (!(name in this.#quota) || !/^[0-9]{1,9}$/.test(valueText ?? "")) {
          throw new XenstoreError("EINVAL", `bad quota "${preview(name ?? "")}"`);
        }
        this.#quota = { ...this.#quota, [name]: Number(valueText) };
        return OK;
      }
      default:
        throw new XenstoreError("EINVAL", `unknown control command "${preview(command)}"`);
    }
  }

  // Sends the watch events a committed transaction's changes cause.
  #fire(changes: readonly Change[]): void {
    for (const change of changes) {
      for (const [watch, eventPath] of this.#watches.matches(change.path, change.removed)) {
        const owner = watch.owner;
        const caller = this.#caller(owner);
        if (
          !ops.canRead(change.perms, caller) &&
          !(change.previous && ops.canRead(change.previous, caller))
        ) continue;
        const shown = watch.relative ? relativeTo(eventPath, owner.domid) : eventPath;
        this.#sendEvent(owner, shown, watch.token);
      }
    }
  }

  #fireSpecial(path: string): void {
    const perms = this.#special.get(path)!;
    for (const [watch] of this.#watches.matches(path, false)) {
      if (ops.canRead(perms, this.#caller(watch.owner))) {
        this.#sendEvent(watch.owner, path, watch.token);
      }
    }
  }

  #sendEvent(connection: Connection, path: string, token: string): void {
    const payload = joinStrings([path, token]);
    if (payload.length > XENSTORE_PAYLOAD_MAX) {
      // A long relative event path with a long token: no legal message can carry it.
      this.metrics.droppedEvents++;
      return;
    }
    this.metrics.watchEvents++;
    connection.send(encodeMessage(XS_WATCH_EVENT, 0, 0, payload), true);
  }
}

// `<generation>|<names from offset>|*`, and one more empty string when the list ends here.
function directoryPart(node: ops.NodeListing, offset: number): Uint8Array {
  const generation = joinStrings([String(node.generation)]);
  const list = joinStrings(node.children);
  const start = Math.min(offset, list.length);
  const room = XENSTORE_PAYLOAD_MAX - generation.length - 1;
  let end = start;
  while (end < list.length) {
    const next = list.indexOf(0, end) + 1;
    if (next - start > room) break;
    end = next;
  }
  const done = end === list.length;
  const reply = new Uint8Array(generation.length + (end - start) + (done ? 1 : 0));
  reply.set(generation);
  reply.set(list.subarray(start, end), generation.length);
  return reply;
}

function parseDomid(text: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 0xffff) {
    throw new XenstoreError("EINVAL", `bad domain id "${preview(text)}"`);
  }
  return Number(text);
}

function parseNumber(text: string, what: string): number {
  if (!/^-?[0-9]{1,10}$/.test(text)) {
    throw new XenstoreError("EINVAL", `bad ${what} "${preview(text)}"`);
  }
  return Number(text);
}
