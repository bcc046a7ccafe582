/**
 * The watch table: who watches which path with which token. A change at a path fires every
 * watch set at that path or above it; a removal also fires the watches set below the removed
 * path (with the watch's own path as the event path, as the removed node's children are gone).
 *
 * Rules of use: the table only finds matching watches; the daemon filters them by read
 * permission and sends the events. Owners are opaque (the daemon's connections).
 *
 * @module
 */

import { isChildPath } from "./path.ts";

/** One registered watch. */
export interface Watch<O> {
  /** The watched path: absolute, or special (`@releaseDomain`). */
  readonly path: string;
  /** The client's token, echoed in every event (bytes as a binary string). */
  readonly token: string;
  /** The path as the client wrote it (relative watches get relative event paths). */
  readonly given: string;
  /** True if the client gave a relative path. */
  readonly relative: boolean;
  /** The connection that set it. */
  readonly owner: O;
}

/** Watches, indexed by path. */
export class WatchTable<O> {
  #byPath = new Map<string, Watch<O>[]>();
  #perOwner = new Map<O, number>();

  /** Adds a watch; false if the owner already has one with this path and token. */
  add(watch: Watch<O>): boolean {
    const list = this.#byPath.get(watch.path) ?? [];
    if (list.some((w) => w.owner === watch.owner && w.token === watch.token)) return false;
    list.push(watch);
    this.#byPath.set(watch.path, list);
    this.#perOwner.set(watch.owner, this.count(watch.owner) + 1);
    return true;
  }

  /** Removes `owner`'s watch on `path` with `token`; false if there is none. */
  remove(owner: O, path: string, token: string): boolean {
    const list = this.#byPath.get(path);
    const index = list?.findIndex((w) => w.owner === owner && w.token === token) ?? -1;
    if (!list || index < 0) return false;
    list.splice(index, 1);
    if (list.length === 0) this.#byPath.delete(path);
    this.#perOwner.set(owner, this.count(owner) - 1);
    return true;
  }

  /** Removes all of `owner`'s watches. */
  removeAll(owner: O): void {
    if (this.count(owner) === 0) return;
    for (const [path, list] of this.#byPath) {
      const kept = list.filter((w) => w.owner !== owner);
      if (kept.length === 0) this.#byPath.delete(path);
      else this.#byPath.set(path, kept);
    }
    this.#perOwner.delete(owner);
  }

  /** How many watches `owner` has. */
  count(owner: O): number {
    return this.#perOwner.get(owner) ?? 0;
  }

  /**
   * The watches a change at `path` fires, each with the event path to report: watches at or
   * above `path` report `path`; for a removal, watches below it report their own path.
   */
  matches(path: string, removed: boolean): [Watch<O>, string][] {
    const found: [Watch<O>, string][] = [];
    const add = (at: string) => {
      for (const w of this.#byPath.get(at) ?? []) found.push([w, path]);
    };
    if (path.startsWith("/")) {
      add("/");
      for (let i = path.indexOf("/", 1); i > 0; i = path.indexOf("/", i + 1)) add(path.slice(0, i));
      if (path !== "/") add(path);
    } else {
      add(path);
    }
    if (removed) {
      for (const [at, list] of this.#byPath) {
        if (at === path || !isChildPath(at, path)) continue;
        for (const w of list) found.push([w, at]);
      }
    }
    return found;
  }
}
