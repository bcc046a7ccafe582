/**
 * The xenstore database: a tree of nodes, each with a value (bytes), a permission list, the names
 * of its children (in creation order) and a generation number that changes whenever the node
 * does. `/` always exists. The store also counts the nodes each domain owns, for quotas.
 *
 * Rules of use: the store itself checks nothing — operations go through a {@link Transaction}
 * (an explicit one, or an implicit one per request), which checks permissions and quotas and
 * commits all of a request's changes at once. Nodes are immutable values: replace, never mutate.
 *
 * @module
 */

import { childPath, parentPath } from "./path.ts";
import type { NodePerms } from "./permissions.ts";

/** One node of the tree. */
export interface Node {
  /** The value (may be empty; may hold any bytes). */
  readonly value: Uint8Array;
  /** Permissions; the first entry is the owner and the default. */
  readonly perms: NodePerms;
  /** Names of the children, in creation order. */
  readonly children: readonly string[];
  /** Changes whenever the node is written (its value, perms or children). */
  readonly generation: number;
}

/** Bytes a node costs against `Quota.maxEntrySize`: its value and its children's names. */
export function entrySize(node: Pick<Node, "value" | "children">): number {
  let size = node.value.length;
  for (const child of node.children) size += child.length + 1;
  return size;
}

const EMPTY = new Uint8Array(0);

/** The tree of nodes. */
export class Store {
  #nodes = new Map<string, Node>();
  #owned = new Map<number, number>();
  #generation = 0;

  /** A store holding only `/`, owned by dom0 with no access for others (`n0`). */
  constructor() {
    this.put("/", { value: EMPTY, perms: [{ domid: 0, access: 0 }], children: [], generation: 0 });
  }

  /** The node at `path`, if any. */
  get(path: string): Node | undefined {
    return this.#nodes.get(path);
  }

  /** Stores `node` at `path` with a fresh generation (replacing any node there). */
  put(path: string, node: Node): void {
    const old = this.#nodes.get(path);
    if (old) this.#count(old.perms[0].domid, -1);
    this.#count(node.perms[0].domid, 1);
    this.#nodes.set(path, { ...node, generation: ++this.#generation });
  }

  /** Deletes the node at `path` (only that node; the caller fixes the parent's child list). */
  delete(path: string): void {
    const old = this.#nodes.get(path);
    if (!old) return;
    this.#count(old.perms[0].domid, -1);
    this.#nodes.delete(path);
  }

  /** How many nodes `domid` owns. */
  owned(domid: number): number {
    return this.#owned.get(domid) ?? 0;
  }

  /** Number of nodes. */
  get size(): number {
    return this.#nodes.size;
  }

  /** The latest generation handed out. */
  get generation(): number {
    return this.#generation;
  }

  /** All paths, in no particular order. */
  paths(): IterableIterator<string> {
    return this.#nodes.keys();
  }

  /**
   * Checks the store's invariants: every node's parent exists and lists it exactly once, every
   * listed child exists, every node has permissions, and the per-owner counts are right. Returns
   * the problems found (none in a healthy store).
   */
  check(): string[] {
    const problems: string[] = [];
    const counted = new Map<number, number>();
    for (const [path, node] of this.#nodes) {
      if (node.perms.length === 0) problems.push(`${path} has no permissions`);
      else counted.set(node.perms[0].domid, (counted.get(node.perms[0].domid) ?? 0) + 1);
      const names = new Set(node.children);
      if (names.size !== node.children.length) problems.push(`${path} lists a child twice`);
      for (const name of node.children) {
        if (!this.#nodes.has(childPath(path, name))) {
          problems.push(`${path} lists missing child ${name}`);
        }
      }
      if (path === "/") continue;
      const parent = this.#nodes.get(parentPath(path));
      if (!parent) problems.push(`${path} has no parent`);
      else if (!parent.children.includes(path.slice(path.lastIndexOf("/") + 1))) {
        problems.push(`${path} is not listed by its parent`);
      }
    }
    for (const [domid, n] of this.#owned) {
      if ((counted.get(domid) ?? 0) !== n) {
        problems.push(`domain ${domid} is counted ${n} nodes, owns ${counted.get(domid) ?? 0}`);
      }
    }
    for (const [domid, n] of counted) {
      if (!this.#owned.has(domid)) problems.push(`domain ${domid} owns ${n} uncounted nodes`);
    }
    return problems;
  }

  #count(domid: number, by: number): void {
    const n = (this.#owned.get(domid) ?? 0) + by;
    if (n === 0) this.#owned.delete(domid);
    else this.#owned.set(domid, n);
  }
}
