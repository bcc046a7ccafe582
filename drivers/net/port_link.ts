/**
 * A port link: what connects one bridge port to the worker on its other end (a netback, or a
 * host-socket port) — two {@link FrameQueueWriter frame queues}, one per direction, and a bell
 * for each end.
 *
 * A bell is a slot of a `Doorbell` (`@paravirt/events`): ringing it sets the slot's bit and wakes
 * whoever waits on that doorbell. The bridge has one doorbell for all its ports (slot
 * {@link BRIDGE_BELL_SLOT}); a netback is rung on a spare slot of the doorbell it already waits on
 * for its event channels ({@link NETBACK_BRIDGE_SLOT}), so it sleeps on one word.
 *
 * Rules of use: a link is plain data ({@link PortLinkHandle}) that crosses threads by
 * `postMessage`; each end builds its side with {@link portSide} or {@link bridgeSide}. An end
 * never trusts the other (see `frame_queue.ts`); a bell only ever wakes, so a hostile end can at
 * worst wake the other in vain or make it sleep until its idle poll.
 *
 * @module
 */

import { Doorbell, DOORBELL_SLOTS } from "@paravirt/events";
import { createFrameQueue, FrameQueueReader, FrameQueueWriter } from "./frame_queue.ts";
import { NET_MAX_FRAME, NET_QUEUE_BYTES } from "./params.ts";

/** The bridge's doorbell slot its ports ring. */
export const BRIDGE_BELL_SLOT = 0;
/** The netback doorbell slot the bridge rings (slots 0 and 1 carry the vif's event channels). */
export const NETBACK_BRIDGE_SLOT = 2;

/** A bell as it crosses threads: a doorbell's buffer and the slot to ring. */
export interface BellHandle {
  /** The doorbell's shared state. */
  readonly buffer: SharedArrayBuffer;
  /** The slot. */
  readonly slot: number;
}

/** A bell ready to ring. */
export interface Bell {
  /** Wakes the other end. */
  ring(): void;
}

/** Builds a bell from its handle. */
export function openBell(handle: BellHandle): Bell {
  // Ringing never touches the pCPU wake word, so a private one does.
  const doorbell = Doorbell.from(handle.buffer, new SharedArrayBuffer(4));
  const slot = handle.slot;
  if (!Number.isInteger(slot) || slot < 0 || slot >= DOORBELL_SLOTS) {
    throw new RangeError(`Bell slot ${slot} is outside 0..${DOORBELL_SLOTS - 1}`);
  }
  return { ring: () => doorbell.ring(slot) };
}

/** The shared parts of one port link (structured-cloneable). */
export interface PortLinkHandle {
  /** Frames from the port's worker to the bridge. */
  readonly toBridge: SharedArrayBuffer;
  /** Frames from the bridge to the port's worker. */
  readonly toPort: SharedArrayBuffer;
  /** Rung by the port's worker: the bridge's bell. */
  readonly bridgeBell: BellHandle;
  /** Rung by the bridge: the port worker's bell. */
  readonly portBell: BellHandle;
  /** Largest frame either side accepts. */
  readonly maxFrame: number;
}

/** Options of {@link createPortLink}. */
export interface PortLinkOptions {
  /** Bytes of each queue's data area (power of two; default {@link NET_QUEUE_BYTES}). */
  queueBytes?: number;
  /** Largest frame (default {@link NET_MAX_FRAME}). */
  maxFrame?: number;
}

/** Creates the queues of a link between a bridge (rung on `bridgeBell`) and a port's worker. */
export function createPortLink(
  bridgeBell: BellHandle,
  portBell: BellHandle,
  options: PortLinkOptions = {},
): PortLinkHandle {
  const bytes = options.queueBytes ?? NET_QUEUE_BYTES;
  const maxFrame = options.maxFrame ?? NET_MAX_FRAME;
  if (!Number.isInteger(maxFrame) || maxFrame < 14 || maxFrame > NET_MAX_FRAME) {
    throw new RangeError(`Frame cap ${maxFrame} is outside 14..${NET_MAX_FRAME}`);
  }
  return {
    toBridge: createFrameQueue(bytes),
    toPort: createFrameQueue(bytes),
    bridgeBell,
    portBell,
    maxFrame,
  };
}

/** One end of a link: what it reads, what it writes, and the bell of the other end. */
export interface LinkSide {
  /** Frames arriving at this end. */
  readonly inbound: FrameQueueReader;
  /** Frames leaving this end. */
  readonly outbound: FrameQueueWriter;
  /** The other end's bell. */
  readonly peer: Bell;
}

/** The port worker's side of a link. */
export function portSide(link: PortLinkHandle): LinkSide {
  return {
    inbound: new FrameQueueReader(link.toPort, link.maxFrame),
    outbound: new FrameQueueWriter(link.toBridge, link.maxFrame),
    peer: openBell(link.bridgeBell),
  };
}

/** The bridge's side of a link. */
export function bridgeSide(link: PortLinkHandle): LinkSide {
  return {
    inbound: new FrameQueueReader(link.toBridge, link.maxFrame),
    outbound: new FrameQueueWriter(link.toPort, link.maxFrame),
    peer: openBell(link.portBell),
  };
}
