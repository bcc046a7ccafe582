/**
 * Node permissions, Xen's way: a node carries a list of (domain, access) entries. The first entry
 * names the node's owner, and its access is the default for every domain not listed later; the
 * owner itself always has full access. Later entries give one domain read, write, both or none.
 * The privileged domain (dom0, and host tools on the socket) bypasses all of it. A domain that
 * was made another's "target" by `XS_SET_TARGET` (a device model) acts as that domain.
 *
 * On the wire an entry is a letter and a decimal domid: `r5` read, `w5` write, `b5` both, `n5`
 * none (`XS_GET_PERMS`, `XS_SET_PERMS`).
 *
 * Rules of use: ask {@link accessFor} what a caller may do; never compare domids by hand.
 *
 * @module
 */

import { XenstoreError } from "./errors.ts";
import { preview } from "./path.ts";

/** No access. */
export const PERM_NONE = 0;
/** May read the value, children and permissions, and be told about changes. */
export const PERM_READ = 1;
/** May write the value, create children, remove. */
export const PERM_WRITE = 2;
/** Read and write. */
export const PERM_BOTH = 3;
/** Owner: may also change the permissions (never stored in an entry). */
export const PERM_OWNER = 4;

/** One permission entry. */
export interface NodePerm {
  /** The domain the entry is about (the owner, for the first entry). */
  readonly domid: number;
  /** {@link PERM_READ} and/or {@link PERM_WRITE} bits. */
  readonly access: number;
}

/** A node's permission list: at least one entry; the first is the owner and the default. */
export type NodePerms = readonly NodePerm[];

/** Who is asking: a domain, possibly privileged, possibly acting for a target domain. */
export interface Caller {
  /** The caller's domain id (0 for host tools on the socket). */
  readonly domid: number;
  /** Whether the caller bypasses permissions and quotas (dom0). */
  readonly privileged: boolean;
  /** The domain this caller acts for (`XS_SET_TARGET`), if any. */
  readonly target?: number;
}

const LETTERS = "nrwb";

/** Parses one wire entry (`r5`); throws {@link XenstoreError} `EINVAL` if malformed. */
export function parsePerm(text: string): NodePerm {
  const access = LETTERS.indexOf(text[0]);
  const digits = text.slice(1);
  if (access < 0 || !/^[0-9]{1,5}$/.test(digits) || Number(digits) > 0xffff) {
    throw new XenstoreError("EINVAL", `bad permission "${preview(text)}"`);
  }
  return { domid: Number(digits), access };
}

/** Formats one entry for the wire (`b0`). */
export function formatPerm(perm: NodePerm): string {
  return `${LETTERS[perm.access & PERM_BOTH]}${perm.domid}`;
}

/**
 * What `caller` may do to a node with `perms`: {@link PERM_READ}, {@link PERM_WRITE} and
 * {@link PERM_OWNER} bits. Privileged callers and the owner get everything.
 */
export function accessFor(perms: NodePerms, caller: Caller): number {
  if (caller.privileged) return PERM_BOTH | PERM_OWNER;
  const owner = perms[0].domid;
  if (owner === caller.domid || owner === caller.target) return PERM_BOTH | PERM_OWNER;
  let found = -1;
  for (let i = 1; i < perms.length; i++) {
    const entry = perms[i];
    if (entry.domid === caller.domid) return entry.access;
    if (entry.domid === caller.target && found < 0) found = entry.access;
  }
  return found >= 0 ? found : perms[0].access;
}
