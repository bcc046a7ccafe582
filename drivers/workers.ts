/**
 * Module URLs of the backend workers, for the device supervisor to start them with
 * `new Worker(url, { type: "module", deno: { permissions } })`. Module loading of a worker is
 * checked against its parent's permissions, so a worker with no read permission still loads.
 *
 * @module
 */

/** The block backend worker (`block/blkback_worker.ts`). */
export const BLKBACK_WORKER_URL: string = new URL("./block/blkback_worker.ts", import.meta.url)
  .href;

/** The console backend worker (`console/console_worker.ts`). */
export const CONSOLE_WORKER_URL: string = new URL("./console/console_worker.ts", import.meta.url)
  .href;
