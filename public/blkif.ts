/**
 * The block device protocol (`io/blkif.h`): requests and responses on a shared ring (`io/ring.h`,
 * one 4 KiB page, 32 slots of 112 bytes on our layout), the operations, the status codes, and the
 * xenstore keys of the xenbus handshake.
 *
 * Rules of use:
 * - A request names its data by grant references: each segment is one granted frame and the
 *   inclusive range `first_sect..last_sect` of 512-byte sectors inside it (so at most 0..7). Sector
 *   numbers are always in 512-byte units ({@link BLKIF_SECTOR_SIZE}), whatever `sector-size` says.
 * - `nr_segments` is 1..{@link BLKIF_MAX_SEGMENTS_PER_REQUEST} for read and write; a
 *   {@link BLKIF_OP_INDIRECT} request carries up to `feature-max-indirect-segments` segments in
 *   up to {@link BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST} granted pages of
 *   {@link BLKIF_REQUEST_SEGMENT}s ({@link BLKIF_SEGMENTS_PER_INDIRECT_FRAME} per page).
 * - The response echoes `id` and `operation` (for an indirect request, `BLKIF_OP_INDIRECT`);
 *   responses may come back in any order.
 * - Layouts follow the ARM/RISC-V rules (64-bit fields 8-byte aligned): that is Xen's `arm-abi`
 *   protocol, which the `protocol` key names ({@link XEN_IO_PROTO_ABI_NATIVE}).
 *
 * Backend keys (under `/local/domain/0/backend/vbd/<domid>/<devid>/`): `sectors`, `sector-size`,
 * `info` (`VDISK_*` bits), `feature-*`, `discard-*`, `state`. Frontend keys (under
 * `/local/domain/<domid>/device/vbd/<devid>/`): `ring-ref`, `event-channel`, `protocol`, `state`,
 * `virtual-device`.
 *
 * @module
 */

import { type Struct, struct } from "./struct.ts";

/** Read sectors into the segments' frames. */
export const BLKIF_OP_READ = 0;
/** Write the segments' frames to sectors. */
export const BLKIF_OP_WRITE = 1;
/**
 * A write ordered against all others: every write issued before it completes before it runs,
 * and no write issued after it runs before it completes (`feature-barrier`).
 */
export const BLKIF_OP_WRITE_BARRIER = 2;
/** Commit the backing store's volatile cache to stable storage (`feature-flush-cache`). */
export const BLKIF_OP_FLUSH_DISKCACHE = 3;
/** Reserved (SLES device-specific packets); never valid. */
export const BLKIF_OP_RESERVED_1 = 4;
/** The sectors are no longer in use (`feature-discard`); uses {@link BLKIF_REQUEST_DISCARD}. */
export const BLKIF_OP_DISCARD = 5;
/** Read or write with segments in indirect pages; uses {@link BLKIF_REQUEST_INDIRECT}. */
export const BLKIF_OP_INDIRECT = 6;

/** Segments a direct request carries. */
export const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
/** Indirect pages an indirect request may name. */
export const BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST = 8;
/** Segment descriptors in one indirect page (4096 / 8). */
export const BLKIF_SEGMENTS_PER_INDIRECT_FRAME = 512;
/** The unit of `sector_number`, `first_sect`, `last_sect` and `nr_sectors`, in bytes. */
export const BLKIF_SECTOR_SIZE = 512;
/** Sectors in one 4 KiB frame (so `last_sect` is at most 7). */
export const BLKIF_SECTORS_PER_FRAME = 8;

/** Discard flag: the discarded data must be unrecoverable (only with `discard-secure`). */
export const BLKIF_DISCARD_SECURE = 1;

/** Response status: done. */
export const BLKIF_RSP_OKAY = 0;
/** Response status: failed (bad request, I/O error, write to a read-only disk). */
export const BLKIF_RSP_ERROR: number = -1;
/** Response status: operation not supported. */
export const BLKIF_RSP_EOPNOTSUPP: number = -2;

/** `info` bit: a CD-ROM. */
export const VDISK_CDROM = 0x1;
/** `info` bit: removable media. */
export const VDISK_REMOVABLE = 0x2;
/** `info` bit: read-only. */
export const VDISK_READONLY = 0x4;

/** Xen's `protocol` value for the ARM layout rules, which ours are. */
export const XEN_IO_PROTO_ABI_ARM = "arm-abi";
/** The `protocol` value of our guests (an absent key means the same). */
export const XEN_IO_PROTO_ABI_NATIVE = "arm-abi";

