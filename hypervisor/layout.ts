/**
 * The hypervisor's machine memory map, in one place (xv6's `memlayout.h`).
 *
 * ```
 *  machine address                                   what lives there
 *  0x0000_0000 ─ 0x0FFF_FFFF   (256 MiB)   never allocated: a stray MFN 0 points nowhere
 *  0x1000_0000 ─ 0xFFFF_FFFF   (3.75 GiB)  domain regions, one SharedArrayBuffer each, allocated
 *                                          first-fit; a region holds the domain's pages (its
 *                                          maximum reservation) followed by its special frames
 *  0x1_0000_0000 ─ (Sv32's 34-bit space)   unused: start-info carries 32-bit machine addresses
 * ```
 *
 * A domain region, frame by frame:
 *
 * ```
 *  [0 .. maxPages)          pseudo-physical pages (populated up to the reservation, rest free)
 *  [maxPages]               the shared-info page (owned by the domain, never freed by it)
 *  [maxPages+1 .. +G]       grant-table frames (GRANT_TABLE_MAX_FRAMES)
 * ```
 *
 * @module
 */

import { GRANT_TABLE_MAX_FRAMES } from "@paravirt/public";

/** First machine frame a domain region may use. */
export const DOMAIN_FRAMES_FIRST = 0x1_0000;
/** First machine frame past the domain area (machine addresses stay below 4 GiB). */
export const DOMAIN_FRAMES_END = 0x10_0000;
/** Frames a region holds beyond the domain's pages: shared-info and grant-table frames. */
export const SPECIAL_FRAMES: number = 1 + GRANT_TABLE_MAX_FRAMES;
/** Index within a region of the shared-info frame, given the domain's maximum pages. */
export function sharedInfoIndex(maxPages: number): number {
  return maxPages;
}
/** Index within a region of grant-table frame `n`. */
export function grantFrameIndex(maxPages: number, n: number): number {
  return maxPages + 1 + n;
}
