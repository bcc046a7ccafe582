/**
 * The hypervisor: domains and their vCPUs on one physical CPU, the hypercall and trap exits, the
 * timers, event delivery, and the loop that the credit scheduler drives.
 *
 * Rules of use:
 * - The core is synchronous. A host (a pCPU worker, a test, the showcase) calls {@link
 *   Hypervisor.run} with a time budget; it returns when the budget is spent ("busy") or when
 *   nothing can run ("idle", with the time something will change by itself). The host then sleeps
 *   or yields to its event loop; input from outside (console, toolstack) arrives between calls.
 * - Guest input never throws out of here: hypercalls answer with -errno; a fault in the
 *   hypervisor's own handling of a guest is contained by crashing that domain, logged.
 * - Domain 0 is the TypeScript control domain: it has event channels (dispatched to handlers by
 *   {@link Hypervisor.dom0}) but no memory and no vCPUs.
 *
 * @module
 */

import { CAUSE_ILLEGAL_INSTRUCTION, IRQ_S_EXT, IRQ_S_TIMER, run } from "@paravirt/cpu";
import { ChannelTable, type Doorbell, HostEvents, WakeWord } from "@paravirt/events";
import type { Exit } from "@paravirt/cpu";
import {
  DOMID_FIRST_RESERVED,
  EFAULT,
  ENOSYS,
  GRANT_TABLE_MAX_FRAMES,
  HYPERCALL_EXTENSION,
  HYPERCALL_NAMES,
  RUNSTATE_blocked,
  RUNSTATE_offline,
  RUNSTATE_runnable,
  RUNSTATE_running,
  SHARED_INFO,
  SHUTDOWN_crash,
  TSC_SHIFT,
  TSC_TO_SYSTEM_MUL,
  VCPU_INFO,
  VIRQ_CONSOLE,
  VIRQ_DOM_EXC,
  VIRQ_TIMER,
} from "@paravirt/public";
import { type Clock, SystemClock, ticksAt } from "./clock.ts";
import { MachineMemory } from "./machine_memory.ts";
import { Domain } from "./domain.ts";
import type { BlockReason, Vcpu } from "./vcpu.ts";
import { type BuildLayout, buildPvDomain, checkKernel } from "./builder.ts";
import { GuestFault } from "./guest_memory.ts";
import { emulateIllegal } from "./emulate.ts";
import { handleSbi } from "./sbi.ts";
import { HYPERCALLS } from "./hypercalls/table.ts";
import type { HypercallHost } from "./hypercalls/host.ts";
import type { Scheduler } from "./scheduler/scheduler.ts";
import { CreditScheduler } from "./scheduler/credit.ts";
import {
  CHUNK_IO_INSTRUCTIONS,
  CHUNK_MAX_INSTRUCTIONS,
  INITIAL_INSTRUCTIONS_PER_SECOND,
  IO_ACTIVE_NS,
  LOG_LINES,
  MAX_DOMAIN_PAGES,
  MAX_DOMAINS,
  MAX_VCPUS,
  MIN_DOMAIN_PAGES,
} from "./params.ts";

/** What a domain is created from (the parsed form of an xl config). */
export interface DomainConfig {
  /** Name (unique among live domains). */
  name: string;
  /** Memory in MiB. */
  memoryMiB: number;
  /** Maximum memory in MiB (default: `memoryMiB`). */
  maxMemoryMiB?: number;
  /** vCPUs (default 1). */
  vcpus?: number;
  /** Kernel command line. */
  cmdline?: string;
  /** Boot module (initrd). */
  module?: Uint8Array;
  /** Credit scheduler weight (default 256). */
  weight?: number;
  /** Credit scheduler cap in percent (default 0 = none). */
  cap?: number;
}

/** The result of {@link Hypervisor.run}. */
export type RunResult =
  /** The time budget was spent with work left. */
  | { readonly kind: "busy" }
  /** Nothing can run until `until` (system time ns; Infinity: only outside input can help). */
  | { readonly kind: "idle"; readonly until: number };

