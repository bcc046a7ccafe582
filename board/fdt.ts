/**
 * Flattened device tree (FDT, "DTB") encoding and decoding, per the Devicetree Specification
 * v0.4 chapter 5: a 40-byte big-endian header (magic 0xd00dfeed, version 17, last compatible 16),
 * the memory reservation block (pairs of 64-bit address and size, ended by a zero pair), the
 * structure block (FDT_BEGIN_NODE, FDT_PROP, FDT_END_NODE, FDT_END tokens, 4-byte aligned) and the
 * strings block (property names, NUL-terminated, shared).
 *
 * Rules of use: build a tree of {@link FdtNode}s whose property values are raw big-endian bytes
 * (make them with {@link fdtCells}, {@link fdtString}, {@link fdtStrings}, {@link fdtU64}), then
 * {@link encodeFdt}. {@link decodeFdt} reads a blob back into the same shape and rejects malformed
 * input with a RangeError naming what is wrong; it is what the tests use to check the encoder, and
 * `dtc -I dtb` agrees with both.
 *
 * @module
 */

/** The FDT header magic. */
export const FDT_MAGIC = 0xd00dfeed;
/** The version this encoder writes. */
export const FDT_VERSION = 17;
/** The oldest version a reader of our blobs must understand. */
export const FDT_LAST_COMPATIBLE_VERSION = 16;

const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
const HEADER_SIZE = 40;
const MAX_DEPTH = 64;

/** A node: a name (`unit@address`, empty for the root), properties in order, children in order. */
export class FdtNode {
  /** Node name; the root's is empty. */
  readonly name: string;
  /** Properties by name, in insertion order; values are raw bytes. */
  readonly properties: Map<string, Uint8Array> = new Map();
  /** Child nodes, in order. */
  readonly children: FdtNode[] = [];

  /** Creates an empty node called `name`. */
  constructor(name: string) {
    this.name = name;
  }

  /** Sets property `name` to `value` (raw bytes) and returns this node, for chaining. */
  set(name: string, value: Uint8Array): this {
    this.properties.set(name, value);
    return this;
  }

  /** Appends `child` and returns it, so a subtree can be filled in place. */
  add(child: FdtNode): FdtNode {
    this.children.push(child);
    return child;
  }

  /** The child called `name`, or undefined. */
  child(name: string): FdtNode | undefined {
    return this.children.find((c) => c.name === name);
  }

  /** The node at a `/`-separated path below this one (`"soc/serial@10000000"`), or undefined. */
  find(path: string): FdtNode | undefined {
    const parts = path.split("/").filter((p) => p !== "");
    return parts.reduce<FdtNode | undefined>((node, part) => node?.child(part), this);
  }

  /** Property `name` read as big-endian 32-bit cells, or undefined when absent. */
  cells(name: string): number[] | undefined {
    const value = this.properties.get(name);
    if (!value) return undefined;
    const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
    const out: number[] = [];
    for (let i = 0; i + 4 <= value.length; i += 4) out.push(view.getUint32(i));
    return out;
  }

  /** Property `name` read as a list of NUL-terminated strings, or undefined when absent. */
  strings(name: string): string[] | undefined {
    const value = this.properties.get(name);
    if (!value) return undefined;
    const text = new TextDecoder().decode(value);
    return text.endsWith("\0") ? text.slice(0, -1).split("\0") : [text];
  }
}

/** A reserved physical memory range in the memory reservation block. */
export interface FdtReservation {
  /** First byte. */
  readonly address: number;
  /** Size in bytes. */
  readonly size: number;
}

/** Options for {@link encodeFdt}. */
export interface EncodeFdtOptions {
  /** `boot_cpuid_phys` in the header (default 0). */
  bootCpuId?: number;
  /** Entries of the memory reservation block (default none). */
  reservations?: readonly FdtReservation[];
}

/** A decoded blob: its tree and its header facts. */
export interface DecodedFdt {
  /** The root node. */
  readonly root: FdtNode;
  /** `boot_cpuid_phys`. */
  readonly bootCpuId: number;
  /** The memory reservation block. */
  readonly reservations: readonly FdtReservation[];
}

/** A property value of big-endian 32-bit cells (`<1 2 3>` in dts). */
export function fdtCells(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (const [i, v] of values.entries()) {
    if (!Number.isInteger(v) || v < -0x8000_0000 || v > 0xffff_ffff) {
      throw new RangeError(`Cell value ${v} is not a 32-bit integer`);
    }
    view.setUint32(i * 4, v >>> 0);
  }
  return out;
}

