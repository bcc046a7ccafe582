/**
 * Netback: the backend of one virtual network interface (`io/netif.h`) — the guest's transmit
 * ring drained into the bridge, the bridge's frames copied into the guest's posted receive
 * buffers.
 *
 * Transmit (guest → bridge), for each packet on the tx ring:
 * - its slots are copied out one by one and checked before anything is done with them: the first
 *   request, its extra-info slots, its further fragments (`NETTXF_more_data`);
 * - fatal (the vif is disconnected, as Xen's `xenvif_fatal_tx_err`): a packet that runs past the
 *   published requests, needs {@link NET_FATAL_TX_SLOTS} slots or more, has an extra-info slot of
 *   an unknown type, or a fragment crossing its page; a producer index more than a ring ahead;
 * - dropped with `NETIF_RSP_ERROR` on each of its slots (the vif goes on): shorter than an
 *   Ethernet header, longer than the frame cap, fragments adding up to more than the packet, more
 *   than {@link NET_MAX_TX_SLOTS} fragments, a GSO request (not offered), a grant that cannot be
 *   copied (bad reference, not granted to us, not the frontend's page);
 * - otherwise the fragments are copied out of the granted pages (`GrantMapper.copyFrom`) into one
 *   frame, handed to the bridge, and every slot answered `NETIF_RSP_OKAY` (extra info:
 *   `NETIF_RSP_NULL`). A packet waits on the ring, unconsumed, while the bridge's queue is full.
 *
 * Receive (bridge → guest): a frame waits in the bridge's queue until the guest has posted enough
 * rx requests (one page each; a frame over one page needs `feature-sg`, else it is dropped) —
 * for at most {@link NET_RX_STALL_MS}, then it is dropped so the queue moves on;
 * then it is copied into those pages (`GrantMapper.copyTo`) and each request answered in its own
 * slot with the bytes placed, `NETRXF_more_data` on all but the last; a bad grant answers
 * `NETIF_RSP_ERROR` and the frame counts as an error.
 *
 * Batching: up to {@link NET_BATCH} packets per ring per pass; responses are published once per
 * pass and the frontend notified only if it asked (`rsp_event`); before sleeping the backend asks
 * to be notified of new requests (`req_event`) and looks once more.
 *
 * Rules of use: the ring pages and data pages are reached only through a {@link GrantMapper}; no
 * guest input throws out of {@link Netback.service} — a fatal error disconnects the vif (its
 * mappings are released) and is reported through `onDisconnect`. Counters are from the guest's
 * point of view: `tx` is what the guest sent, `rx` what it received.
 *
 * @module
 */

import {
  GNTST_okay,
  NETIF_RSP_ERROR,
  NETIF_RSP_NULL,
  NETIF_RSP_OKAY,
  NETIF_RX_SLOT_SIZE,
  NETIF_TX_SLOT_SIZE,
  NETRXF_more_data,
  NETTXF_extra_info,
  NETTXF_more_data,
  XEN_NETIF_EXTRA_FLAG_MORE,
  XEN_NETIF_EXTRA_TYPE_GSO,
  XEN_NETIF_EXTRA_TYPE_MAX,
  XEN_NETIF_EXTRA_TYPE_NONE,
} from "@paravirt/public";
import { BackRing } from "../ring.ts";
import { GrantMapper, type GrantSource } from "../grant_mapper.ts";
import { MappingLedger } from "./mapping_ledger.ts";
import { type LinkSide, type PortLinkHandle, portSide } from "./port_link.ts";
import {
  ETH_HLEN,
  NET_BATCH,
  NET_FATAL_TX_SLOTS,
  NET_IDLE_POLL_MS,
  NET_MAX_FRAME,
  NET_MAX_TX_SLOTS,
  NET_RX_STALL_MS,
} from "./params.ts";

const PAGE = 4096;
const KIND_FRAGMENT = 0;
const KIND_EXTRA = 1;

/** The doorbell a netback uses (the backend side of `Doorbell` from `@paravirt/events`). */
export interface NetbackDoorbell {
  /** Sends an event on `slot`'s port. */
  kick(slot: number): void;
  /** Waits until rung or `timeoutMs` passes. */
  wait(timeoutMs: number): Promise<void>;
  /** Takes the slots rung since the last call. */
  takeRings(): number;
}

