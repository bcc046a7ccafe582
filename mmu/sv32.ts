/**
 * Sv32 page-table entry bits and field helpers (RISC-V privileged spec, section "Sv32").
 *
 * A 32-bit PTE: PPN[1] (12 bits) | PPN[0] (10 bits) | RSW (2) | D A G U X W R V.
 * Physical addresses are 34 bits wide; a PPN is 22 bits.
 *
 * @module
 */

/** Valid. */
export const PTE_V = 1 << 0;
/** Readable. */
export const PTE_R = 1 << 1;
/** Writable. */
export const PTE_W = 1 << 2;
/** Executable. */
export const PTE_X = 1 << 3;
/** Accessible to U-mode. */
export const PTE_U = 1 << 4;
/** Global mapping. */
export const PTE_G = 1 << 5;
/** Accessed (set by the walker on use). */
export const PTE_A = 1 << 6;
/** Dirty (set by the walker on store). */
export const PTE_D = 1 << 7;

/** `satp.MODE` bit selecting Sv32 (bit 31); 0 means Bare. */
export const SATP_MODE_SV32 = 0x80000000 | 0;
/** Mask of `satp.PPN` (bits 21:0). */
export const SATP_PPN_MASK = 0x3fffff;

/** The PPN (22 bits) held in a PTE. */
export function ptePpn(pte: number): number {
  return pte >>> 10;
}

/** Builds a PTE from a 22-bit PPN and flag bits. */
export function makePte(ppn: number, flags: number): number {
  return ((ppn << 10) | (flags & 0x3ff)) | 0;
}

/** Whether a valid PTE is a leaf (has R or X) rather than a pointer to the next level. */
export function isLeaf(pte: number): boolean {
  return (pte & (PTE_R | PTE_X)) !== 0;
}
