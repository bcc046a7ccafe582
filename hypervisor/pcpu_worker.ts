/**
 * A physical CPU: the worker that hosts a {@link Hypervisor} and runs its loop off the main
 * thread (ARCHITECTURE.md section 7b). The main thread talks to it only through the calls and
 * events of `pcpu_protocol.ts`, as Xen's dom0 talks to Xen through domctl and sysctl.
 *
 * Rules of use:
 * - Started by {@link Pcpu} with no host permissions: kernel images arrive as bytes in messages.
 * - The loop runs the hypervisor for {@link RUN_BUDGET_NS} at a time, then yields to the worker's
 *   event loop with `setImmediate` (a few µs; `setTimeout(0)` costs ~2 ms), so calls are served
 *   between runs. When nothing can run it sleeps until the next deadline, a call, or a backend's
 *   kick (the hypervisor's wake word changes).
 * - Console output is batched per domain and posted after each run and each call; shutdown and
 *   destroy events follow the console output that preceded them, and a call's reply follows the
 *   events the call caused.
 * - A call that fails answers with the error's class name and message; nothing thrown by a call
 *   stops the loop.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { Doorbell } from "@paravirt/events";
import {
  RUNSTATE_blocked,
  RUNSTATE_runnable,
  RUNSTATE_running,
  SHUTDOWN_crash,
  XEN_EXTRAVERSION,
  XEN_VERSION_MAJOR,
  XEN_VERSION_MINOR,
} from "@paravirt/public";
import { Hypervisor } from "./hypervisor.ts";
import type { Domain } from "./domain.ts";
import { DOMAIN_FRAMES_END, DOMAIN_FRAMES_FIRST } from "./layout.ts";
import { TIMESLICE_NS } from "./scheduler/credit.ts";
import type {
  DomainRef,
  DomainSummary,
  HostInfo,
  PcpuCallMessage,
  PcpuCalls,
  PcpuEventMessage,
  PcpuOp,
  SchedCreditEntry,
} from "./pcpu_protocol.ts";

/** System time the loop runs guests before it looks at its messages (5 ms). */
export const RUN_BUDGET_NS = 5e6;

/** Where the worker posts its messages (the worker's global scope, or a test double). */
export interface PcpuPort {
  /** Posts one message, transferring the listed buffers. */
  postMessage(message: PcpuEventMessage, transfer?: Transferable[]): void;
}

type Handlers = {
  [K in PcpuOp]: (args: PcpuCalls[K]["args"]) => PcpuCalls[K]["result"];
};

/** The hypervisor of one pCPU, its loop, and the serving of calls. */
export class PcpuHost {
  /** The hypervisor this pCPU runs. */
  readonly hv: Hypervisor;
  readonly #port: PcpuPort;
  readonly #console = new Map<number, Uint8Array<ArrayBuffer>[]>();
  readonly #events: PcpuEventMessage[] = [];
  readonly #startedAtMs = Date.now();
  /** Backends' doorbells by the client's id for their buffer. */
  readonly #doorbells = new Map<number, Doorbell>();
  readonly #wakeWord: Int32Array;
  /** The one pending wait on the wake word, and the value it waits to change from. */
  #wordWait: Promise<unknown> | undefined;
  #wordSeen = 0;
  #retiredInstructions = 0;
  #retiredCpuNs = 0;
  #wake: (() => void) | undefined;
  #stopped = false;

