/**
 * How the device supervisor starts backend workers:
 * `new Worker(url, { type: "module", deno: { permissions } })` with one of these URLs.
 *
 * Module loading of a worker's static import graph is checked against its parent's permissions,
 * not the worker's (a worker with no read permission still loads its code); a dynamic `import()`
 * of a new local module at run time needs read permission the worker does not have. So a block
 * worker's entry is generated around the backend module the disk line names, importing it
 * statically ({@link blockWorkerUrl}).
 *
 * @module
 */

const BLKBACK_WORKER = new URL("./block/blkback_worker.ts", import.meta.url).href;

/**
 * The entry URL of a block worker serving the backend module `backendModule` (a URL or a module
 * specifier): a `data:` module that imports it and the worker runtime, and starts the runtime.
 */
export function blockWorkerUrl(backendModule: string): string {
  const source = `import * as backend from ${JSON.stringify(backendModule)};\n` +
    `import { runBlockWorker } from ${JSON.stringify(BLKBACK_WORKER)};\n` +
    `runBlockWorker(backend);\n`;
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

/** The console backend worker (`console/console_worker.ts`). */
export const CONSOLE_WORKER_URL: string = new URL("./console/console_worker.ts", import.meta.url)
  .href;