/** How a netback reaches its frontend and the bridge. */
export interface NetbackOptions {
  /** The frontend's memory (its domain's foreign view). */
  source: GrantSource;
  /** The doorbell carrying the vif's event channel(s) and the bridge's bell. */
  doorbell: NetbackDoorbell;
  /** Doorbell slot of the tx ring's event channel. */
  txSlot: number;
  /** Doorbell slot of the rx ring's event channel (the same as `txSlot` with one channel). */
  rxSlot: number;
  /** Grant of the tx ring page (`tx-ring-ref`). */
  txRingRef: number;
  /** Grant of the rx ring page (`rx-ring-ref`). */
  rxRingRef: number;
  /** The link to the bridge (this end: the port's side). */
  link: PortLinkHandle;
  /** Whether the frontend accepts frames over several rx slots (`feature-sg`). */
  sg?: boolean;
  /** Largest frame the guest may send (default: the link's cap). */
  maxFrame?: number;
  /** The backend's domain id (default 0). */
  backendDomid?: number;
  /** Called once when the vif is disconnected for a fatal frontend error. */
  onDisconnect?: (reason: string) => void;
  /** Where the ring mappings are recorded for the supervisor (see `mapping_ledger.ts`). */
  ledger?: SharedArrayBuffer;
}

/** Counters of one vif (from the guest's point of view). */
export interface NetbackMetrics {
  /** Frames the guest sent that went to the bridge. */
  txFrames: number;
  /** Their bytes. */
  txBytes: number;
  /** Packets the guest sent that were answered `NETIF_RSP_ERROR`. */
  txErrors: number;
  /** Frames delivered into the guest's buffers. */
  rxFrames: number;
  /** Their bytes. */
  rxBytes: number;
  /** Frames for the guest that hit a bad rx grant. */
  rxErrors: number;
  /** Frames for the guest dropped (too large for its buffers without `feature-sg`). */
  rxDropped: number;
  /** Notifications sent to the guest. */
  notifications: number;
  /** Times the backend woke up. */
  wakeups: number;
}

/** A frontend broke the protocol badly enough to be disconnected. */
class FatalFrontendError extends Error {}

/** The backend of one vif (see the module doc). */
export class Netback {
  /** Counters (see {@link NetbackMetrics}). */
  readonly metrics: NetbackMetrics = {
    txFrames: 0,
    txBytes: 0,
    txErrors: 0,
    rxFrames: 0,
    rxBytes: 0,
    rxErrors: 0,
    rxDropped: 0,
    notifications: 0,
    wakeups: 0,
  };
  /** Largest frame the guest may send. */
  readonly maxFrame: number;
  readonly #mapper: GrantMapper;
  readonly #doorbell: NetbackDoorbell;
  readonly #txSlot: number;
  readonly #rxSlot: number;
  readonly #sg: boolean;
  readonly #tx: BackRing;
  readonly #rx: BackRing;
  readonly #side: LinkSide;
  readonly #onDisconnect?: (reason: string) => void;
  readonly #ledger?: MappingLedger;
  // Scratch, reused for every packet.
  readonly #slot = new Uint8Array(NETIF_TX_SLOT_SIZE);
  readonly #slotView = new DataView(this.#slot.buffer);
  readonly #txResponse = new Uint8Array(4);
  readonly #txResponseView = new DataView(this.#txResponse.buffer);
  readonly #rxRequest = new Uint8Array(NETIF_RX_SLOT_SIZE);
  readonly #rxRequestView = new DataView(this.#rxRequest.buffer);
  readonly #rxResponse = new Uint8Array(NETIF_RX_SLOT_SIZE);
  readonly #rxResponseView = new DataView(this.#rxResponse.buffer);
  readonly #kind = new Uint8Array(NET_FATAL_TX_SLOTS);
  readonly #gref = new Uint32Array(NET_FATAL_TX_SLOTS);
  readonly #offset = new Uint16Array(NET_FATAL_TX_SLOTS);
  readonly #size = new Uint16Array(NET_FATAL_TX_SLOTS);
  readonly #id = new Uint16Array(NET_FATAL_TX_SLOTS);
  readonly #frame: Uint8Array;
  readonly #inFrame: Uint8Array;
  /** Length of a tx frame waiting for room in the bridge's queue, or -1. */
  #txBlocked = -1;
  /** When the frame at the head of the bridge's queue started waiting for rx buffers, or -1. */
  #rxStall = -1;
  // The packet being gathered: next ring index, slots so far, verdict and length.
  #cursor = 0;
  #slots = 0;
  #status = NETIF_RSP_OKAY;
  #length = 0;
  #disconnected: string | undefined;
  #stopped = false;