/** A property value of one 64-bit number as two cells (high, low). */
export function fdtU64(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Value ${value} is not a non-negative safe integer`);
  }
  return fdtCells(Math.floor(value / 0x1_0000_0000), value % 0x1_0000_0000);
}

/** A property value of one NUL-terminated string. */
export function fdtString(value: string): Uint8Array {
  return fdtStrings(value);
}

/** A property value of a string list (each NUL-terminated, as `"a", "b"` in dts). */
export function fdtStrings(...values: string[]): Uint8Array {
  for (const v of values) {
    if (v.includes("\0")) throw new RangeError(`String ${JSON.stringify(v)} contains a NUL`);
  }
  return new TextEncoder().encode(values.map((v) => v + "\0").join(""));
}

/** An empty (boolean) property value, as `interrupt-controller;` in dts. */
export function fdtEmpty(): Uint8Array {
  return new Uint8Array(0);
}

const NODE_NAME = /^[A-Za-z0-9,._+-]+(@[A-Za-z0-9,._+-]+)?$/;
const PROPERTY_NAME = /^[A-Za-z0-9,._+?#-]+$/;

/** Encodes a tree into a flattened device tree blob (version 17). */
export function encodeFdt(root: FdtNode, options: EncodeFdtOptions = {}): Uint8Array {
  if (root.name !== "") {
    throw new RangeError(`The root node's name must be empty, not "${root.name}"`);
  }
  const reservations = options.reservations ?? [];
  const strings: number[] = [];
  const stringOffsets = new Map<string, number>();
  const struct: number[] = [];
  const encoder = new TextEncoder();
  const word = (v: number) => struct.push(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  const bytes = (b: Uint8Array) => {
    for (const byte of b) struct.push(byte);
    while (struct.length % 4 !== 0) struct.push(0);
  };
  const nameOffset = (name: string) => {
    let at = stringOffsets.get(name);
    if (at === undefined) {
      at = strings.length;
      stringOffsets.set(name, at);
      for (const byte of encoder.encode(name)) strings.push(byte);
      strings.push(0);
    }
    return at;
  };
  const walk = (node: FdtNode, depth: number) => {
    if (depth > 0 && !NODE_NAME.test(node.name)) {
      throw new RangeError(`Node name "${node.name}" is not valid`);
    }
    if (depth > MAX_DEPTH) throw new RangeError(`Tree is deeper than ${MAX_DEPTH} levels`);
    word(FDT_BEGIN_NODE);
    bytes(encoder.encode(node.name + "\0"));
    for (const [name, value] of node.properties) {
      if (!PROPERTY_NAME.test(name)) throw new RangeError(`Property name "${name}" is not valid`);
      word(FDT_PROP);
      word(value.length);
      word(nameOffset(name));
      bytes(value);
    }
    for (const child of node.children) walk(child, depth + 1);
    word(FDT_END_NODE);
  };
  walk(root, 0);
  word(FDT_END);

  const reserveOffset = HEADER_SIZE; // 8-byte aligned, as the spec requires
  const reserveSize = (reservations.length + 1) * 16;
  const structOffset = reserveOffset + reserveSize;
  const stringsOffset = structOffset + struct.length;
  const total = stringsOffset + strings.length;
  const out = new Uint8Array((total + 7) & ~7);
  const view = new DataView(out.buffer);
  view.setUint32(0, FDT_MAGIC);
  view.setUint32(4, out.length);
  view.setUint32(8, structOffset);
  view.setUint32(12, stringsOffset);
  view.setUint32(16, reserveOffset);
  view.setUint32(20, FDT_VERSION);
  view.setUint32(24, FDT_LAST_COMPATIBLE_VERSION);
  view.setUint32(28, options.bootCpuId ?? 0);
  view.setUint32(32, strings.length);
  view.setUint32(36, struct.length);
  for (const [i, r] of reservations.entries()) {
    if (!Number.isSafeInteger(r.address) || !Number.isSafeInteger(r.size) || r.size <= 0) {
      throw new RangeError(`Reservation ${i} (${r.address}, ${r.size}) is not a valid range`);
    }
    view.setBigUint64(reserveOffset + i * 16, BigInt(r.address));
    view.setBigUint64(reserveOffset + i * 16 + 8, BigInt(r.size));
  }
  out.set(struct, structOffset);
  out.set(strings, stringsOffset);
  return out;
}

