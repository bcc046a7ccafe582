/**
 * Writes a minimal ELF32 little-endian RISC-V executable: the ELF header, one program header and one
 * `PT_LOAD` segment (read, write, execute) holding the given bytes at its load address, with the
 * entry point at the segment's first byte. No sections and no symbols: QEMU's `-kernel` loader and
 * ours need only the program header.
 *
 * @module
 */

/** Where the image loads (and starts) unless told otherwise: the first byte of RAM on `virt`. */
export const DEFAULT_LOAD_ADDRESS = 0x8000_0000;

/** Options of {@link writeElfImage}. */
export interface ElfImageOptions {
  /** Load (physical and virtual) address of the segment and the entry point; default 0x8000_0000. */
  readonly loadAddress?: number;
  /** Zero bytes the segment occupies in memory beyond the file contents (`p_memsz - p_filesz`). */
  readonly bssSize?: number;
}

const EHDR_SIZE = 52;
const PHDR_SIZE = 32;
/** The segment's file offset; page-aligned like a linker would place it. */
const SEGMENT_OFFSET = 0x1000;
const EM_RISCV = 243;
const PT_LOAD = 1;
const PF_RWX = 7;

/**
 * Returns an ELF executable whose single `PT_LOAD` segment holds `contents` at the load address.
 *
 * @throws {RangeError} when the load address is not 4-byte aligned or the segment would wrap 4 GiB.
 */
export function writeElfImage(contents: Uint8Array, options: ElfImageOptions = {}): Uint8Array {
  const load = options.loadAddress ?? DEFAULT_LOAD_ADDRESS;
  const bss = options.bssSize ?? 0;
  if (!Number.isInteger(load) || load < 0 || load > 0xffff_ffff || load % 4 !== 0) {
    throw new RangeError(`Load address must be a 4-byte-aligned 32-bit address, got ${load}`);
  }
  if (!Number.isInteger(bss) || bss < 0 || load + contents.length + bss > 0x1_0000_0000) {
    throw new RangeError(`Segment of ${contents.length}+${bss} bytes at ${load} wraps 4 GiB`);
  }
  const image = new Uint8Array(SEGMENT_OFFSET + contents.length);
  const view = new DataView(image.buffer);
  // e_ident: magic, ELFCLASS32, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV.
  image.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0]);
  view.setUint16(16, 2, true); // e_type = ET_EXEC
  view.setUint16(18, EM_RISCV, true); // e_machine
  view.setUint32(20, 1, true); // e_version
  view.setUint32(24, load, true); // e_entry
  view.setUint32(28, EHDR_SIZE, true); // e_phoff
  view.setUint32(32, 0, true); // e_shoff
  view.setUint32(36, 0, true); // e_flags: no RVC, soft-float ABI
  view.setUint16(40, EHDR_SIZE, true); // e_ehsize
  view.setUint16(42, PHDR_SIZE, true); // e_phentsize
  view.setUint16(44, 1, true); // e_phnum
  view.setUint16(46, 40, true); // e_shentsize (ELF32 section header size, though there are none)
  view.setUint16(48, 0, true); // e_shnum
  view.setUint16(50, 0, true); // e_shstrndx
  const ph = EHDR_SIZE;
  view.setUint32(ph + 0, PT_LOAD, true); // p_type
  view.setUint32(ph + 4, SEGMENT_OFFSET, true); // p_offset
  view.setUint32(ph + 8, load, true); // p_vaddr
  view.setUint32(ph + 12, load, true); // p_paddr
  view.setUint32(ph + 16, contents.length, true); // p_filesz
  view.setUint32(ph + 20, contents.length + bss, true); // p_memsz
  view.setUint32(ph + 24, PF_RWX, true); // p_flags
  view.setUint32(ph + 28, SEGMENT_OFFSET, true); // p_align
  image.set(contents, SEGMENT_OFFSET);
  return image;
}
