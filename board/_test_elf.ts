/**
 * Test support: writes a minimal ELF32 RISC-V executable with one `PT_LOAD` segment whose virtual
 * and physical addresses may differ, as a kernel linked at virtual addresses is.
 *
 * @module
 */

/** Options of {@link writeKernelElf}. */
export interface KernelElfOptions {
  /** Virtual address of the segment (and base of the entry point). */
  virtualAddress: number;
  /** Physical address of the segment. */
  physicalAddress: number;
  /** Entry point as an offset into the segment (default 0). */
  entryOffset?: number;
}

/** Returns an ELF executable holding `code` in one RWX segment. */
export function writeKernelElf(code: Uint8Array, options: KernelElfOptions): Uint8Array {
  const offset = 0x1000;
  const image = new Uint8Array(offset + code.length);
  const view = new DataView(image.buffer);
  image.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0]);
  view.setUint16(16, 2, true); // ET_EXEC
  view.setUint16(18, 243, true); // EM_RISCV
  view.setUint32(20, 1, true);
  view.setUint32(24, options.virtualAddress + (options.entryOffset ?? 0), true);
  view.setUint32(28, 52, true); // e_phoff
  view.setUint16(40, 52, true);
  view.setUint16(42, 32, true);
  view.setUint16(44, 1, true);
  view.setUint16(46, 40, true);
  view.setUint32(52, 1, true); // PT_LOAD
  view.setUint32(56, offset, true);
  view.setUint32(60, options.virtualAddress, true);
  view.setUint32(64, options.physicalAddress, true);
  view.setUint32(68, code.length, true);
  view.setUint32(72, code.length, true);
  view.setUint32(76, 7, true);
  view.setUint32(80, 0x1000, true);
  image.set(code, offset);
  return image;
}