  /**
   * Connects to the frontend's rings: maps `txRingRef` and `rxRingRef` writable and resumes
   * where their published responses stand. Throws a RangeError naming the grant and its
   * `GNTST_*` status if a ring cannot be mapped (nothing stays mapped).
   */
  constructor(options: NetbackOptions) {
    const { link } = options;
    this.maxFrame = options.maxFrame ?? link.maxFrame;
    if (!Number.isInteger(this.maxFrame) || this.maxFrame < ETH_HLEN) {
      throw new RangeError(`Frame cap ${options.maxFrame} is below an Ethernet header`);
    }
    if (this.maxFrame > link.maxFrame || this.maxFrame > NET_MAX_FRAME) {
      throw new RangeError(`Frame cap ${this.maxFrame} exceeds the link's ${link.maxFrame}`);
    }
    this.#mapper = new GrantMapper(options.source, options.backendDomid ?? 0);
    this.#doorbell = options.doorbell;
    this.#txSlot = options.txSlot;
    this.#rxSlot = options.rxSlot;
    this.#sg = options.sg ?? false;
    this.#onDisconnect = options.onDisconnect;
    this.#side = portSide(link);
    this.#frame = new Uint8Array(this.maxFrame);
    this.#inFrame = new Uint8Array(link.maxFrame);
    const tx = this.#mapper.map(options.txRingRef, true);
    if (typeof tx === "number") {
      throw new RangeError(`tx-ring-ref ${options.txRingRef} cannot be mapped (status ${tx})`);
    }
    const rx = this.#mapper.map(options.rxRingRef, true);
    if (typeof rx === "number") {
      this.#mapper.unmap(tx);
      throw new RangeError(`rx-ring-ref ${options.rxRingRef} cannot be mapped (status ${rx})`);
    }
    if (options.ledger) {
      this.#ledger = new MappingLedger(options.ledger);
      this.#ledger.record(0, options.txRingRef, tx.offset / 4096);
      this.#ledger.record(1, options.rxRingRef, rx.offset / 4096);
    }
    this.#tx = new BackRing(options.source.buffer, tx.offset, NETIF_TX_SLOT_SIZE);
    this.#rx = new BackRing(options.source.buffer, rx.offset, NETIF_RX_SLOT_SIZE);
    this.#tx.resume();
    this.#rx.resume();
  }

  /** Why the vif was disconnected, or undefined while it is connected. */
  get disconnected(): string | undefined {
    return this.#disconnected;
  }

  /** Grants the backend holds mapped (the two ring pages while connected). */
  get mappedGrants(): number {
    return this.#mapper.mapped;
  }