/**
 * What domain 0 needs to serve a domain's devices from another thread: the domain's memory (its
 * region's buffer — only this domain's) and where its grant table and rings are. Backends reach
 * frames only through grants checked against this view (`@paravirt/drivers`).
 */
export interface ForeignDomainView {
  /** Domain id. */
  readonly domid: number;
  /** The domain's region (all its frames). */
  readonly buffer: SharedArrayBuffer;
  /** Machine frame of the region's first frame. */
  readonly firstFrame: number;
  /** Frames in the region. */
  readonly frameCount: number;
  /** Ordinary pages (indices below this); the rest are special frames. */
  readonly maxPages: number;
  /** Index in the region of the first grant-table frame. */
  readonly grantFrameIndex: number;
  /** Grant-table frames. */
  readonly grantFrames: number;
  /** The shared foreign-mapping words (see `ForeignMaps` in `@paravirt/mmu`). */
  readonly foreignMaps: SharedArrayBuffer;
  /** Machine frame of the xenstore ring page, and its port (unbound for dom0). */
  readonly store: { readonly mfn: number; readonly port: number } | undefined;
  /** Machine frame of the console ring page, and its port (unbound for dom0). */
  readonly console: { readonly mfn: number; readonly port: number } | undefined;
}

/** Options for a {@link Hypervisor}. */
export interface HypervisorOptions {
  /** System time source (default: the host's monotonic clock). */
  clock?: Clock;
  /** Scheduling policy (default: the credit scheduler). */
  scheduler?: Scheduler<Vcpu>;
}

const BUSY: RunResult = Object.freeze({ kind: "busy" });

/** The hypervisor of one host. */
export class Hypervisor implements HypercallHost {
  /** System time. */
  readonly clock: Clock;
  /** All machine memory. */
  readonly machine: MachineMemory = new MachineMemory();
  /** The scheduling policy. */
  readonly scheduler: Scheduler<Vcpu>;
  /** Domain 0's event channel table. */
  readonly dom0Events: ChannelTable;
  /** Domain 0's event delivery: register handlers for its ports here. */
  readonly dom0: HostEvents;
  /** Called when a domain shuts down (after its state changed). */
  onShutdown: (domain: Domain) => void = () => {};
  /** Called for each hypervisor log line (besides keeping it for `dmesg`). */
  onLog: (line: string) => void = () => {};
  /** Hypercalls served, by number (a metric). */
  readonly hypercallCounts: Map<number, number> = new Map();
  /** Exits handled, by kind (a metric). */
  readonly exitCounts: Map<string, number> = new Map();

  /** The word a sleeping host waits on: every backend kick bumps it. */
  readonly wake: WakeWord = new WakeWord();

  readonly #domains = new Map<number, Domain>();
  /** Per doorbell: slot → dom0 port (-1 when unused). */
  readonly #doorbells = new Map<Doorbell, Int32Array>();
  #wakeSeen = 0;
  /** Until when backends are busy (short chunks, so their kicks are seen soon). */
  #ioActiveUntil = 0;
  readonly #log: string[] = [];
  #nextDomid = 1;
  #current: Vcpu | undefined;
  #endSlice = false;
  #nextTimer = Infinity;
  /**
   * System time as of the last exit or loop step: state changes made while handling an exit use
   * it instead of asking the clock again (reading the host clock costs more than an exit).
   */
  #now = 0;
  /** Measured instructions per ns of wall time. */
  #ipns = INITIAL_INSTRUCTIONS_PER_SECOND / 1e9;
  readonly #args = new Int32Array(6);

  /** Creates a hypervisor with no guest domains. */
  constructor(options: HypervisorOptions = {}) {
    this.clock = options.clock ?? new SystemClock();
    this.scheduler = options.scheduler ?? new CreditScheduler<Vcpu>();
    this.dom0Events = new ChannelTable(0, { table: (domid) => this.table(domid) });
    this.dom0 = new HostEvents(this.dom0Events);
    this.log(`paravirt hypervisor started; scheduler ${this.scheduler.name}`);
  }

