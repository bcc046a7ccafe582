/**
 * Removing a device's xenstore directory the way libxl does (`libxl__xs_path_cleanup`): the
 * directory, then each parent that is left empty, up to (not including) a stop path — so a
 * destroyed domain leaves no `backend/vbd/<domid>` husk behind.
 *
 * @module
 */

/** What the cleanup needs of a xenstore client (dom0's `LocalClient` has it). */
export interface CleanupStore {
  /** Removes a node and its children. */
  rm(path: string): void;
  /** The children of a node. */
  directory(path: string): string[];
}

/**
 * Removes `path` (if it exists) and then its parents while they are empty, stopping below `stop`
 * (default `/local/domain/0/backend`; `path` must lie under it).
 */
export function removeDeviceDir(
  xs: CleanupStore,
  path: string,
  stop = "/local/domain/0/backend",
): void {
  try {
    xs.rm(path);
  } catch { /* already gone */ }
  for (
    let parent = path.slice(0, path.lastIndexOf("/"));
    parent.startsWith(`${stop}/`);
    parent = parent.slice(0, parent.lastIndexOf("/"))
  ) {
    try {
      if (xs.directory(parent).length > 0) return;
      xs.rm(parent);
    } catch {
      return;
    }
  }
}