  /**
   * Does the work waiting on both rings (one batch each). Returns the packets and frames moved;
   * 0 means idle. Never throws for guest input: a fatal error disconnects the vif.
   */
  service(): number {
    if (this.#disconnected !== undefined || this.#stopped) return 0;
    try {
      return this.#transmit() + this.#receive();
    } catch (error) {
      this.disconnect(error instanceof Error ? error.message : String(error));
      return 0;
    }
  }

  /** Disconnects the vif: releases every mapping and reports `reason` (once). */
  disconnect(reason: string): void {
    if (this.#disconnected !== undefined) return;
    this.#disconnected = reason;
    this.#unmapRings();
    this.#onDisconnect?.(reason);
  }

  // ---- transmit --------------------------------------------------------------------------------

  /** Copies the slot at ring index `index` into the scratch slot. */
  #copySlot(index: number): void {
    this.#tx.copyRequest(index, this.#slot);
  }

  /**
   * Reads the packet starting at the consumer index without consuming it. Returns its slot count
   * (kinds and fields in the scratch arrays) and leaves the verdict in `#status`/`#length`.
   * Throws FatalFrontendError for what disconnects.
   */
  #gather(producer: number): number {
    const view = this.#slotView;
    this.#cursor = this.#tx.reqCons;
    this.#slots = 0;
    let status = NETIF_RSP_OKAY;
    // The first request.
    let at = this.#take(producer, "first");
    this.#kind[at] = KIND_FRAGMENT;
    this.#gref[at] = view.getUint32(0, true);
    this.#offset[at] = view.getUint16(4, true);
    let flags = view.getUint16(6, true);
    this.#id[at] = view.getUint16(8, true);
    const total = view.getUint16(10, true);
    this.#size[at] = total;
    // Its extra-info slots.
    if ((flags & NETTXF_extra_info) !== 0) {
      for (;;) {
        at = this.#take(producer, "extra info");
        this.#kind[at] = KIND_EXTRA;
        const type = this.#slot[0];
        if (type === XEN_NETIF_EXTRA_TYPE_NONE || type >= XEN_NETIF_EXTRA_TYPE_MAX) {
          throw new FatalFrontendError(`Extra info of unknown type ${type}`);
        }
        if (type === XEN_NETIF_EXTRA_TYPE_GSO) status = NETIF_RSP_ERROR; // GSO is not offered
        if ((this.#slot[1] & XEN_NETIF_EXTRA_FLAG_MORE) === 0) break;
      }
    }
    // Further fragments; their sizes are their own, the first's is what remains.
    let fragments = 1;
    let rest = 0;
    while ((flags & NETTXF_more_data) !== 0) {
      at = this.#take(producer, "fragment");
      this.#kind[at] = KIND_FRAGMENT;
      this.#gref[at] = view.getUint32(0, true);
      const offset = view.getUint16(4, true);
      flags = view.getUint16(6, true);
      this.#id[at] = view.getUint16(8, true);
      const size = view.getUint16(10, true);
      if (offset + size > PAGE) {
        throw new FatalFrontendError(
          `A tx fragment crosses its page (offset ${offset}, ${size} B)`,
        );
      }
      this.#offset[at] = offset;
      this.#size[at] = size;
      rest += size;
      fragments++;
    }
    if (
      fragments > NET_MAX_TX_SLOTS || total < ETH_HLEN || total > this.maxFrame || rest > total
    ) {
      status = NETIF_RSP_ERROR;
    } else {
      const first = total - rest;
      if (this.#offset[0] + first > PAGE) {
        throw new FatalFrontendError(
          `A tx packet's first fragment crosses its page (offset ${this.#offset[0]}, ${first} B)`,
        );
      }
      this.#size[0] = first;
    }
    this.#status = status;
    this.#length = total;
    return this.#slots;
  }

  /** Copies the next slot of the packet being gathered; returns its position in the packet. */
  #take(producer: number, what: string): number {
    if (this.#slots >= NET_FATAL_TX_SLOTS) {
      throw new FatalFrontendError(`A tx packet needs ${NET_FATAL_TX_SLOTS} slots or more`);
    }
    if (this.#cursor === producer) {
      throw new FatalFrontendError(`A tx packet runs past the published requests (${what})`);
    }
    this.#copySlot(this.#cursor);
    this.#cursor = (this.#cursor + 1) >>> 0;
    return this.#slots++;
  }

  /** Copies the gathered fragments into the frame; false if a grant fails. */
  #copyFragments(slots: number): boolean {
    let at = 0;
    for (let i = 0; i < slots; i++) {
      if (this.#kind[i] !== KIND_FRAGMENT) continue;
      const size = this.#size[i];
      const code = this.#mapper.copyFrom(
        this.#gref[i],
        this.#offset[i],
        size,
        this.#frame.subarray(at, at + size),
      );
      if (code !== GNTST_okay) return false;
      at += size;
    }
    return true;
  }

  #respondTx(slots: number, status: number): void {
    const view = this.#txResponseView;
    for (let i = 0; i < slots; i++) {
      const extra = this.#kind[i] === KIND_EXTRA;
      view.setUint16(0, extra ? 0 : this.#id[i], true);
      view.setInt16(2, extra ? NETIF_RSP_NULL : status, true);
      this.#tx.putResponse(this.#txResponse);
    }
  }

  #transmit(): number {
    const ring = this.#tx;
    const outbound = this.#side.outbound;
    let packets = 0;
    let published = false;
    while (packets < NET_BATCH) {
      const waiting = ring.unconsumed(); // throws RingOverflowError on a lying producer
      if (waiting === 0) break;
      const slots = this.#gather((ring.reqCons + waiting) >>> 0);
      let status = this.#status;
      if (status === NETIF_RSP_OKAY && !outbound.fits(this.#length)) {
        this.#txBlocked = this.#length; // leave it on the ring until the bridge makes room
        break;
      }
      this.#txBlocked = -1;
      if (status === NETIF_RSP_OKAY && !this.#copyFragments(slots)) status = NETIF_RSP_ERROR;
      if (status === NETIF_RSP_OKAY) {
        outbound.write(this.#frame, this.#length);
        published = true;
        this.metrics.txFrames++;
        this.metrics.txBytes += this.#length;
      } else {
        this.metrics.txErrors++;
      }
      this.#respondTx(slots, status);
      ring.reqCons = (ring.reqCons + slots) >>> 0;
      packets++;
    }
    // Frames to the bridge first, then the responses: a worker killed in between makes its
    // successor send them again rather than lose them.
    if (published && outbound.publish()) this.#side.peer.ring();
    if (packets > 0 && ring.pushResponses()) this.#notify(this.#txSlot);
    return packets;
  }

  #notify(slot: number): void {
    this.#doorbell.kick(slot);
    this.metrics.notifications++;
  }

  // ---- receive ---------------------------------------------------------------------------------

  /** Rx slots a frame of `length` bytes needs. */
  static #slotsFor(length: number): number {
    return length <= PAGE ? 1 : Math.ceil(length / PAGE);
  }