  /** Creates the hypervisor; messages go to `port`. */
  constructor(port: PcpuPort, hv: Hypervisor = new Hypervisor()) {
    this.#port = port;
    this.hv = hv;
    this.#wakeWord = new Int32Array(hv.wake.buffer, 0, 1);
    hv.onShutdown = (domain) =>
      this.#events.push({
        kind: "shutdown",
        domid: domain.id,
        name: domain.name,
        reason: domain.shutdownReason ?? SHUTDOWN_crash,
      });
    hv.onLog = (line) => this.#events.push({ kind: "log", line });
  }

  /** Runs the loop until {@link stop}. */
  async loop(): Promise<void> {
    const hv = this.hv;
    while (!this.#stopped) {
      // Read before running: a kick that lands after the run's last look still ends the sleep.
      const seen = hv.wake.value;
      const result = hv.run(RUN_BUDGET_NS);
      this.#flush();
      if (result.kind === "busy") {
        await new Promise<void>((resolve) => setImmediate(resolve));
      } else {
        await this.#sleep(result.until, seen);
      }
    }
  }

  /** Ends the loop after its current step. */
  stop(): void {
    this.#stopped = true;
    this.#wake?.();
  }

  /**
   * Sleeps until system time `until` (ns), a call, or a change of the wake word from `seen`.
   */
  #sleep(until: number, seen: number): Promise<void> {
    const waitMs = (until - this.hv.clock.now()) / 1e6;
    if (waitMs < 1 || this.hv.wake.value !== seen) {
      return new Promise((resolve) => setImmediate(resolve));
    }
    return new Promise((resolve) => {
      let finished = false;
      // Timers may fire a little late; wake early and let the next run decide.
      const timer = Number.isFinite(waitMs)
        ? setTimeout(() => done(), Math.floor(waitMs))
        : undefined;
      const done = () => {
        if (finished) return;
        finished = true;
        if (timer !== undefined) clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      this.#waitWord(seen).then(done);
    });
  }

  /**
   * Resolves when the wake word leaves `seen`. One wait is kept per value (a word that has not
   * changed needs no second waiter), so sleeps ended by calls leave nothing behind.
   */
  #waitWord(seen: number): Promise<unknown> {
    if (this.#wordWait && this.#wordSeen === seen) return this.#wordWait;
    const result = Atomics.waitAsync(this.#wakeWord, 0, seen);
    this.#wordSeen = seen;
    this.#wordWait = result.async ? result.value : Promise.resolve();
    return this.#wordWait;
  }

  /** Serves one call message: runs it, posts the events it caused, then the reply. */
  handle(message: PcpuCallMessage): void {
    let reply: PcpuEventMessage;
    try {
      const handler = this.#handlers[message.op] as (args: unknown) => unknown;
      if (typeof handler !== "function") {
        throw new TypeError(`Unknown pCPU call ${JSON.stringify(message.op)}`);
      }
      reply = { kind: "reply", seq: message.seq, ok: true, result: handler(message.args) };
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      reply = {
        kind: "reply",
        seq: message.seq,
        ok: false,
        error: { name: e.name, message: e.message },
      };
    }
    this.#flush();
    this.#port.postMessage(reply);
    // The call may have made work (an unpause, console input): run it now.
    this.#wake?.();
  }

  /** Posts the batched console output, then the queued events. */
  #flush(): void {
    for (const [domid, chunks] of this.#console) {
      if (chunks.length === 0) continue;
      const bytes = concat(chunks);
      chunks.length = 0;
      this.#port.postMessage({ kind: "console", domid, bytes }, [bytes.buffer]);
    }
    for (const event of this.#events.splice(0)) this.#port.postMessage(event);
  }

  #domain(ref: DomainRef): Domain {
    const domain = typeof ref === "number" ? this.hv.domain(ref) : this.hv.domainByName(ref);
    if (!domain) throw new RangeError(`No domain ${JSON.stringify(ref)}`);
    return domain;
  }

  #adopt(domain: Domain): void {
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    this.#console.set(domain.id, chunks);
    domain.console.listen((bytes) => chunks.push(bytes.slice()));
  }

  #destroy(domain: Domain): void {
    this.#retiredInstructions += domain.vcpus.reduce((n, v) => n + v.hart.instret, 0);
    const now = this.hv.clock.now();
    this.#retiredCpuNs += domain.vcpus.reduce((n, v) => n + v.cpuTime(now), 0);
    this.hv.destroy(domain);
    // Post its last output before it is announced gone.
    this.#flush();
    this.#console.delete(domain.id);
    this.#events.push({ kind: "destroyed", domid: domain.id, name: domain.name });
  }

  #summary(domain: Domain): DomainSummary {
    const now = this.hv.clock.now();
    let ready = false;
    let up = 0;
    let blocked = 0;
    let cpu = 0;
    for (const vcpu of domain.vcpus) {
      cpu += vcpu.cpuTime(now);
      if (vcpu.runstate === RUNSTATE_running || vcpu.runstate === RUNSTATE_runnable) ready = true;
      if (vcpu.up) up++;
      if (vcpu.up && vcpu.runstate === RUNSTATE_blocked) blocked++;
    }
    const reason = domain.shutdownReason;
    return {
      id: domain.id,
      name: domain.name,
      pages: domain.pages,
      maxPages: domain.maxPages,
      vcpus: domain.vcpus.length,
      state: domain.state,
      flags: {
        running: ready,
        blocked: up > 0 && blocked === up,
        paused: domain.pauseCount > 0,
        shutdown: reason !== undefined,
        crashed: reason === SHUTDOWN_crash,
        dying: domain.dying,
      },
      shutdownReason: reason ?? null,
      cpuTimeNs: cpu,
      weight: domain.weight,
      cap: domain.cap,
      built: domain.layout !== undefined,
    };
  }

  #doorbell(id: number, buffer: SharedArrayBuffer): Doorbell {
    let doorbell = this.#doorbells.get(id);
    if (!doorbell) {
      doorbell = new Doorbell(this.hv.wake, buffer);
      this.#doorbells.set(id, doorbell);
    }
    return doorbell;
  }

  #sched(domain: Domain): SchedCreditEntry {
    return { id: domain.id, name: domain.name, weight: domain.weight, cap: domain.cap };
  }

  readonly #handlers: Handlers = {
    create: ({ config, kernel, paused }) => {
      const domain = this.hv.createDomain(config, kernel);
      this.#adopt(domain);
      if (!paused) this.hv.unpause(domain);
      return this.#summary(domain);
    },
    allocate: ({ config }) => {
      const domain = this.hv.allocateDomain(config);
      this.#adopt(domain);
      return this.#summary(domain);
    },
    build: ({ domain: ref, kernel, cmdline, module }) => {
      const domain = this.#domain(ref);
      this.hv.buildDomain(domain, kernel, { cmdline, module });
      return this.#summary(domain);
    },
    bindInterdomain: ({ a, b }) => {
      const left = this.#domain(a);
      const right = this.#domain(b);
      const leftPort = left.events.allocUnbound(right.id);
      if (leftPort < 0) throw new RangeError(`Cannot allocate a port in domain ${left.id}`);
      const rightPort = right.events.bindInterdomain(left.id, leftPort);
      if (rightPort < 0) {
        left.events.close(leftPort);
        throw new RangeError(`Cannot bind a port in domain ${right.id} (error ${rightPort})`);
      }
      return [leftPort, rightPort];
    },
    pause: ({ domain: ref }) => {
      const domain = this.#domain(ref);
      this.hv.pause(domain);
      return this.#summary(domain);
    },
    unpause: ({ domain: ref }) => {
      const domain = this.#domain(ref);
      if (domain.layout === undefined) {
        throw new RangeError(`Domain ${domain.id} has no kernel yet (build it first)`);
      }
      this.hv.unpause(domain);
      return this.#summary(domain);
    },
    shutdown: ({ domain: ref, reason }) => {
      const domain = this.#domain(ref);
      if (!Number.isInteger(reason) || reason < 0 || reason > 5) {
        throw new RangeError(`Shutdown reason ${reason} is not a SHUTDOWN_* value`);
      }
      this.hv.shutdown(domain, reason);
      return this.#summary(domain);
    },
    destroy: ({ domain: ref }) => {
      this.#destroy(this.#domain(ref));
      return null;
    },
    schedGet: ({ domain: ref }) =>
      ref === undefined
        ? this.hv.domains.map((d) => this.#sched(d))
        : [this.#sched(this.#domain(ref))],
    schedSet: ({ domain: ref, weight, cap }) => {
      const domain = this.#domain(ref);
      this.hv.setSchedParams(domain, { weight, cap });
      return this.#sched(domain);
    },
    consoleInput: ({ domain: ref, bytes }) => {
      const domain = this.#domain(ref);
      const dropped = domain.console.droppedInput;
      this.hv.consoleInput(domain, bytes);
      return bytes.length - (domain.console.droppedInput - dropped);
    },
    consoleHistory: ({ domain: ref }) => this.#domain(ref).console.history(),
    list: () => this.hv.domains.map((d) => this.#summary(d)),
    dmesg: () => this.hv.dmesg(),
    info: (): HostInfo => {
      const totalPages = DOMAIN_FRAMES_END - DOMAIN_FRAMES_FIRST;
      const now = this.hv.clock.now();
      let instructions = this.#retiredInstructions;
      let guestCpuTimeNs = this.#retiredCpuNs;
      for (const d of this.hv.domains) {
        for (const v of d.vcpus) {
          instructions += v.hart.instret;
          guestCpuTimeNs += v.cpuTime(now);
        }
      }
      let hypercalls = 0;
      for (const n of this.hv.hypercallCounts.values()) hypercalls += n;
      return {
        totalPages,
        freePages: totalPages - this.hv.machine.framesInUse,
        pageSize: 4096,
        scheduler: this.hv.scheduler.name,
        timesliceMs: TIMESLICE_NS / 1e6,
        uptimeNs: this.hv.clock.now(),
        startedAtMs: this.#startedAtMs,
        versionMajor: XEN_VERSION_MAJOR,
        versionMinor: XEN_VERSION_MINOR,
        versionExtra: XEN_EXTRAVERSION,
        domains: this.hv.domains.length,
        instructions,
        hypercalls,
        guestCpuTimeNs,
      };
    },
    wakeBuffer: () => this.hv.wake.buffer as SharedArrayBuffer,
    foreignView: ({ domain }) => this.hv.foreignView(this.#domain(domain)),
    bindBackend: ({ domain, frontPort, doorbell, buffer, slot }) =>
      this.hv.bindBackend(this.#domain(domain), frontPort, this.#doorbell(doorbell, buffer), slot),
    offerBackendPort: ({ domain, doorbell, buffer, slot }) =>
      this.hv.offerBackendPort(this.#domain(domain), this.#doorbell(doorbell, buffer), slot),
    unbindBackend: ({ port }) => {
      this.hv.unbindBackend(port);
      return null;
    },
  };
}

function concat(chunks: Uint8Array<ArrayBuffer>[]): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

if (import.meta.main) {
  // The worker's global scope: messages in through onmessage, out through postMessage.
  const scope = globalThis as unknown as PcpuPort & {
    onmessage: ((event: MessageEvent<PcpuCallMessage>) => void) | null;
  };
  const host = new PcpuHost(scope);
  scope.onmessage = (event) => host.handle(event.data);
  scope.postMessage({ kind: "ready" });
  host.loop();
}
