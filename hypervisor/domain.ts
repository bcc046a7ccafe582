/**
 * A guest domain: its memory (one region of machine frames, seen by its vCPUs through a private
 * address space), its validated paging, its event channels and shared-info page, its vCPUs, its
 * console, and its lifecycle state.
 *
 * Rules of use: created and destroyed only by the hypervisor (`hypervisor.ts`); the builder fills
 * it; hypercalls act on it. Frames of the region are owned by the domain while populated, free
 * otherwise; they never change hands to another domain, so a domain's address space holds nothing
 * but its own region.
 *
 * @module
 */

import {
  DOMID_FREE,
  ForeignMaps,
  FRAME_TYPE_WRITABLE,
  type FrameTable,
  type MemoryRegion,
  PhysicalMemory,
} from "@paravirt/mmu";
import { type ChannelDirectory, ChannelTable, PendingBits } from "@paravirt/events";
import { SHARED_INFO, VCPU_INFO } from "@paravirt/public";
import type { MachineMemory } from "./machine_memory.ts";
import { Paging } from "./paging.ts";
import { Vcpu } from "./vcpu.ts";
import type { BuildLayout } from "./builder.ts";
import { DomainConsole } from "./console.ts";
import { grantFrameIndex, sharedInfoIndex, SPECIAL_FRAMES } from "./layout.ts";
import { GRANT_TABLE_MAX_FRAMES } from "@paravirt/public";

/** What a domain is created with. */
export interface DomainParams {
  /** Name shown by the toolstack. */
  readonly name: string;
  /** Pages of memory it starts with. */
  readonly pages: number;
  /** Pages it may grow to (increase_reservation); at least `pages`. */
  readonly maxPages: number;
  /** Number of vCPUs. */
  readonly vcpus: number;
  /** Whether it may act on other domains (a control domain). */
  readonly privileged?: boolean;
}

/** A domain's lifecycle state, as `xl list` shows it. */
export type DomainState = "running" | "paused" | "shutdown" | "dying";

/** One guest domain. */
export class Domain {
  /** Domain id. */
  readonly id: number;
  /** Name. */
  readonly name: string;
  /** Whether the domain is privileged. */
  readonly privileged: boolean;
  /** The region holding all of its frames. */
  readonly region: MemoryRegion;
  /** A data view of {@link region} (for the hypervisor's writes into shared pages). */
  readonly view: DataView;
  /** The address space its vCPUs see: its own region only. */
  readonly memory: PhysicalMemory = new PhysicalMemory();
  /** Validated page tables. */
  readonly paging: Paging;
  /** Event channel ports. */
  readonly events: ChannelTable;
  /** The event bitmaps in its shared-info page. */
  readonly bits: PendingBits;
  /** Its vCPUs. */
  readonly vcpus: Vcpu[] = [];
  /** Its console (console_io). */
  readonly console: DomainConsole = new DomainConsole();
  /** Pages it may have at most. */
  readonly maxPages: number;
  /** Pages the builder gives it. */
  readonly initialPages: number;
  /** Which frames backends map writable through grants (shared with them). */
  readonly foreignMaps: ForeignMaps;
  /** Machine frame of the shared-info page. */
  readonly sharedInfoMfn: number;
  /** Machine-to-pseudo-physical map of its pages (index: frame in region; -1 when unknown). */
  readonly m2p: Int32Array;
  /** Pause count: the domain runs only at 0 (xl pause/unpause, the builder). */
  pauseCount = 1;
  /** The shutdown reason (`SHUTDOWN_*`) once it shut down. */
  shutdownReason: number | undefined;
  /** Set when destruction has begun. */
  dying = false;
  /** Pages it has now. */
  pages = 0;
  /** System time it was created at (ns). */
  readonly createdAt: number;
  /** Scheduler weight (credit scheduler; default 256). */
  weight = 256;
  /** Scheduler cap in percent of one CPU (0 = none). */
  cap = 0;
  /** Where the builder put things, once built. */
  layout: BuildLayout | undefined;
  /** System time when its first vCPU first ran, or -1. */
  firstRunAt: number = -1;

  readonly #frames: FrameTable;