  #receive(): number {
    const ring = this.#rx;
    const inbound = this.#side.inbound;
    let frames = 0;
    let consumed = false;
    while (frames < NET_BATCH) {
      const length = inbound.peekLength();
      if (length < 0) break;
      const need = Netback.#slotsFor(length);
      if (need > 1 && !this.#sg) {
        inbound.skip();
        consumed = true;
        this.metrics.rxDropped++;
        continue;
      }
      if (ring.unconsumed() < need) {
        // Wait for the guest to post buffers — but not forever.
        const now = performance.now();
        if (this.#rxStall < 0) this.#rxStall = now;
        if (now - this.#rxStall < NET_RX_STALL_MS) break;
        inbound.skip();
        consumed = true;
        this.#rxStall = -1;
        this.metrics.rxDropped++;
        continue;
      }
      this.#rxStall = -1;
      inbound.read(this.#inFrame);
      consumed = true;
      let failed = false;
      for (let k = 0; k < need; k++) {
        ring.takeRequest(this.#rxRequest);
        const id = this.#rxRequestView.getUint16(0, true);
        const gref = this.#rxRequestView.getUint32(4, true);
        const start = k * PAGE;
        const chunk = Math.min(PAGE, length - start);
        const code = this.#mapper.copyTo(gref, 0, this.#inFrame.subarray(start, start + chunk));
        if (code !== GNTST_okay) failed = true;
        const view = this.#rxResponseView;
        view.setUint16(0, id, true);
        view.setUint16(2, 0, true);
        view.setUint16(4, k < need - 1 ? NETRXF_more_data : 0, true);
        view.setInt16(6, code === GNTST_okay ? chunk : NETIF_RSP_ERROR, true);
        ring.putResponse(this.#rxResponse);
      }
      if (failed) {
        this.metrics.rxErrors++;
      } else {
        this.metrics.rxFrames++;
        this.metrics.rxBytes += length;
      }
      frames++;
    }
    // Responses first, then the queue space: a worker killed in between redelivers a frame
    // rather than losing it (receive is at least once, as transmit is).
    if (frames > 0 && ring.pushResponses()) this.#notify(this.#rxSlot);
    if (consumed && inbound.release()) this.#side.peer.ring();
    return frames;
  }

  // ---- sleeping --------------------------------------------------------------------------------

  /**
   * Asks to be woken for whatever the backend waits on (new tx requests or room in the bridge's
   * queue; frames from the bridge, or rx buffers for the one waiting) and looks once more.
   * Returns true if it may sleep.
   */
  prepareToSleep(): boolean {
    if (this.#disconnected !== undefined) return true;
    try {
      if (this.#txBlocked >= 0) {
        if (this.#side.outbound.prepareWait(this.#txBlocked)) return false;
      } else if (this.#tx.finalCheckForRequests()) {
        return false;
      }
      if (this.#side.inbound.prepareWait()) {
        // A frame waits: sleep only until the guest has posted the buffers it needs.
        const need = Netback.#slotsFor(this.#side.inbound.peekLength());
        if (this.#rx.finalCheckForRequests(need)) return false;
      }
      return true;
    } catch (error) {
      this.disconnect(error instanceof Error ? error.message : String(error));
      return true;
    }
  }

  /**
   * Serves the vif until {@link stop} or a disconnect: service, and sleep on the doorbell when
   * idle (an idle poll of {@link NET_IDLE_POLL_MS} bounds a missed notification). Yields to the
   * event loop every few milliseconds when busy, so the worker's messages get through.
   */
  async run(): Promise<void> {
    let busySince = performance.now();
    while (!this.#stopped && this.#disconnected === undefined) {
      if (this.service() > 0) {
        if (performance.now() - busySince > 5) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          busySince = performance.now();
        }
        continue;
      }
      if (this.prepareToSleep()) {
        await this.#doorbell.wait(NET_IDLE_POLL_MS);
        this.#doorbell.takeRings();
        this.metrics.wakeups++;
      }
      busySince = performance.now();
    }
  }

  /**
   * Stops serving for good: {@link run} returns (within one idle poll), the ring mappings are
   * released, and {@link service} does nothing from now on.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unmapRings();
  }

  #unmapRings(): void {
    this.#mapper.unmapAll();
    this.#ledger?.clear(0);
    this.#ledger?.clear(1);
  }
}