  /** The channel table of `domid` (domain 0 included): the event channels' directory. */
  table(domid: number): ChannelTable | undefined {
    if (domid === 0) return this.dom0Events;
    return this.#domains.get(domid)?.events;
  }

  /** A guest domain by id. */
  domain(domid: number): Domain | undefined {
    return this.#domains.get(domid);
  }

  /** The live guest domains, by id. */
  get domains(): Domain[] {
    return [...this.#domains.values()];
  }

  /** A guest domain by name. */
  domainByName(name: string): Domain | undefined {
    return this.domains.find((d) => d.name === name);
  }

  /** Writes a line to the hypervisor log. */
  log(line: string): void {
    const stamped = `(XEN) [${(this.clock.now() / 1e9).toFixed(6)}] ${line}`;
    this.#log.push(stamped);
    if (this.#log.length > LOG_LINES) this.#log.shift();
    this.onLog(stamped);
  }

  /** The hypervisor log (`xl dmesg`). */
  dmesg(): string[] {
    return [...this.#log];
  }

  // ---- Domain lifecycle ----------------------------------------------------------------------

  /**
   * Creates and builds a domain from a PV kernel image; it starts paused (unpause it to run).
   * Throws a RangeError for a bad configuration and a `BuildError` for an image that is malformed
   * or does not fit; nothing is left allocated then.
   */
  createDomain(config: DomainConfig, kernel: Uint8Array): Domain {
    const domain = this.allocateDomain(config);
    try {
      this.buildDomain(domain, kernel, { cmdline: config.cmdline, module: config.module });
    } catch (error) {
      this.destroy(domain);
      throw error;
    }
    return domain;
  }

  /**
   * The first half of {@link createDomain} (Xen's `domain_create`): a paused, empty domain with
   * its memory and event channels, so a toolstack can wire channels before the kernel boots.
   * Throws a RangeError for a bad configuration.
   */
  allocateDomain(config: DomainConfig): Domain {
    const { name } = config;
    if (typeof name !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
      throw new RangeError(`Domain name ${JSON.stringify(name)} is not 1-64 of [A-Za-z0-9._-]`);
    }
    if (this.domainByName(name)) throw new RangeError(`A domain named "${name}" already exists`);
    const pages = mibToPages(config.memoryMiB, "memory");
    const maxPages = mibToPages(config.maxMemoryMiB ?? config.memoryMiB, "maxmem");
    if (maxPages < pages) {
      throw new RangeError(`maxmem ${config.maxMemoryMiB} MiB is below memory ${config.memoryMiB}`);
    }
    const vcpus = config.vcpus ?? 1;
    if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > MAX_VCPUS) {
      throw new RangeError(`vcpus ${vcpus} is outside 1..${MAX_VCPUS}`);
    }
    if (this.#domains.size >= MAX_DOMAINS) {
      throw new RangeError(`The host already runs ${MAX_DOMAINS} domains`);
    }
    const domid = this.#allocateDomid();
    const domain = new Domain(
      domid,
      { name, pages, maxPages, vcpus },
      this.machine,
      this,
      this.clock.now(),
    );
    this.#domains.set(domid, domain);
    domain.events.onUpcall = () => this.#upcallLine(domain);
    domain.events.onPending = () => this.#wakePollers(domain);
    domain.console.onInput = () => domain.events.raiseVirq(VIRQ_CONSOLE);
    for (const vcpu of domain.vcpus) {
      vcpu.hart.readTime = () => ticksAt(this.clock.now());
      vcpu.runstateEntry = domain.createdAt;
      this.scheduler.insert(vcpu);
    }
    this.setSchedParams(domain, { weight: config.weight ?? 256, cap: config.cap ?? 0 });
    this.log(
      `d${domid} "${name}": ${pages} pages, ${vcpus} vCPU(s), machine frames 0x${
        domain.region.firstFrame.toString(16)
      }+${domain.region.frameCount}`,
    );
    return domain;
  }

  /**
   * The second half of {@link createDomain} (Xen's domain builder): loads the kernel, allocates
   * the xenstore and console ports (unbound, for dom0), and readies vCPU 0. The domain stays
   * paused. Throws a `BuildError` for an image that is malformed or does not fit.
   */
  buildDomain(
    domain: Domain,
    kernel: Uint8Array,
    options: { cmdline?: string; module?: Uint8Array } = {},
  ): BuildLayout {
    if (domain.vcpus[0].baseMfn >= 0) throw new RangeError(`Domain ${domain.id} is already built`);
    checkKernel(kernel, domain.initialPages);
    const storePort = domain.events.allocUnbound(0);
    const consolePort = domain.events.allocUnbound(0);
    const layout = buildPvDomain(domain, kernel, {
      cmdline: options.cmdline,
      module: options.module,
      storeEvtchn: storePort,
      consoleEvtchn: consolePort,
    });
    // Stores to the shared-info page can lower or raise the upcall line at once.
    domain.memory.watchStores(domain.sharedInfoMfn * 4096, () => this.#upcallLine(domain));
    this.#writeWallClock(domain);
    domain.layout = layout;
    return layout;
  }

  #allocateDomid(): number {
    for (;;) {
      const domid = this.#nextDomid;
      this.#nextDomid = domid + 1 >= DOMID_FIRST_RESERVED ? 1 : domid + 1;
      if (!this.#domains.has(domid)) return domid;
    }
  }

  /** Unpauses a domain (the builder leaves it paused). */
  unpause(domain: Domain): void {
    if (domain.pauseCount === 0) throw new RangeError(`Domain ${domain.id} is not paused`);
    domain.pauseCount--;
    this.#refreshDomain(domain);
  }

  /** Pauses a domain (nestable). */
  pause(domain: Domain): void {
    domain.pauseCount++;
    this.#refreshDomain(domain);
  }

  /** Shuts a domain down with `reason` (SHUTDOWN_*); its vCPUs stop; dom0 hears VIRQ_DOM_EXC. */
  shutdown(domain: Domain, reason: number): void {
    if (domain.shutdownReason !== undefined || domain.dying) return;
    domain.shutdownReason = reason;
    this.#refreshDomain(domain);
    this.log(`d${domain.id} "${domain.name}" shut down (reason ${reason})`);
    this.dom0Events.raiseVirq(VIRQ_DOM_EXC);
    this.onShutdown(domain);
  }

  /** Destroys a domain: its vCPUs leave the scheduler, its ports close, its memory is freed. */
  destroy(domain: Domain): void {
    if (this.#domains.get(domain.id) !== domain) return;
    domain.dying = true;
    this.#refreshDomain(domain);
    for (const vcpu of domain.vcpus) this.scheduler.remove(vcpu);
    domain.events.closeAll();
    this.#domains.delete(domain.id);
    this.machine.releaseRegion(domain.region);
    this.log(`d${domain.id} "${domain.name}" destroyed`);
  }

  /** Sets a domain's credit-scheduler weight and/or cap. Throws RangeError for bad values. */
  setSchedParams(domain: Domain, params: { weight?: number; cap?: number }): void {
    this.scheduler.setParams(domain.id, params);
    const applied = this.scheduler.params(domain.id);
    domain.weight = applied.weight;
    domain.cap = applied.cap;
  }

  /** Sends typed input to a domain's console. */
  consoleInput(domain: Domain, bytes: Uint8Array): void {
    domain.console.input(bytes);
  }

  // ---- Backends in other threads -------------------------------------------------------------

  /** The view of `domain` a backend needs (see {@link ForeignDomainView}). */
  foreignView(domain: Domain): ForeignDomainView {
    const layout = domain.layout;
    return {
      domid: domain.id,
      buffer: domain.region.buffer as SharedArrayBuffer,
      firstFrame: domain.region.firstFrame,
      frameCount: domain.region.frameCount,
      maxPages: domain.maxPages,
      grantFrameIndex: domain.grantFrameMfn(0) - domain.region.firstFrame,
      grantFrames: GRANT_TABLE_MAX_FRAMES,
      foreignMaps: domain.foreignMaps.buffer,
      store: layout && {
        mfn: domain.initialMfn(layout.storePfn),
        port: layout.storePort,
      },
      console: layout && {
        mfn: domain.initialMfn(layout.consolePfn),
        port: layout.consolePort,
      },
    };
  }

  /**
   * Connects a dom0 backend to a frontend's unbound port: binds a dom0 port to it, routes its
   * events to `doorbell` slot `slot`, and sends on it when the backend kicks that slot. Returns
   * the dom0 port or -errno.
   */
  bindBackend(frontend: Domain, frontPort: number, doorbell: Doorbell, slot: number): number {
    const port = this.dom0Events.bindInterdomain(frontend.id, frontPort);
    if (port < 0) return port;
    this.#link(port, doorbell, slot);
    return port;
  }

  /**
   * Offers a frontend a new dom0 port to bind (the backend allocates, the frontend binds): routed
   * to `doorbell` slot `slot` like {@link bindBackend}. Returns the dom0 port or -errno.
   */
  offerBackendPort(frontend: Domain, doorbell: Doorbell, slot: number): number {
    const port = this.dom0Events.allocUnbound(frontend.id);
    if (port < 0) return port;
    this.#link(port, doorbell, slot);
    return port;
  }

  #link(port: number, doorbell: Doorbell, slot: number): void {
    let slots = this.#doorbells.get(doorbell);
    if (!slots) {
      slots = new Int32Array(32).fill(-1);
      this.#doorbells.set(doorbell, slots);
    }
    slots[slot] = port;
    this.dom0.handle(port, () => {
      this.#ioActiveUntil = this.#now + IO_ACTIVE_NS;
      doorbell.ring(slot);
    });
  }

  /** Closes a backend's dom0 port and forgets its doorbell route. */
  unbindBackend(port: number): void {
    this.dom0.forget(port);
    this.dom0Events.close(port);
    for (const [doorbell, slots] of this.#doorbells) {
      const at = slots.indexOf(port);
      if (at >= 0) slots[at] = -1;
      if (slots.every((p) => p < 0)) this.#doorbells.delete(doorbell);
    }
  }

  /** Sends the events backends asked for (their kicks), if any arrived. */
  #serviceKicks(): void {
    const seen = this.wake.value;
    if (seen === this.#wakeSeen) return;
    this.#wakeSeen = seen;
    this.#ioActiveUntil = this.#now + IO_ACTIVE_NS;
    for (const [doorbell, slots] of this.#doorbells) {
      let kicks = doorbell.takeKicks();
      while (kicks !== 0) {
        const slot = 31 - Math.clz32(kicks);
        kicks &= ~(1 << slot);
        const port = slots[slot];
        if (port > 0) this.dom0Events.send(port);
      }
    }
  }

  // ---- vCPU states ---------------------------------------------------------------------------

  /** Recomputes every vCPU state of `domain` after a lifecycle change. */
  #refreshDomain(domain: Domain): void {
    const now = this.#now = this.clock.now();
    for (const vcpu of domain.vcpus) this.#refresh(domain, vcpu, now);
  }

  /** Derives `vcpu`'s runstate from its domain and block state, telling the scheduler. */
  #refresh(domain: Domain, vcpu: Vcpu, now: number): void {
    let state: number;
    if (
      !vcpu.up || domain.pauseCount > 0 || domain.shutdownReason !== undefined || domain.dying
    ) {
      state = RUNSTATE_offline;
    } else if (vcpu.blockedOn !== undefined) {
      state = RUNSTATE_blocked;
    } else {
      state = vcpu === this.#current ? RUNSTATE_running : RUNSTATE_runnable;
    }
    const before = vcpu.runstate;
    if (state === before) return;
    const wasReady = before === RUNSTATE_runnable || before === RUNSTATE_running;
    const isReady = state === RUNSTATE_runnable || state === RUNSTATE_running;
    vcpu.setRunstate(state, now);
    if (!wasReady && isReady) this.scheduler.wake(vcpu, now);
    if (wasReady && !isReady) {
      this.scheduler.sleep(vcpu);
      if (vcpu === this.#current) this.#endSlice = true;
    }
  }

  /** Blocks `vcpu` until its wake condition holds (at once if it already does). */
  block(vcpu: Vcpu, reason: BlockReason): void {
    const domain = this.#domains.get(vcpu.domid);
    if (!domain) return;
    vcpu.blockedOn = reason;
    if (!this.#shouldWake(domain, vcpu, this.#now)) {
      this.#refresh(domain, vcpu, this.#now);
    } else {
      vcpu.blockedOn = undefined;
    }
  }

  /** Brings `vcpu` up or takes it down (a down vCPU never runs; its state is kept). */
  setVcpuUp(vcpu: Vcpu, up: boolean): void {
    const domain = this.#domains.get(vcpu.domid);
    if (!domain || vcpu.up === up) return;
    vcpu.up = up;
    this.#refresh(domain, vcpu, this.#now);
    if (up) this.timersChanged(vcpu);
  }

  /** Ends `vcpu`'s slice and sends it behind its peers. */
  yieldVcpu(vcpu: Vcpu): void {
    this.scheduler.yield(vcpu);
    if (vcpu === this.#current) this.#endSlice = true;
  }

  #shouldWake(domain: Domain, vcpu: Vcpu, now: number): boolean {
    switch (vcpu.blockedOn) {
      case undefined:
        return false;
      case "events":
        return vcpu.id === 0 && domain.upcallPending;
      case "wfi":
        return ((vcpu.hart.mipLines | vcpu.hart.mipSoftware) & vcpu.hart.mie) !== 0;
      case "poll":
        return now >= vcpu.pollDeadline ||
          vcpu.pollPorts.some((port) => domain.events.isPending(port));
    }
  }

  #wakeIfReady(domain: Domain, vcpu: Vcpu, now: number): void {
    if (vcpu.blockedOn === undefined || !this.#shouldWake(domain, vcpu, now)) return;
    vcpu.blockedOn = undefined;
    vcpu.pollPorts = [];
    vcpu.pollDeadline = Infinity;
    this.#refresh(domain, vcpu, now);
  }

  /** Drives vCPU 0's external-interrupt line from the upcall flags, and wakes waiters. */
  #upcallLine(domain: Domain): void {
    const vcpu = domain.vcpus[0];
    const bit = 1 << IRQ_S_EXT;
    if (domain.upcallDue) vcpu.hart.mipLines |= bit;
    else vcpu.hart.mipLines &= ~bit;
    for (const v of domain.vcpus) this.#wakeIfReady(domain, v, this.#now);
  }

  #wakePollers(domain: Domain): void {
    for (const v of domain.vcpus) {
      if (v.blockedOn === "poll") this.#wakeIfReady(domain, v, this.#now);
    }
  }

