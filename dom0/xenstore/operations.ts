/**
 * The database operations of the wire protocol — read, write, mkdir, rm, directory, get and set
 * permissions — with Xen's permission and quota rules, on a {@link Transaction}.
 *
 * Permission rules: reading needs read access to the node; writing an existing node needs write
 * access to it; creating a node needs write access to its nearest existing ancestor (missing
 * parents are created too, inheriting their parent's permissions, except that an unprivileged
 * creator becomes the owner). A missing node is `ENOENT` only if the caller has the access it
 * asked for on the nearest existing ancestor, and `EACCES` otherwise, so a guest cannot probe
 * what exists where it may not look. Changing permissions needs ownership; only the privileged
 * may give a node away.
 *
 * Rules of use: paths are already resolved ({@link resolvePath}); every function throws
 * {@link XenstoreError} on refusal, and a request's transaction is discarded then.
 *
 * @module
 */

import { XenstoreError } from "./errors.ts";
import { baseName, childPath, parentPath } from "./path.ts";
import {
  accessFor,
  type Caller,
  type NodePerm,
  type NodePerms,
  PERM_OWNER,
  PERM_READ,
  PERM_WRITE,
} from "./permissions.ts";
import type { Quota } from "./quota.ts";
import { entrySize, type Node } from "./store.ts";
import type { Transaction } from "./transaction.ts";

/** What an operation runs with: the transaction, who asks, and the limits. */
export interface OperationContext {
  /** The transaction the operation reads and writes. */
  readonly tx: Transaction;
  /** Who is asking. */
  readonly caller: Caller;
  /** Limits for unprivileged callers. */
  readonly quota: Quota;
}

const EMPTY = new Uint8Array(0);

/** The node at `path` if `caller` has `need` access to it; otherwise ENOENT or EACCES. */
export function lookup(ctx: OperationContext, path: string, need: number): Node {
  const node = ctx.tx.get(path);
  if (node) {
    if ((accessFor(node.perms, ctx.caller) & need) !== need) {
      throw new XenstoreError("EACCES", `no access to ${path}`);
    }
    return node;
  }
  throw missing(ctx, path, need);
}

// ENOENT if the caller could do `need` to the nearest existing ancestor, else EACCES.
function missing(ctx: OperationContext, path: string, need: number): XenstoreError {
  const [, ancestor] = nearestAncestor(ctx, path);
  return (accessFor(ancestor.perms, ctx.caller) & need) === need
    ? new XenstoreError("ENOENT", `${path} does not exist`)
    : new XenstoreError("EACCES", `no access to ${path}`);
}

function nearestAncestor(ctx: OperationContext, path: string): [string, Node] {
  let at = path;
  while (at !== "/") {
    at = parentPath(at);
    const node = ctx.tx.get(at);
    if (node) return [at, node];
  }
  throw new Error("the root node is missing");
}

function checkSize(ctx: OperationContext, path: string, node: Pick<Node, "value" | "children">) {
  if (!ctx.caller.privileged && entrySize(node) > ctx.quota.maxEntrySize) {
    throw new XenstoreError("ENOSPC", `${path} would exceed ${ctx.quota.maxEntrySize} bytes`);
  }
}

/** Reads a node's value. */
export function read(ctx: OperationContext, path: string): Uint8Array {
  return lookup(ctx, path, PERM_READ).value;
}

/** Lists a node's children (names only). */
export function directory(ctx: OperationContext, path: string): readonly string[] {
  return lookup(ctx, path, PERM_READ).children;
}

/** A node's children and generation. */
export type NodeListing = Pick<Node, "children" | "generation">;

/** A node's children with its generation (for `XS_DIRECTORY_PART`). */
export function readNode(ctx: OperationContext, path: string): NodeListing {
  return lookup(ctx, path, PERM_READ);
}

/** Reads a node's permissions. */
export function getPerms(ctx: OperationContext, path: string): NodePerms {
  return lookup(ctx, path, PERM_READ).perms;
}

/** Writes `value` at `path`, creating it and its missing parents. */
export function write(ctx: OperationContext, path: string, value: Uint8Array): void {
  const node = ctx.tx.get(path);
  if (node) {
    if (!(accessFor(node.perms, ctx.caller) & PERM_WRITE)) {
      throw new XenstoreError("EACCES", `no write access to ${path}`);
    }
    const next = { ...node, value };
    checkSize(ctx, path, next);
    ctx.tx.put(path, next);
    ctx.tx.record({ path, perms: node.perms, removed: false });
    return;
  }
  const perms = create(ctx, path, value);
  ctx.tx.record({ path, perms, removed: false });
}

/** Makes sure `path` exists (creating it and its parents with empty values). */
export function mkdir(ctx: OperationContext, path: string): void {
  const node = ctx.tx.get(path);
  if (node) {
    if (!(accessFor(node.perms, ctx.caller) & PERM_WRITE)) {
      throw new XenstoreError("EACCES", `no write access to ${path}`);
    }
    return;
  }
  const perms = create(ctx, path, EMPTY);
  ctx.tx.record({ path, perms, removed: false });
}

