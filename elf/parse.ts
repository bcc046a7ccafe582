/**
 * A strict reader of 32-bit little-endian RISC-V ELF executables: header, loadable segments and
 * the symbol table.
 *
 * Rules of use: every offset and size read from the file is checked against the file's length
 * before use, so a truncated or hostile image produces an {@link ElfFormatError} naming the field,
 * never an out-of-range read. Nothing is copied until the whole image has been validated.
 *
 * @module
 */

/** ELF machine number of RISC-V. */
export const EM_RISCV = 243;
/** Program header type of a loadable segment. */
export const PT_LOAD = 1;
/** Segment flag: executable. */
export const PF_X = 1;
/** Segment flag: writable. */
export const PF_W = 2;
/** Segment flag: readable. */
export const PF_R = 4;

/** The image is not a well-formed RV32 ELF executable; the message says which field is wrong. */
export class ElfFormatError extends Error {
  /** Creates the error with a message naming what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "ElfFormatError";
  }
}

/** A loadable segment. */
export interface ElfSegment {
  /** Physical load address (`p_paddr`). */
  readonly physicalAddress: number;
  /** Virtual address (`p_vaddr`). */
  readonly virtualAddress: number;
  /** Bytes present in the file (the rest up to `memorySize` is zero). */
  readonly data: Uint8Array;
  /** Size in memory. */
  readonly memorySize: number;
  /** `PF_*` flags. */
  readonly flags: number;
}

/** A parsed executable. */
export interface ElfImage {
  /** Entry point (virtual address). */
  readonly entry: number;
  /** Loadable segments, in file order. */
  readonly segments: readonly ElfSegment[];
  /** Symbol values by name (from `.symtab`, when present). */
  readonly symbols: ReadonlyMap<string, number>;
}

const HEADER_SIZE = 52;
const PHDR_SIZE = 32;
const SHDR_SIZE = 40;
const SHT_SYMTAB = 2;
const SYM_SIZE = 16;

/** Parses and validates an RV32 ELF executable. Throws {@link ElfFormatError} when malformed. */
export function parseElf(bytes: Uint8Array): ElfImage {
  if (bytes.length < HEADER_SIZE) {
    throw new ElfFormatError(`File of ${bytes.length} bytes is too short for an ELF header`);
  }
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfFormatError("Not an ELF file: the magic number is missing");
  }
  if (bytes[4] !== 1) {
    throw new ElfFormatError(`ELF class ${bytes[4]} is not 32-bit (1): RV32 images only`);
  }
  if (bytes[5] !== 1) {
    throw new ElfFormatError(`ELF data encoding ${bytes[5]} is not little-endian`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(16, true);
  if (type !== 2) throw new ElfFormatError(`ELF type ${type} is not an executable (2)`);
  const machine = view.getUint16(18, true);
  if (machine !== EM_RISCV) {
    throw new ElfFormatError(`ELF machine ${machine} is not RISC-V (${EM_RISCV})`);
  }
  const entry = view.getUint32(24, true);
  const phoff = view.getUint32(28, true);
  const shoff = view.getUint32(32, true);
  const phentsize = view.getUint16(42, true);
  const phnum = view.getUint16(44, true);
  const shentsize = view.getUint16(46, true);
  const shnum = view.getUint16(48, true);
  if (phnum === 0) throw new ElfFormatError("ELF has no program headers");
  if (phentsize !== PHDR_SIZE) {
    throw new ElfFormatError(`Program header size ${phentsize} is not ${PHDR_SIZE}`);
  }
  checkRange(bytes, phoff, phnum * PHDR_SIZE, "program header table");
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * PHDR_SIZE;
    if (view.getUint32(at, true) !== PT_LOAD) continue;
    const offset = view.getUint32(at + 4, true);
    const virtualAddress = view.getUint32(at + 8, true);
    const physicalAddress = view.getUint32(at + 12, true);
    const fileSize = view.getUint32(at + 16, true);
    const memorySize = view.getUint32(at + 20, true);
    const flags = view.getUint32(at + 24, true);
    if (fileSize > memorySize) {
      throw new ElfFormatError(
        `Segment ${i} has file size ${fileSize} larger than memory size ${memorySize}`,
      );
    }
    if (physicalAddress + memorySize > 2 ** 32) {
      throw new ElfFormatError(`Segment ${i} at 0x${physicalAddress.toString(16)} wraps 4 GiB`);
    }
    checkRange(bytes, offset, fileSize, `segment ${i}`);
    segments.push({
      physicalAddress,
      virtualAddress,
      data: bytes.subarray(offset, offset + fileSize),
      memorySize,
      flags,
    });
  }
  if (segments.length === 0) throw new ElfFormatError("ELF has no loadable segment");
  const symbols = new Map<string, number>();
  if (shoff !== 0 && shnum !== 0) {
    if (shentsize !== SHDR_SIZE) {
      throw new ElfFormatError(`Section header size ${shentsize} is not ${SHDR_SIZE}`);
    }
    checkRange(bytes, shoff, shnum * SHDR_SIZE, "section header table");
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * SHDR_SIZE;
      if (view.getUint32(at + 4, true) !== SHT_SYMTAB) continue;
      const offset = view.getUint32(at + 16, true);
      const size = view.getUint32(at + 20, true);
      const link = view.getUint32(at + 24, true);
      checkRange(bytes, offset, size, "symbol table");
      if (link >= shnum) throw new ElfFormatError(`Symbol table links to bad section ${link}`);
      const strAt = shoff + link * SHDR_SIZE;
      const strOffset = view.getUint32(strAt + 16, true);
      const strSize = view.getUint32(strAt + 20, true);
      checkRange(bytes, strOffset, strSize, "string table");
      for (let s = offset; s + SYM_SIZE <= offset + size; s += SYM_SIZE) {
        const nameOffset = view.getUint32(s, true);
        if (nameOffset === 0 || nameOffset >= strSize) continue;
        let end = strOffset + nameOffset;
        while (end < strOffset + strSize && bytes[end] !== 0) end++;
        const name = new TextDecoder().decode(bytes.subarray(strOffset + nameOffset, end));
        symbols.set(name, view.getUint32(s + 4, true));
      }
    }
  }
  return { entry, segments, symbols };
}

function checkRange(bytes: Uint8Array, offset: number, size: number, what: string): void {
  if (offset + size > bytes.length) {
    throw new ElfFormatError(
      `The ${what} (offset ${offset}, ${size} bytes) runs past the end of the ${bytes.length}-byte file`,
    );
  }
}