  // ---- Timers --------------------------------------------------------------------------------

  /** A vCPU's timers changed: fire any already due, and remember the earliest deadline. */
  timersChanged(vcpu: Vcpu): void {
    const next = Math.min(vcpu.timerDeadline, vcpu.sbiTimerDeadline, vcpu.pollDeadline);
    if (next < this.#nextTimer) this.#nextTimer = next;
    if (next <= this.#now) this.#fireTimers(this.#now);
  }

  #fireTimers(now: number): void {
    let next = Infinity;
    for (const domain of this.#domains.values()) {
      for (const vcpu of domain.vcpus) {
        if (vcpu.timerDeadline <= now) {
          vcpu.timerDeadline = Infinity;
          domain.events.raiseVirq(VIRQ_TIMER);
        }
        if (vcpu.sbiTimerDeadline <= now) {
          vcpu.sbiTimerDeadline = Infinity;
          vcpu.hart.mipLines |= 1 << IRQ_S_TIMER;
          this.#wakeIfReady(domain, vcpu, now);
        }
        if (vcpu.pollDeadline <= now) this.#wakeIfReady(domain, vcpu, now);
        next = Math.min(next, vcpu.timerDeadline, vcpu.sbiTimerDeadline, vcpu.pollDeadline);
      }
    }
    this.#nextTimer = next;
  }

  // ---- Time in the shared-info page ----------------------------------------------------------

  #writeWallClock(domain: Domain): void {
    const view = domain.view;
    const wall = this.clock.wallAtZero;
    const seconds = Math.floor(wall / 1e9);
    const version = domain.sharedInfoField("wc_version");
    view.setUint32(version, view.getUint32(version, true) + 1, true);
    view.setUint32(domain.sharedInfoField("wc_sec"), seconds >>> 0, true);
    view.setUint32(domain.sharedInfoField("wc_nsec"), wall - seconds * 1e9, true);
    view.setUint32(domain.sharedInfoField("wc_sec_hi"), Math.floor(seconds / 2 ** 32), true);
    view.setUint32(version, view.getUint32(version, true) + 1, true);
  }