/** Backend key: the disk size in `sector-size` units. */
export const BLKIF_KEY_SECTORS = "sectors";
/** Backend key: the logical block size (always 512 here). */
export const BLKIF_KEY_SECTOR_SIZE = "sector-size";
/** Backend key: the physical block size. */
export const BLKIF_KEY_PHYSICAL_SECTOR_SIZE = "physical-sector-size";
/** Backend key: `VDISK_*` bits. */
export const BLKIF_KEY_INFO = "info";
/** Backend key: 1 if {@link BLKIF_OP_FLUSH_DISKCACHE} is served. */
export const BLKIF_KEY_FEATURE_FLUSH_CACHE = "feature-flush-cache";
/** Backend key: 1 if {@link BLKIF_OP_WRITE_BARRIER} is served. */
export const BLKIF_KEY_FEATURE_BARRIER = "feature-barrier";
/** Backend key: 1 if {@link BLKIF_OP_DISCARD} is served. */
export const BLKIF_KEY_FEATURE_DISCARD = "feature-discard";
/** Backend key: bytes of a discard extent. */
export const BLKIF_KEY_DISCARD_GRANULARITY = "discard-granularity";
/** Backend key: offset of the first discard extent. */
export const BLKIF_KEY_DISCARD_ALIGNMENT = "discard-alignment";
/** Backend key: 1 if {@link BLKIF_DISCARD_SECURE} is honoured. */
export const BLKIF_KEY_DISCARD_SECURE = "discard-secure";
/** Backend key: most segments of an indirect request (absent: no indirect requests). */
export const BLKIF_KEY_FEATURE_MAX_INDIRECT_SEGMENTS = "feature-max-indirect-segments";
/** Backend key: 1 if grants may be kept mapped across requests. */
export const BLKIF_KEY_FEATURE_PERSISTENT = "feature-persistent";
/** Frontend key: the grant of the ring page. */
export const BLKIF_KEY_RING_REF = "ring-ref";
/** Frontend key: the frontend's event channel port (unbound, for the backend domain). */
export const BLKIF_KEY_EVENT_CHANNEL = "event-channel";
/** Frontend key: the request layout ({@link XEN_IO_PROTO_ABI_NATIVE}). */
export const BLKIF_KEY_PROTOCOL = "protocol";
/** Frontend key: the virtual device number (the device id). */
export const BLKIF_KEY_VIRTUAL_DEVICE = "virtual-device";

/** `struct blkif_request_segment`: one frame of a request's data. */
export const BLKIF_REQUEST_SEGMENT: Struct<"gref" | "first_sect" | "last_sect"> = struct(
  "blkif_request_segment",
  "one granted frame and the sectors of it a request transfers",
  [
    ["gref", "u32", 1, "grant reference of the frame"],
    ["first_sect", "u8", 1, "first sector in the frame (inclusive)"],
    ["last_sect", "u8", 1, "last sector in the frame (inclusive, at most 7)"],
  ],
);

/** `struct blkif_request`: read, write, barrier and flush requests (112 bytes). */
export const BLKIF_REQUEST: Struct<
  "operation" | "nr_segments" | "handle" | "id" | "sector_number" | "seg"
> = struct(
  "blkif_request",
  "a block request (read, write, write barrier, flush)",
  [
    ["operation", "u8", 1, "BLKIF_OP_*"],
    ["nr_segments", "u8", 1, "segments used"],
    ["handle", "u16", 1, "virtual device (blkif_vdev_t)"],
    ["id", "u64", 1, "the frontend's value, echoed in the response"],
    ["sector_number", "u64", 1, "first 512-byte sector on the disk"],
    ["seg", BLKIF_REQUEST_SEGMENT, BLKIF_MAX_SEGMENTS_PER_REQUEST],
  ],
);

/** `struct blkif_request_discard`: a discard request. */
export const BLKIF_REQUEST_DISCARD: Struct<
  "operation" | "flag" | "handle" | "id" | "sector_number" | "nr_sectors"
> = struct(
  "blkif_request_discard",
  "a discard request",
  [
    ["operation", "u8", 1, "BLKIF_OP_DISCARD"],
    ["flag", "u8", 1, "BLKIF_DISCARD_SECURE or 0"],
    ["handle", "u16", 1, "virtual device"],
    ["id", "u64", 1, "echoed in the response"],
    ["sector_number", "u64", 1, "first sector to discard"],
    ["nr_sectors", "u64", 1, "contiguous sectors to discard"],
  ],
);

/** `struct blkif_request_indirect`: a read or write whose segments live in granted pages. */
export const BLKIF_REQUEST_INDIRECT: Struct<
  "operation" | "indirect_op" | "nr_segments" | "id" | "sector_number" | "handle" | "indirect_grefs"
> = struct(
  "blkif_request_indirect",
  "an indirect read or write",
  [
    ["operation", "u8", 1, "BLKIF_OP_INDIRECT"],
    ["indirect_op", "u8", 1, "BLKIF_OP_READ or BLKIF_OP_WRITE"],
    ["nr_segments", "u16", 1, "segments, in the indirect pages"],
    ["id", "u64", 1, "echoed in the response"],
    ["sector_number", "u64", 1, "first sector"],
    ["handle", "u16", 1, "virtual device"],
    ["indirect_grefs", "u32", BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST, "grants of the pages"],
  ],
);

/** `struct blkif_response`. */
export const BLKIF_RESPONSE: Struct<"id" | "operation" | "status"> = struct(
  "blkif_response",
  "a block response",
  [
    ["id", "u64", 1, "copied from the request"],
    ["operation", "u8", 1, "copied from the request"],
    ["status", "i16", 1, "BLKIF_RSP_*"],
  ],
);

/** Bytes of one slot of the block ring (the larger of request and response). */
export const BLKIF_RING_SLOT_SIZE = 112;
