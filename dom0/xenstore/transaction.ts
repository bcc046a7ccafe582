/**
 * A transaction over the {@link Store}: reads and writes go to a private overlay, and the first
 * access to each node records that node's generation (or its absence). Committing checks that
 * none of the recorded nodes changed meanwhile — if one did, the commit fails and the client gets
 * `EAGAIN` and retries, as with Xen's xenstored — and then applies the overlay at once.
 *
 * Rules of use: every request runs inside a transaction; requests outside a client transaction
 * use a fresh implicit one and commit it at the end, so a request that fails half-way (a quota
 * hit while creating parents) changes nothing. Watches fire from {@link Transaction.changes}
 * only after a successful commit.
 *
 * @module
 */

import { XenstoreError } from "./errors.ts";
import type { NodePerms } from "./permissions.ts";
import type { Node, Store } from "./store.ts";

/** A change to report to watchers once committed. */
export interface Change {
  /** The path that changed (created, written, permissions set, or removed). */
  readonly path: string;
  /** The node's permissions (before removal, for a removal): who may hear about it. */
  readonly perms: NodePerms;
  /** For a permission change, the permissions before it (their readers hear about it too). */
  readonly previous?: NodePerms;
  /** True for a removal, which also fires watches set below `path`. */
  readonly removed: boolean;
}

interface Entry {
  /** Generation of the store's node at first access; -1 if it did not exist. */
  readonly base: number;
  node: Node | undefined;
  dirty: boolean;
}

/** A set of reads and writes that commit together or not at all. */
export class Transaction {
  /** The id the client names it by (0 for an implicit transaction). */
  readonly id: number;
  /** Changes made, in order, for the watches. */
  readonly changes: Change[] = [];
  #store: Store;
  #limit: number;
  #entries = new Map<string, Entry>();
  #delta = new Map<number, number>();

  /**
   * Starts a transaction on `store`. `maxNodes` bounds how many nodes it may touch (a guest's
   * transaction cannot grow without bound); one more fails with `ENOSPC`.
   */
  constructor(store: Store, id: number, maxNodes: number = Infinity) {
    this.#store = store;
    this.id = id;
    this.#limit = maxNodes;
  }

  /** The node at `path` as this transaction sees it. */
  get(path: string): Node | undefined {
    return this.#entry(path).node;
  }

  /** Creates or replaces the node at `path`. */
  put(path: string, node: Node): void {
    const entry = this.#entry(path);
    if (entry.node) this.#count(entry.node.perms[0].domid, -1);
    this.#count(node.perms[0].domid, 1);
    entry.node = node;
    entry.dirty = true;
  }

  /** Deletes the node at `path` (the caller fixes the parent's child list). */
  delete(path: string): void {
    const entry = this.#entry(path);
    if (!entry.node) return;
    this.#count(entry.node.perms[0].domid, -1);
    entry.node = undefined;
    entry.dirty = true;
  }

  /** How many nodes `domid` owns as this transaction sees the store. */
  owned(domid: number): number {
    return this.#store.owned(domid) + (this.#delta.get(domid) ?? 0);
  }

  /** Records a change for the watches. */
  record(change: Change): void {
    this.changes.push(change);
  }

  /** Number of nodes touched. */
  get touched(): number {
    return this.#entries.size;
  }

  /**
   * Applies the transaction if no node it touched changed since; returns false (and applies
   * nothing) on a conflict.
   */
  commit(): boolean {
    for (const [path, entry] of this.#entries) {
      if ((this.#store.get(path)?.generation ?? -1) !== entry.base) return false;
    }
    for (const [path, entry] of this.#entries) {
      if (!entry.dirty) continue;
      if (entry.node) this.#store.put(path, entry.node);
      else this.#store.delete(path);
    }
    return true;
  }

  #entry(path: string): Entry {
    let entry = this.#entries.get(path);
    if (entry) return entry;
    if (this.#entries.size >= this.#limit) {
      throw new XenstoreError("ENOSPC", `transaction touches more than ${this.#limit} nodes`);
    }
    const node = this.#store.get(path);
    entry = { base: node?.generation ?? -1, node, dirty: false };
    this.#entries.set(path, entry);
    return entry;
  }

  #count(domid: number, by: number): void {
    this.#delta.set(domid, (this.#delta.get(domid) ?? 0) + by);
  }
}