// Creates `path` (known missing) and its missing parents; returns the new node's permissions.
// Everything is checked before anything is written, so a refusal leaves the transaction as it was.
function create(ctx: OperationContext, path: string, value: Uint8Array): NodePerms {
  const created = [path];
  let top = parentPath(path);
  let parent = ctx.tx.get(top);
  while (!parent) {
    created.push(top);
    top = parentPath(top);
    parent = ctx.tx.get(top);
  }
  if (!(accessFor(parent.perms, ctx.caller) & PERM_WRITE)) {
    throw new XenstoreError("EACCES", `no write access to ${top}`);
  }
  created.reverse();
  const perms = inherit(parent.perms, ctx.caller);
  const owner = perms[0].domid;
  if (!ctx.caller.privileged && ctx.tx.owned(owner) + created.length > ctx.quota.maxNodes) {
    throw new XenstoreError("ENOSPC", `domain ${owner} would own over ${ctx.quota.maxNodes} nodes`);
  }
  const grown = { ...parent, children: [...parent.children, baseName(created[0])] };
  checkSize(ctx, top, grown);
  for (let i = 1; i < created.length; i++) {
    checkSize(ctx, created[i - 1], { value: EMPTY, children: [baseName(created[i])] });
  }
  checkSize(ctx, path, { value, children: [] });
  ctx.tx.put(top, grown);
  for (let i = 0; i < created.length; i++) {
    const children = i + 1 < created.length ? [baseName(created[i + 1])] : [];
    const nodeValue = i + 1 < created.length ? EMPTY : value;
    ctx.tx.put(created[i], { value: nodeValue, perms, children, generation: 0 });
  }
  return perms;
}

// A new node's permissions: its parent's, owned by the creator if the creator is unprivileged.
function inherit(parent: NodePerms, caller: Caller): NodePerms {
  if (caller.privileged || parent[0].domid === caller.domid) return parent;
  return [{ domid: caller.domid, access: parent[0].access }, ...parent.slice(1)];
}

/**
 * Removes `path` and everything below it. Removing a missing node is fine if its parent exists
 * (`ENOENT` otherwise); removing `/` is `EINVAL`.
 */
export function rm(ctx: OperationContext, path: string): void {
  if (path === "/") throw new XenstoreError("EINVAL", "cannot remove /");
  const node = ctx.tx.get(path);
  if (!node) {
    const error = missing(ctx, path, PERM_WRITE);
    if (error.code === "ENOENT" && ctx.tx.get(parentPath(path))) return;
    throw error;
  }
  if (!(accessFor(node.perms, ctx.caller) & PERM_WRITE)) {
    throw new XenstoreError("EACCES", `no write access to ${path}`);
  }
  // Find the whole subtree first (reading may hit the transaction's limit), then delete.
  const doomed = [path];
  for (let i = 0; i < doomed.length; i++) {
    const below = ctx.tx.get(doomed[i]);
    for (const name of below?.children ?? []) doomed.push(childPath(doomed[i], name));
  }
  for (const at of doomed) ctx.tx.delete(at);
  const parentAt = parentPath(path);
  const parent = ctx.tx.get(parentAt)!;
  const name = baseName(path);
  ctx.tx.put(parentAt, { ...parent, children: parent.children.filter((c) => c !== name) });
  ctx.tx.record({ path, perms: node.perms, removed: true });
}

/** Sets a node's permissions (owner or privileged only; only the privileged may change owner). */
export function setPerms(ctx: OperationContext, path: string, perms: NodePerms): void {
  const node = lookup(ctx, path, PERM_WRITE | PERM_OWNER);
  checkPerms(ctx, node.perms, perms);
  ctx.tx.put(path, { ...node, perms });
  ctx.tx.record({ path, perms, previous: node.perms, removed: false });
}

/**
 * Checks a new permission list against the old one for `ctx.caller`: non-empty, within
 * `maxPerms` entries, and the same owner unless the caller is privileged.
 */
export function checkPerms(ctx: OperationContext, old: NodePerms, perms: NodePerms): void {
  if (perms.length === 0) throw new XenstoreError("EINVAL", "no permissions given");
  if (ctx.caller.privileged) return;
  if (perms.length > ctx.quota.maxPerms) {
    throw new XenstoreError("ENOSPC", `more than ${ctx.quota.maxPerms} permission entries`);
  }
  if (perms[0].domid !== old[0].domid) {
    throw new XenstoreError("EPERM", "only the privileged domain may change a node's owner");
  }
}

/** Whether `perms` grants `caller` read access (who hears about a change). */
export function canRead(perms: readonly NodePerm[], caller: Caller): boolean {
  return (accessFor(perms, caller) & PERM_READ) !== 0;
}
