/**
 * A guest's memory without a hypervisor, for unit tests of the network backend: a region of
 * ordinary pages and one grant-table frame, as a `GrantSource`, with a {@link TsNetfront} on it
 * and a netback doorbell and bridge link ready to use.
 *
 * @module
 */

import { Doorbell, WakeWord } from "@paravirt/events";
import { ForeignMaps } from "@paravirt/mmu";
import type { GrantSource } from "../grant_mapper.ts";
import { NET_QUEUE_MIN_BYTES } from "./params.ts";
import {
  BRIDGE_BELL_SLOT,
  createPortLink,
  NETBACK_BRIDGE_SLOT,
  type PortLinkHandle,
} from "./port_link.ts";
import { TsNetfront, type TsNetfrontOptions } from "./ts_netfront.ts";

/** Ordinary pages of the test guest. */
export const TEST_GUEST_PAGES = 160;
/** Its first machine frame. */
export const TEST_GUEST_FIRST_FRAME = 0x2000;

/** A test guest with a netfront, and the parts a netback needs. */
export interface TestGuest {
  /** The guest's memory as a backend sees it. */
  readonly source: GrantSource;
  /** The TypeScript frontend. */
  readonly front: TsNetfront;
  /** The netback's doorbell (slot 0: tx and rx events; slot 2: the bridge). */
  readonly doorbell: Doorbell;
  /** The link to a bridge this thread plays. */
  readonly link: PortLinkHandle;
  /** The bridge's doorbell. */
  readonly bridgeBell: Doorbell;
}

/** Builds a test guest (domid 7) with a netfront using pages 0.. of its region. */
export function testGuest(options: Partial<TsNetfrontOptions> = {}): TestGuest {
  const frames = TEST_GUEST_PAGES + 1;
  const buffer = new SharedArrayBuffer(frames * 4096);
  const source: GrantSource = {
    domid: 7,
    buffer,
    firstFrame: TEST_GUEST_FIRST_FRAME,
    maxPages: TEST_GUEST_PAGES,
    grantFrameIndex: TEST_GUEST_PAGES,
    grantFrames: 1,
    foreignMaps: new ForeignMaps(frames).buffer,
  };
  const txBuffers = options.txBuffers ?? 32;
  const rxBuffers = options.rxBuffers ?? 32;
  const pages = Array.from({ length: 2 + txBuffers + rxBuffers }, (_, i) => i);
  const front = new TsNetfront(source, { pages, txBuffers, rxBuffers, ...options });
  const wake = new WakeWord();
  const doorbell = new Doorbell(wake);
  const bridgeBell = new Doorbell(wake);
  const link = createPortLink(
    { buffer: bridgeBell.buffer, slot: BRIDGE_BELL_SLOT },
    { buffer: doorbell.buffer, slot: NETBACK_BRIDGE_SLOT },
    { queueBytes: NET_QUEUE_MIN_BYTES },
  );
  return { source, front, doorbell, link, bridgeBell };
}
