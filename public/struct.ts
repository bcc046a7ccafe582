/**
 * A small description language for the ABI's structure layouts, so each layout is written once and
 * both the TypeScript side (offsets) and the C side (the generated header) read it.
 *
 * Rules of use: fields are laid out in order with natural alignment, as the C compiler of an RV32
 * guest (ilp32) lays them out, under Xen's ARM/RISC-V rules: 64-bit fields are 8-byte aligned and a
 * structure is aligned to its widest field. Unions are written as their widest member; the other
 * members' meanings are documented on the field. A field may also be (an array of) another
 * structure, laid out at that structure's alignment (`struct blkif_request_segment seg[11]`).
 *
 * @module
 */

/** Scalar field types. */
export type FieldType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64";

/** A field as declared: name, type (a scalar or a structure), optional array length and note. */
export type FieldSpec = readonly [
  name: string,
  type: FieldType | Struct,
  count?: number,
  note?: string,
];

/** A laid-out field. */
export interface Field {
  /** Field name (C identifier). */
  readonly name: string;
  /** Scalar type, or the nested structure. */
  readonly type: FieldType | Struct;
  /** Array length (1 for a scalar). */
  readonly count: number;
  /** Byte offset in the structure. */
  readonly offset: number;
  /** What the field means, for the generated header. */
  readonly note?: string;
}

/** A laid-out structure whose field offsets are available by name. */
export interface Struct<K extends string = string> {
  /** C name (without `struct`). */
  readonly name: string;
  /** One-line description. */
  readonly doc: string;
  /** Total size in bytes (padded to the alignment). */
  readonly size: number;
  /** Alignment in bytes. */
  readonly align: number;
  /** Fields in order. */
  readonly fields: readonly Field[];
  /** Offsets by field name. */
  readonly offset: Readonly<Record<K, number>>;
}

/** Size in bytes of one element of a field type. */
export function sizeOf(type: FieldType): number {
  switch (type) {
    case "u8":
    case "i8":
      return 1;
    case "u16":
    case "i16":
      return 2;
    case "u32":
    case "i32":
      return 4;
    case "u64":
    case "i64":
      return 8;
  }
}

/** Lays out a structure from its field list (natural alignment, 64-bit fields 8-aligned). */
export function struct<const S extends readonly FieldSpec[]>(
  name: string,
  doc: string,
  specs: S,
): Struct<S[number][0]> {
  const fields: Field[] = [];
  const offset: Record<string, number> = {};
  let at = 0;
  let align = 1;
  for (const [fieldName, type, count = 1, note] of specs) {
    const size = typeof type === "string" ? sizeOf(type) : type.size;
    const fieldAlign = typeof type === "string" ? size : type.align;
    at = Math.ceil(at / fieldAlign) * fieldAlign;
    align = Math.max(align, fieldAlign);
    fields.push({ name: fieldName, type, count, offset: at, note });
    offset[fieldName] = at;
    at += size * count;
  }
  const size = Math.ceil(at / align) * align;
  return { name, doc, size, align, fields, offset: offset as Record<S[number][0], number> };
}
