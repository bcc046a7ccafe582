/**
 * Limits and sizes of machine memory, one commented constant per limit.
 *
 * @module
 */

/** log2 of the frame size: Sv32 pages are 4 KiB. */
export const PAGE_SHIFT = 12;
/** Bytes in a frame. */
export const PAGE_SIZE = 4096;
/** Sv32 physical addresses are 34 bits wide, so there are 2^22 machine frames. */
export const MAX_FRAMES = 1 << 22;
/** Entries per software-TLB set (direct-mapped, indexed by the low bits of the VPN). */
export const TLB_ENTRIES = 512;
