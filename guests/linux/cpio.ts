/**
 * The "newc" cpio archive format (magic `070701`), as the Linux kernel unpacks an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst): each entry is a 110-byte ASCII
 * header of thirteen 8-digit hex fields, the NUL-terminated name padded to a multiple of 4, then
 * the data padded to a multiple of 4; the archive ends with the entry `TRAILER!!!`.
 *
 * Rules of use: {@link writeCpio} takes entries in the order they must be created (a directory
 * before what it holds); names are relative paths without `.` or `..` parts. Bad entries are
 * refused with a RangeError naming them. {@link readCpio} reads a newc archive back (the tests use
 * it, and GNU `cpio -t` agrees with both).
 *
 * @module
 */

/** File type bits of `mode` (from `<sys/stat.h>`). */
export const S_IFMT = 0o170000;
/** Directory. */
export const S_IFDIR = 0o040000;
/** Regular file. */
export const S_IFREG = 0o100000;
/** Character device. */
export const S_IFCHR = 0o020000;
/** Symbolic link (the data is the target). */
export const S_IFLNK = 0o120000;

/** One archive member. */
export interface CpioEntry {
  /** Relative path, `/`-separated (`dev/console`). */
  readonly name: string;
  /** Type and permission bits (`S_IFREG | 0o755`). */
  readonly mode: number;
  /** File contents or link target (regular files and links only). */
  readonly data?: Uint8Array;
  /** Device numbers of a character device. */
  readonly rdev?: { readonly major: number; readonly minor: number };
  /** Modification time in seconds since the epoch (default 0, so archives are reproducible). */
  readonly mtime?: number;
}

const MAGIC = "070701";
const HEADER_SIZE = 110;
const TRAILER = "TRAILER!!!";
const MAX_FIELD = 0xffff_ffff;

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function checkEntry(entry: CpioEntry): void {
  const name = entry.name;
  const parts = name.split("/");
  if (
    name === "" || name.startsWith("/") || name.includes("\0") || name === TRAILER ||
    parts.some((p) => p === "" || p === "." || p === "..")
  ) {
    throw new RangeError(`Archive member name "${name}" is not a clean relative path`);
  }
  const type = entry.mode & S_IFMT;
  if (
    !Number.isInteger(entry.mode) || entry.mode < 0 || entry.mode > 0o177777 ||
    ![S_IFDIR, S_IFREG, S_IFCHR, S_IFLNK].includes(type)
  ) {
    throw new RangeError(
      `Archive member "${name}" has an unsupported mode 0o${entry.mode.toString(8)}`,
    );
  }
  if (entry.data && type !== S_IFREG && type !== S_IFLNK) {
    throw new RangeError(`Archive member "${name}" has data but is not a file or link`);
  }
  if (type === S_IFCHR && !entry.rdev) {
    throw new RangeError(`Device "${name}" needs device numbers`);
  }
  if (entry.data && entry.data.length > MAX_FIELD) {
    throw new RangeError(`Archive member "${name}" is larger than 4 GiB`);
  }
}

/** Writes a newc archive of `entries`, ending with the trailer. */
export function writeCpio(entries: readonly CpioEntry[]): Uint8Array {
  const seen = new Set<string>();
  for (const entry of entries) {
    checkEntry(entry);
    if (seen.has(entry.name)) throw new RangeError(`Archive member "${entry.name}" appears twice`);
    seen.add(entry.name);
  }
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const push = (bytes: Uint8Array) => {
    chunks.push(bytes);
    size += bytes.length;
  };
  const member = (ino: number, entry: CpioEntry) => {
    const name = encoder.encode(entry.name + "\0");
    const data = entry.data ?? new Uint8Array(0);
    const isDir = (entry.mode & S_IFMT) === S_IFDIR;
    const fields = [
      ino,
      entry.mode,
      0, // uid: root
      0, // gid: root
      isDir ? 2 : 1, // nlink
      entry.mtime ?? 0,
      data.length,
      0, // devmajor of the file system the file lived on: irrelevant here
      0,
      entry.rdev?.major ?? 0,
      entry.rdev?.minor ?? 0,
      name.length,
      0, // check: only used by the "070702" crc format
    ];
    for (const [i, f] of fields.entries()) {
      if (!Number.isInteger(f) || f < 0 || f > MAX_FIELD) {
        throw new RangeError(`Field ${i} of "${entry.name}" (${f}) does not fit in 32 bits`);
      }
    }
    const header = MAGIC + fields.map((f) => f.toString(16).padStart(8, "0")).join("");
    const head = new Uint8Array(pad4(HEADER_SIZE + name.length));
    head.set(encoder.encode(header));
    head.set(name, HEADER_SIZE);
    push(head);
    const body = new Uint8Array(pad4(data.length));
    body.set(data);
    push(body);
  };
  entries.forEach((entry, i) => member(i + 1, entry));
  member(0, { name: TRAILER, mode: 0 } as CpioEntry);
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Reads a newc archive (up to its trailer). Throws RangeError when it is malformed. */
export function readCpio(archive: Uint8Array): CpioEntry[] {
  const decoder = new TextDecoder();
  const entries: CpioEntry[] = [];
  let at = 0;
  for (;;) {
    if (at + HEADER_SIZE > archive.length) {
      throw new RangeError(`Archive ends at offset ${at} without a trailer`);
    }
    const header = decoder.decode(archive.subarray(at, at + HEADER_SIZE));
    if (!header.startsWith(MAGIC)) {
      throw new RangeError(`Bad cpio magic "${header.slice(0, 6)}" at offset ${at}`);
    }
    const field = (i: number) => {
      const text = header.slice(6 + i * 8, 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(text)) {
        throw new RangeError(`Bad header field "${text}" at offset ${at}`);
      }
      return parseInt(text, 16);
    };
    for (let i = 0; i < 13; i++) field(i);
    const mode = field(1);
    const mtime = field(5);
    const fileSize = field(6);
    const rdev = { major: field(9), minor: field(10) };
    const nameSize = field(11);
    const nameStart = at + HEADER_SIZE;
    const dataStart = pad4(nameStart + nameSize);
    if (nameSize === 0 || dataStart + fileSize > archive.length) {
      throw new RangeError(`Archive member at offset ${at} overruns the archive`);
    }
    const name = decoder.decode(archive.subarray(nameStart, nameStart + nameSize - 1));
    if (name === TRAILER) return entries;
    const type = mode & S_IFMT;
    entries.push({
      name,
      mode,
      mtime,
      ...(type === S_IFREG || type === S_IFLNK
        ? { data: archive.slice(dataStart, dataStart + fileSize) }
        : {}),
      ...(type === S_IFCHR ? { rdev } : {}),
    });
    at = pad4(dataStart + fileSize);
  }
}
