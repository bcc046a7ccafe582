/**
 * Xenstore path rules (docs/misc/xenstore.txt): a path is `/`, or `/`-separated names of the
 * characters `A-Z a-z 0-9 - _ @`, with no empty name (no `//`, no trailing `/`), at most
 * {@link XENSTORE_ABS_PATH_MAX} bytes. A path not starting with `/` is relative to the caller's
 * home `/local/domain/<domid>` and may be at most {@link XENSTORE_REL_PATH_MAX} bytes. A path
 * starting with `@` names a special event (`@introduceDomain`, `@releaseDomain`) and is accepted
 * only where the operation allows it (watches, permissions).
 *
 * Rules of use: resolve every client-supplied path with {@link resolvePath} before it touches
 * the store; everything else here assumes an already valid absolute path.
 *
 * @module
 */

import { XENSTORE_ABS_PATH_MAX, XENSTORE_REL_PATH_MAX } from "@paravirt/public";
import { XenstoreError } from "./errors.ts";

/** The special watch path fired when a domain is introduced. */
export const INTRODUCE_DOMAIN = "@introduceDomain";
/** The special watch path fired when a domain is released (or dies). */
export const RELEASE_DOMAIN = "@releaseDomain";

/** A resolved client path. */
export interface ResolvedPath {
  /** The absolute (or special) path. */
  readonly path: string;
  /** True when the client wrote it relative to its home path. */
  readonly relative: boolean;
}

/** The home path of a domain: `/local/domain/<domid>`. */
export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

// Allowed in names: A-Z a-z 0-9 - _ @ (and `/` as the separator).
function validChars(path: string, from: number): boolean {
  for (let i = from; i < path.length; i++) {
    const c = path.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x40 || c === 0x2f;
    if (!ok) return false;
  }
  return true;
}

/** Whether `path` is a valid absolute path (`/`, or `/name/name...`). */
export function isAbsolutePath(path: string): boolean {
  if (path === "/") return true;
  return path.length > 1 && path.length <= XENSTORE_ABS_PATH_MAX && path[0] === "/" &&
    !path.endsWith("/") && !path.includes("//") && validChars(path, 1);
}

/** Whether `path` is a valid special path (`@` followed by name characters, no `/`). */
export function isSpecialPath(path: string): boolean {
  return path.length > 1 && path.length <= XENSTORE_REL_PATH_MAX && path[0] === "@" &&
    !path.includes("/") && validChars(path, 1);
}

/**
 * Resolves a client path for domain `domid`: absolute paths are checked, relative ones are
 * joined to the domain's home path, special ones are accepted only with `allowSpecial`.
 * Throws {@link XenstoreError} `EINVAL` for anything malformed or too long.
 */
export function resolvePath(
  input: string,
  domid: number,
  options: { allowSpecial?: boolean } = {},
): ResolvedPath {
  if (input.startsWith("@")) {
    if (options.allowSpecial && isSpecialPath(input)) return { path: input, relative: false };
    throw new XenstoreError("EINVAL", `bad special path "${preview(input)}"`);
  }
  if (input.startsWith("/")) {
    if (isAbsolutePath(input)) return { path: input, relative: false };
    throw new XenstoreError("EINVAL", `bad path "${preview(input)}"`);
  }
  if (input.length === 0 || input.length > XENSTORE_REL_PATH_MAX) {
    throw new XenstoreError("EINVAL", `bad relative path "${preview(input)}"`);
  }
  const path = `${domainPath(domid)}/${input}`;
  if (!isAbsolutePath(path)) throw new XenstoreError("EINVAL", `bad path "${preview(input)}"`);
  return { path, relative: true };
}

/**
 * Whether `child` is `parent` or below it (`/` is everyone's parent). Works for special paths
 * too: `@releaseDomain` is a child only of itself.
 */
export function isChildPath(child: string, parent: string): boolean {
  if (child === parent || parent === "/") return child === parent || child.startsWith("/");
  return child.length > parent.length && child.startsWith(parent) &&
    child.charCodeAt(parent.length) === 0x2f;
}

/** The parent of an absolute path other than `/`. */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}

/** The last name of an absolute path other than `/`. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The child path `name` of `parent`. */
export function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/**
 * The form of `path` a client that registered a relative watch sees: `path` relative to the
 * domain's home, or `path` itself when it is not below the home.
 */
export function relativeTo(path: string, domid: number): string {
  const home = domainPath(domid);
  return path.length > home.length + 1 && path.startsWith(home) &&
      path.charCodeAt(home.length) === 0x2f
    ? path.slice(home.length + 1)
    : path;
}

/** A short printable form of a client string for error messages. */
export function preview(text: string): string {
  const shown = text.length > 64 ? `${text.slice(0, 64)}...` : text;
  return shown.replace(/[^\x20-\x7e]/g, "?");
}