/** Decodes a flattened device tree blob (versions 16 and 17). Throws RangeError when malformed. */
export function decodeFdt(blob: Uint8Array): DecodedFdt {
  if (blob.length < HEADER_SIZE) {
    throw new RangeError(`Blob of ${blob.length} bytes is shorter than an FDT header`);
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const magic = view.getUint32(0);
  if (magic !== FDT_MAGIC) throw new RangeError(`Bad FDT magic 0x${magic.toString(16)}`);
  const total = view.getUint32(4);
  const structOffset = view.getUint32(8);
  const stringsOffset = view.getUint32(12);
  const reserveOffset = view.getUint32(16);
  const version = view.getUint32(20);
  const lastCompatible = view.getUint32(24);
  const stringsSize = view.getUint32(32);
  const structSize = view.getUint32(36);
  if (total > blob.length) {
    throw new RangeError(`FDT total size ${total} exceeds the ${blob.length}-byte blob`);
  }
  if (lastCompatible > FDT_VERSION || version < 16) {
    throw new RangeError(`FDT version ${version} (compatible ${lastCompatible}) is not supported`);
  }
  for (
    const [name, offset, size] of [
      ["structure", structOffset, structSize],
      ["strings", stringsOffset, stringsSize],
    ] as const
  ) {
    if (offset + size > total) {
      throw new RangeError(`FDT ${name} block (${offset}+${size}) lies outside the blob`);
    }
  }
  if (reserveOffset % 8 !== 0 || reserveOffset >= total) {
    throw new RangeError(`FDT reservation block offset ${reserveOffset} is not valid`);
  }
  const reservations: FdtReservation[] = [];
  for (let at = reserveOffset;; at += 16) {
    if (at + 16 > total) throw new RangeError("FDT reservation block is not terminated");
    const address = Number(view.getBigUint64(at));
    const size = Number(view.getBigUint64(at + 8));
    if (address === 0 && size === 0) break;
    reservations.push({ address, size });
  }
  const decoder = new TextDecoder("utf-8", { fatal: false });
  const end = structOffset + structSize;
  let at = structOffset;
  const cString = (from: number, limit: number): string => {
    let stop = from;
    while (stop < limit && blob[stop] !== 0) stop++;
    if (stop >= limit) throw new RangeError(`Unterminated string at offset ${from}`);
    return decoder.decode(blob.subarray(from, stop));
  };
  const token = (): number => {
    if (at + 4 > end) throw new RangeError(`FDT structure block ends early at offset ${at}`);
    const t = view.getUint32(at);
    at += 4;
    return t;
  };
  const stack: FdtNode[] = [];
  let root: FdtNode | undefined;
  for (;;) {
    const t = token();
    if (t === FDT_NOP) continue;
    if (t === FDT_BEGIN_NODE) {
      const name = cString(at, end);
      at = (at + new TextEncoder().encode(name).length + 1 + 3) & ~3;
      const node = new FdtNode(name);
      if (stack.length === 0) {
        if (root) throw new RangeError("FDT has more than one root node");
        root = node;
      } else {
        stack[stack.length - 1].children.push(node);
      }
      if (stack.length >= MAX_DEPTH) throw new RangeError(`FDT is deeper than ${MAX_DEPTH} levels`);
      stack.push(node);
    } else if (t === FDT_PROP) {
      if (stack.length === 0) throw new RangeError(`Property outside any node at offset ${at}`);
      const length = token();
      const nameOff = token();
      if (at + length > end) throw new RangeError(`Property at offset ${at} overruns the block`);
      if (nameOff >= stringsSize) {
        throw new RangeError(`Property name offset ${nameOff} lies outside the strings block`);
      }
      const name = cString(stringsOffset + nameOff, stringsOffset + stringsSize);
      stack[stack.length - 1].properties.set(name, blob.slice(at, at + length));
      at = (at + length + 3) & ~3;
    } else if (t === FDT_END_NODE) {
      if (stack.length === 0) throw new RangeError(`Unbalanced FDT_END_NODE at offset ${at - 4}`);
      stack.pop();
    } else if (t === FDT_END) {
      if (stack.length !== 0 || !root) throw new RangeError("FDT_END inside an open node");
      break;
    } else {
      throw new RangeError(`Unknown FDT token ${t} at offset ${at - 4}`);
    }
  }
  return { root, bootCpuId: view.getUint32(28), reservations };
}