  /** Creates a domain with a fresh region of machine memory (zeroed, unpopulated). */
  constructor(
    id: number,
    params: DomainParams,
    machine: MachineMemory,
    directory: ChannelDirectory,
    now: number,
  ) {
    this.id = id;
    this.name = params.name;
    this.privileged = params.privileged ?? false;
    this.maxPages = params.maxPages;
    this.initialPages = params.pages;
    this.createdAt = now;
    this.#frames = machine.frames;
    this.region = machine.allocateRegion(params.maxPages + SPECIAL_FRAMES);
    this.memory.addRegion(this.region);
    this.view = new DataView(this.region.buffer);
    this.m2p = new Int32Array(params.maxPages).fill(-1);
    this.paging = new Paging(id, machine.frames, machine.memory);
    this.paging.onPromote = () => this.memory.flushTranslations();
    this.foreignMaps = new ForeignMaps(this.region.frameCount);
    const first = this.region.firstFrame;
    this.paging.claims = {
      claim: (mfn) => this.foreignMaps.tryMarkTable(mfn - first),
      release: (mfn) => this.foreignMaps.unmarkTable(mfn - first),
    };
    this.events = new ChannelTable(id, directory);
    this.sharedInfoMfn = this.region.firstFrame + sharedInfoIndex(params.maxPages);
    this.bits = new PendingBits(this.region.words, sharedInfoIndex(params.maxPages) * 4096);
    this.events.attach(this.bits);
    // Special frames belong to the domain (it maps them) but hold a writable type reference of
    // the hypervisor's, so they can never become page tables, and a general reference, so they
    // can never be given back.
    for (let n = 0; n < SPECIAL_FRAMES; n++) {
      const mfn = this.sharedInfoMfn + n;
      machine.frames.setOwner(mfn, id);
      machine.frames.getType(mfn, FRAME_TYPE_WRITABLE);
      machine.frames.getPage(mfn, id);
    }
    for (let v = 0; v < params.vcpus; v++) this.vcpus.push(new Vcpu(id, v, this.memory));
  }

  /** Machine frame of pseudo-physical page `pfn` as the builder laid it out. */
  initialMfn(pfn: number): number {
    return this.region.firstFrame + pfn;
  }

  /** Machine frame of grant-table frame `n`. */
  grantFrameMfn(n: number): number {
    if (n < 0 || n >= GRANT_TABLE_MAX_FRAMES) throw new RangeError(`No grant frame ${n}`);
    return this.region.firstFrame + grantFrameIndex(this.maxPages, n);
  }

  /** Gives the domain page `index` of its region (allocation). */
  populate(index: number, pfn: number): void {
    this.#frames.setOwner(this.region.firstFrame + index, this.id);
    this.m2p[index] = pfn;
    this.pages++;
  }

  /**
   * Takes a frame back (decrease_reservation): it must be one of the domain's ordinary pages with
   * no references. The frame is scrubbed. Returns whether it was released.
   */
  release(mfn: number): boolean {
    const index = mfn - this.region.firstFrame;
    if (index < 0 || index >= this.maxPages) return false;
    const frames = this.#frames;
    if (frames.owner(mfn) !== this.id) return false;
    if (frames.refCount(mfn) !== 0 || frames.typeCount(mfn) !== 0) return false;
    if (this.foreignMaps.writableMaps(index) !== 0) return false; // a backend still maps it
    frames.setOwner(mfn, DOMID_FREE);
    this.m2p[index] = -1;
    this.region.bytes.fill(0, index * 4096, (index + 1) * 4096);
    this.pages--;
    // A stale TLB entry could still reach the frame; forget them all.
    this.memory.flushTranslations();
    return true;
  }

  /** Finds a free page of the region at or after `from`, or -1. */
  findFreePage(from = 0): number {
    for (let index = from; index < this.maxPages; index++) {
      if (this.#frames.owner(this.region.firstFrame + index) === DOMID_FREE) return index;
    }
    return -1;
  }

  /** The `xl list` state. */
  get state(): DomainState {
    if (this.dying) return "dying";
    if (this.shutdownReason !== undefined) return "shutdown";
    if (this.pauseCount > 0) return "paused";
    return "running";
  }

  /** Byte offset of the shared-info page in {@link region}. */
  get sharedInfoOffset(): number {
    return sharedInfoIndex(this.maxPages) * 4096;
  }

  /** vCPU 0's `evtchn_upcall_pending` and `evtchn_upcall_mask` bytes. */
  upcallFlags(): { pending: boolean; masked: boolean } {
    const base = this.sharedInfoOffset;
    const bytes = this.region.bytes;
    return {
      pending: bytes[base + VCPU_INFO.offset.evtchn_upcall_pending] !== 0,
      masked: bytes[base + VCPU_INFO.offset.evtchn_upcall_mask] !== 0,
    };
  }

  /** Whether an upcall is due for vCPU 0 (pending and not masked). */
  get upcallDue(): boolean {
    const base = this.sharedInfoOffset;
    const bytes = this.region.bytes;
    return bytes[base + VCPU_INFO.offset.evtchn_upcall_pending] !== 0 &&
      bytes[base + VCPU_INFO.offset.evtchn_upcall_mask] === 0;
  }

  /** Whether vCPU 0 has an upcall pending (masked or not). */
  get upcallPending(): boolean {
    return this.region.bytes[this.sharedInfoOffset + VCPU_INFO.offset.evtchn_upcall_pending] !==
      0;
  }

  /** Clears vCPU 0's upcall mask (SCHEDOP_block enables event delivery, as Xen's does). */
  unmaskUpcalls(): void {
    this.region.bytes[this.sharedInfoOffset + VCPU_INFO.offset.evtchn_upcall_mask] = 0;
  }

  /** Offset in {@link region} of a shared-info field. */
  sharedInfoField(name: keyof typeof SHARED_INFO.offset): number {
    return this.sharedInfoOffset + SHARED_INFO.offset[name];
  }
}
