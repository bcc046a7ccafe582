/**
 * The block backend worker: one per virtual disk, started by the device supervisor with only the
 * permissions the disk needs (read of its image, and write unless read-only). Its entry module
 * (see `blockWorkerUrl` in `workers.ts`) imports the backend module the disk line names
 * statically — so the backend's code loads under dom0's permissions while everything it does at
 * run time is held to the worker's — and hands it to {@link runBlockWorker}, which runs
 * {@link Blkback} on the frontend's ring and waits on the doorbell for events.
 *
 * Rules of use: spoken to only through `messages.ts` requests; holds the memory of the one domain
 * it serves. The heartbeat beats while the worker is idle or making progress, so a backend
 * operation that never settles stops it (and the watchdog restarts the worker).
 *
 * @module
 */

import { Doorbell } from "@paravirt/events";
import { GrantMapper } from "../grant_mapper.ts";
import { Heartbeat, serveWorker } from "../worker_protocol.ts";
import { yieldToEventLoop } from "../_yield.ts";
import type { BlockBackend, BlockBackendModule } from "./backend.ts";
import { Blkback, type BlkbackMetrics } from "./blkback.ts";
import type { BlockConnectArgs, BlockOpenArgs } from "./messages.ts";

/** How often the loop wakes with nothing to do (ms): the heartbeat's period when idle. */
const IDLE_WAKE_MS = 100;
/** Longest the loop blocks the thread before it lets the event loop run (ms). */
const SYNC_SLICE_MS = 20;

/** Serves the supervisor's requests with the backend `module` (the worker's whole life). */
export function runBlockWorker(module: Partial<BlockBackendModule>): void {
  serve(module);
}

let backend: BlockBackend | undefined;
let heartbeat: Heartbeat | undefined;
let engine: Blkback | undefined;
let connection = 0;
const retired: BlkbackMetrics[] = [];

let emit: (event: string, data?: unknown) => void = () => {};

function serve(module: Partial<BlockBackendModule>): void {
  emit = serveWorker({
    async open(args) {
      const a = args as BlockOpenArgs;
      if (backend) throw new Error("The disk is already open");
      heartbeat = new Heartbeat(a.heartbeat);
      if (typeof module.open !== "function") {
        throw new TypeError(`Backend module ${a.backend} exports no open() function`);
      }
      backend = await module.open({
        target: a.target,
        readOnly: a.readOnly,
        params: a.params,
        retained: a.retained,
        retain: (buffer) => emit("retain", buffer),
      });
      const info = backend.info;
      if (!Number.isSafeInteger(info.sectors) || info.sectors <= 0) {
        throw new RangeError(`Backend reports ${info.sectors} sectors`);
      }
      if (a.readOnly && !info.readOnly) throw new Error("Backend opened a read-only disk writable");
      idle();
      return { sectors: info.sectors, readOnly: info.readOnly, discard: info.discard };
    },

    connect(args) {
      const a = args as BlockConnectArgs;
      if (!backend) throw new Error("The disk is not open");
      if (engine) throw new Error("Already connected");
      const doorbell = Doorbell.from(a.doorbell, a.wake);
      const mapper = new GrantMapper(a.source);
      const id = ++connection;
      const current = new Blkback(mapper, a.source.buffer, a.ringRef, backend, {
        maxIndirectSegments: a.maxIndirectSegments,
        persistent: a.persistent,
        notify: () => doorbell.kick(a.slot),
        onRingError: (reason) => emit("ring-error", reason),
        onFatal: (error) => emit("fatal", error instanceof Error ? error.stack : String(error)),
      });
      engine = current;
      loop(current, doorbell, a.slot, id);
      return null;
    },

    async disconnect() {
      const current = engine;
      engine = undefined;
      if (current) {
        await current.disconnect();
        retired.push({ ...current.metrics });
      }
      return null;
    },

    metrics() {
      const all = engine ? [...retired, engine.metrics] : retired;
      const sum = {} as Record<string, number>;
      for (const m of all) {
        for (const [k, v] of Object.entries(m)) {
          sum[k] = k === "maxBatch" ? Math.max(sum[k] ?? 0, v) : (sum[k] ?? 0) + v;
        }
      }
      return sum;
    },

    async close() {
      const current = engine;
      engine = undefined;
      await current?.disconnect();
      await backend?.close();
      backend = undefined;
      return null;
    },
  });
}

/** Beats while nothing is connected (the worker is idle, not hung). */
async function idle(): Promise<void> {
  while (backend && !engine) {
    heartbeat?.beat();
    await new Promise((r) => setTimeout(r, IDLE_WAKE_MS));
  }
}

/** The event loop of one connection. */
async function loop(current: Blkback, doorbell: Doorbell, slot: number, id: number) {
  const bit = 1 << slot;
  let answered = -1;
  let yielded = performance.now();
  await current.onEvent(); // requests may be waiting already (a reconnect)
  while (engine === current && connection === id && !current.stopped) {
    const m = current.metrics;
    if (m.inflight === 0 || m.answered !== answered) heartbeat?.beat();
    answered = m.answered;
    if (performance.now() - yielded >= SYNC_SLICE_MS) {
      // Let the event loop run (the supervisor's requests), however busy the ring is.
      await yieldToEventLoop();
      yielded = performance.now();
    }
    if (m.inflight === 0) {
      // Nothing in flight: block the thread on the doorbell — it wakes in microseconds, where an
      // asynchronous wait takes a trip through the event loop.
      doorbell.waitSync(SYNC_SLICE_MS);
    } else {
      await doorbell.wait(IDLE_WAKE_MS); // an asynchronous backend is working
    }
    if ((doorbell.takeRings() & bit) !== 0) await current.onEvent();
  }
  // Stopped by a ring error or a fatal error: keep beating until the supervisor acts.
  while (engine === current) {
    heartbeat?.beat();
    await new Promise((r) => setTimeout(r, IDLE_WAKE_MS));
  }
  if (!engine) idle();
}