  /** Refreshes vCPU 0's `vcpu_time_info` (Xen's version protocol: odd while writing). */
  #writeTime(domain: Domain, now: number): void {
    const view = domain.view;
    const base = domain.sharedInfoOffset + SHARED_INFO.offset.vcpu0_time;
    const o = VCPU_INFO.offset;
    const at = (field: number) => base + field - o.time_version;
    const version = view.getUint32(at(o.time_version), true);
    view.setUint32(at(o.time_version), (version + 1) | 1, true);
    const ticks = ticksAt(now);
    setU64(view, at(o.time_tsc_timestamp), ticks);
    setU64(view, at(o.time_system_time), ticks * 100);
    view.setUint32(at(o.time_tsc_to_system_mul), TSC_TO_SYSTEM_MUL, true);
    view.setInt8(at(o.time_tsc_shift), TSC_SHIFT);
    view.setUint32(at(o.time_version), ((version + 1) | 1) + 1, true);
  }

  // ---- The loop ------------------------------------------------------------------------------

  /** Runs guests for up to `maxNs` of system time (see the module rules). */
  run(maxNs: number): RunResult {
    const clock = this.clock;
    const end = clock.now() + maxNs;
    for (;;) {
      const now = this.#now = clock.now();
      if (now >= this.#nextTimer) this.#fireTimers(now);
      this.#serviceKicks();
      if (this.dom0.due) this.dom0.dispatch();
      if (now >= end) return BUSY;
      const pick = this.scheduler.pick(now);
      if (pick.unit === null) {
        return { kind: "idle", until: Math.min(pick.until, this.#nextTimer) };
      }
      this.#runSlice(pick.unit, Math.min(now + pick.sliceNs, end), now);
    }
  }

  #runSlice(vcpu: Vcpu, until: number, started: number): void {
    const domain = this.#domains.get(vcpu.domid)!;
    const clock = this.clock;
    const hart = vcpu.hart;
    this.#current = vcpu;
    this.#endSlice = false;
    vcpu.setRunstate(RUNSTATE_running, started);
    if (domain.firstRunAt < 0) domain.firstRunAt = started;
    if (vcpu.id === 0) this.#writeTime(domain, started);
    this.#upcallLine(domain);
    let now = started;
    while (!this.#endSlice) {
      const span = Math.min(until, this.#nextTimer) - now;
      let budget = Math.ceil(span * this.#ipns);
      const chunkMax = now < this.#ioActiveUntil ? CHUNK_IO_INSTRUCTIONS : CHUNK_MAX_INSTRUCTIONS;
      if (budget > chunkMax) budget = chunkMax;
      else if (budget < 1000) budget = 1000;
      const before = hart.instret;
      const exit = run(hart, budget);
      const after = this.#now = clock.now();
      if (exit.kind === "budget" && after > now) {
        const measured = (hart.instret - before) / (after - now);
        if (measured > 0) this.#ipns = this.#ipns * 0.9 + measured * 0.1;
      }
      now = after;
      if (exit.kind !== "budget") this.#handleExit(domain, vcpu, exit);
      if (now >= this.#nextTimer) this.#fireTimers(now);
      this.#serviceKicks();
      if (this.dom0.due) this.dom0.dispatch();
      if (now >= until || this.scheduler.preempts(vcpu, now)) break;
    }
    this.#current = undefined;
    this.scheduler.charge(vcpu, now - started, now);
    if (vcpu.runstate === RUNSTATE_running) vcpu.setRunstate(RUNSTATE_runnable, now);
  }

  #handleExit(domain: Domain, vcpu: Vcpu, exit: Exit): void {
    this.exitCounts.set(exit.kind, (this.exitCounts.get(exit.kind) ?? 0) + 1);
    switch (exit.kind) {
      case "budget":
        return;
      case "wfi":
        this.block(vcpu, "wfi");
        return;
      case "ecall":
        this.#ecall(domain, vcpu);
        return;
      case "trap":
        if (exit.cause === CAUSE_ILLEGAL_INSTRUCTION) {
          emulateIllegal(domain, vcpu, exit.tval, exit.privilege);
          return;
        }
        this.#crash(domain, `unexpected trap (cause ${exit.cause}, tval 0x${hex(exit.tval)})`);
        return;
      case "breakpoint":
      case "mmio":
      case "halt":
        this.#crash(domain, `unexpected ${exit.kind} exit`);
        return;
      default: {
        const unreachable: never = exit;
        this.#crash(domain, `unknown exit ${JSON.stringify(unreachable)}`);
      }
    }
  }

  #ecall(domain: Domain, vcpu: Vcpu): void {
    const hart = vcpu.hart;
    const x = hart.x;
    // Resume after the ecall, even if the call blocks the vCPU.
    hart.pc = (hart.pc + 4) | 0;
    if ((x[17] >>> 0) === HYPERCALL_EXTENSION) {
      const args = this.#args;
      for (let i = 0; i < 6; i++) args[i] = x[10 + i];
      x[10] = this.call(domain, vcpu, x[16], args);
      return;
    }
    try {
      handleSbi(this, domain, vcpu);
    } catch (error) {
      this.#crash(domain, `hypervisor fault serving SBI call: ${error}`);
    }
  }

  /** Runs hypercall `op` for `vcpu` and returns its result (never throws on guest input). */
  call(domain: Domain, vcpu: Vcpu, op: number, args: Int32Array): number {
    const handler = HYPERCALLS.get(op);
    if (!handler) return -ENOSYS;
    vcpu.hypercalls++;
    this.hypercallCounts.set(op, (this.hypercallCounts.get(op) ?? 0) + 1);
    try {
      return handler(this, domain, vcpu, args);
    } catch (error) {
      if (error instanceof GuestFault) return -EFAULT;
      this.#crash(domain, `hypervisor fault in ${HYPERCALL_NAMES[op] ?? op}: ${error}`);
      return -EFAULT;
    }
  }

  #crash(domain: Domain, why: string): void {
    this.log(`d${domain.id} "${domain.name}" crashed: ${why}`);
    this.shutdown(domain, SHUTDOWN_crash);
  }
}

function mibToPages(mib: number, key: string): number {
  if (typeof mib !== "number" || !Number.isFinite(mib) || mib <= 0) {
    throw new RangeError(`${key} ${mib} is not a positive number of MiB`);
  }
  const pages = Math.floor(mib * 256);
  if (pages < MIN_DOMAIN_PAGES || pages > MAX_DOMAIN_PAGES || pages !== mib * 256) {
    throw new RangeError(
      `${key} ${mib} MiB is outside ${MIN_DOMAIN_PAGES / 256}..${MAX_DOMAIN_PAGES / 256} MiB ` +
        `or not a whole number of pages`,
    );
  }
  return pages;
}

function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / 2 ** 32), true);
}

function hex(value: number): string {
  return (value >>> 0).toString(16);
}
