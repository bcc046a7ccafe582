/**
 * The block backend interface: what blkback (the protocol engine) asks of the store behind a
 * virtual disk. A guest config names the module that provides it:
 *
 * ```
 * disk = ['format=raw, vdev=xvda, access=rw, target=./disk.img, backend=./my_block.ts']
 * ```
 *
 * The module is imported inside the disk's worker and must export `open` (see
 * {@link BlockBackendModule}); the built-in ones are `file` (the default: a raw image), `memory`
 * and `overlay` ({@link BUILTIN_BLOCK_BACKENDS}). Every implementation runs the conformance
 * suite in `conformance.ts` from its own test.
 *
 * Rules of use (the contract every implementation keeps):
 * - Sectors are 512 bytes. `read`/`write` take a buffer whose length is a positive multiple of
 *   512; `sector + length / 512` must not pass {@link BlockInfo.sectors}. A bad range rejects
 *   with a RangeError and touches nothing.
 * - Operations may be outstanding at once and may complete in any order; blkback starts each as
 *   its request arrives and answers each when it settles. A write that resolved is visible to
 *   every read started after it, and survives the worker's death (the host process keeps running;
 *   whether it survives a host crash is what {@link BlockBackend.flush} is for). A backend keeps no
 *   acknowledged write only in worker memory: state that must outlive a worker restart goes in
 *   SharedArrayBuffers handed to {@link BlockOpenOptions.retain} (the device supervisor keeps them
 *   and gives them back as {@link BlockOpenOptions.retained} to the next instance).
 * - `flush` resolves once every write that resolved before it was called is durable.
 * - A read-only backend (opened with {@link BlockOpenOptions.readOnly}) opens its store read-only
 *   and rejects `write` and `discard` with {@link BlockIoError}.
 * - A failure of the medium rejects with {@link BlockIoError}: the guest gets `BLKIF_RSP_ERROR`
 *   for that request. Any other exception is a bug in the backend: the worker reports it and the
 *   device supervisor restarts the worker; the frontend reconnects and resubmits.
 * - Buffers passed in may be views of the guest's memory: use them only until the promise settles.
 *
 * @module
 */

/** What a backend reports once open. */
export interface BlockInfo {
  /** Size in 512-byte sectors. */
  readonly sectors: number;
  /** Whether writes are refused. */
  readonly readOnly: boolean;
  /** Whether `discard` is served (advertised as `feature-discard`). */
  readonly discard: boolean;
}

/** An open virtual disk. */
export interface BlockBackend {
  /** Size and capabilities. */
  readonly info: BlockInfo;
  /** Reads `into.length / 512` sectors from `sector` on into `into`. */
  read(sector: number, into: Uint8Array): Promise<void>;
  /** Writes `from` (a multiple of 512 bytes) to the sectors from `sector` on. */
  write(sector: number, from: Uint8Array): Promise<void>;
  /** Makes every write that resolved before this call durable. */
  flush(): Promise<void>;
  /** Forgets `count` sectors from `sector` on (their contents become unspecified). */
  discard(sector: number, count: number): Promise<void>;
  /** Releases the store; later calls reject. */
  close(): Promise<void>;
}

/** What the device supervisor tells a backend module when it opens a disk. */
export interface BlockOpenOptions {
  /** The `target` of the disk line as an absolute path, if it has one. */
  readonly target?: string;
  /** Whether the guest may only read (`access=ro`); the worker then has no write permission. */
  readonly readOnly: boolean;
  /** The other `key=value` pairs of the disk line (`size=64M` for the memory backend). */
  readonly params: Readonly<Record<string, string>>;
  /** Buffers an earlier instance of this disk retained, in the order it retained them. */
  readonly retained: readonly SharedArrayBuffer[];
  /** Keeps `buffer` for the next instance of this disk (after a restart). */
  retain(buffer: SharedArrayBuffer): void;
}

/** The shape of a backend module named by `backend=` in a disk line. */
export interface BlockBackendModule {
  /** Opens the disk. Rejects with a clear error when the target or parameters are unusable. */
  open(options: BlockOpenOptions): Promise<BlockBackend>;
}

/** A failure of the medium: the request fails, the backend goes on. */
export class BlockIoError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "BlockIoError";
  }
}

/** Module URLs of the built-in backends, by the name a disk line may use (`backend=memory`). */
export const BUILTIN_BLOCK_BACKENDS: Readonly<Record<string, string>> = {
  file: new URL("./file_backend.ts", import.meta.url).href,
  memory: new URL("./memory_backend.ts", import.meta.url).href,
  overlay: new URL("./overlay_backend.ts", import.meta.url).href,
};

/** Bytes per sector. */
export const SECTOR = 512;

/**
 * Checks a transfer of `bytes` at `sector` against a disk of `sectors`; throws RangeError.
 * For backends' own use (blkback validates requests before they reach a backend).
 */
export function checkRange(sector: number, bytes: number, sectors: number): void {
  if (!Number.isSafeInteger(sector) || sector < 0) {
    throw new RangeError(`Sector ${sector} is not a non-negative integer`);
  }
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % SECTOR !== 0) {
    throw new RangeError(`Transfer of ${bytes} bytes is not a positive multiple of ${SECTOR}`);
  }
  if (sector + bytes / SECTOR > sectors) {
    throw new RangeError(
      `Sectors ${sector}..${sector + bytes / SECTOR - 1} pass the end of a ${sectors}-sector disk`,
    );
  }
}

/** Parses a size such as `64M`, `512K`, `1G` or `1048576` into bytes; throws RangeError. */
export function parseSize(text: string): number {
  const match = /^(\d+)([KMGkmg]?)$/.exec(text.trim());
  if (!match) throw new RangeError(`Size "${text}" is not a number with an optional K, M or G`);
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2].toLowerCase()]!;
  const bytes = Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new RangeError(`Size "${text}" is not a positive size`);
  }
  return bytes;
}
