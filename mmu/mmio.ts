/**
 * The MMIO seam: how a device answers loads and stores to its physical address window.
 *
 * Rules of use: a device sees offsets into its own window, never physical addresses; accesses are
 * naturally aligned and 1, 2 or 4 bytes wide (the CPU turns anything else into an access fault).
 * A device must not throw on guest input: an unknown register reads as zero and ignores writes.
 *
 * @module
 */

/** Width of an MMIO access in bytes. */
export type AccessSize = 1 | 2 | 4;

/** A memory-mapped device window. */
export interface MmioDevice {
  /** Returns the value (zero-extended, at most 32 bits) read at `offset`. */
  read(offset: number, size: AccessSize): number;
  /** Stores the low `size` bytes of `value` at `offset`. */
  write(offset: number, size: AccessSize, value: number): void;
}

/** A device window in the physical address space. */
export interface MmioWindow {
  /** First physical byte address. */
  readonly base: number;
  /** Size in bytes. */
  readonly size: number;
  /**
   * The device answering accesses, or `null` when accesses leave the CPU to the host as an `mmio`
   * exit (the KVM model, used for devices emulated outside the instruction loop).
   */
  readonly device: MmioDevice | null;
}
