/**
 * Parses the console output of a difftest image (the line format is defined in `image.ts`) into one
 * {@link Signature} per stream. Lines the format does not know (a machine's own banner, say) are
 * ignored; a stream whose block is cut short is still returned with what it printed, marked
 * incomplete.
 *
 * @module
 */

/** One logged trap. */
export interface TrapEntry {
  /** mcause. */
  readonly cause: number;
  /** mtval. */
  readonly tval: number;
  /** mepc minus the address of the stream's body. */
  readonly epc: number;
}

/** What one stream printed. */
export interface Signature {
  /** The stream's seed. */
  readonly seed: number;
  /** x0..x31 at the end of the body (x0 is always 0); empty when the R line is missing. */
  readonly registers: readonly number[];
  /** Hash of the scratch area, or undefined when missing. */
  readonly checksum: number | undefined;
  /** Number of traps taken by the body, or undefined when missing. */
  readonly trapCount: number | undefined;
  /** The logged traps, in order. */
  readonly traps: readonly TrapEntry[];
  /** Scratch words by byte offset, when the image printed `D` lines. */
  readonly scratch: ReadonlyMap<number, number>;
  /** True when every line up to the trap log was present. */
  readonly complete: boolean;
}

/** The parsed output of one run. */
export interface ParsedOutput {
  /** Signatures in output order. */
  readonly signatures: readonly Signature[];
  /** True when the final `Z` line appeared (every stream ran to its end). */
  readonly finished: boolean;
}

interface Draft {
  seed: number;
  registers: number[];
  checksum: number | undefined;
  trapCount: number | undefined;
  traps: TrapEntry[];
  scratch: Map<number, number>;
}

function words(fields: readonly string[]): number[] | undefined {
  const values = fields.map((field) => /^[0-9a-f]{8}$/.test(field) ? parseInt(field, 16) : NaN);
  return values.some(Number.isNaN) ? undefined : values;
}

function seal(draft: Draft): Signature {
  const complete = draft.registers.length === 32 && draft.checksum !== undefined &&
    draft.trapCount !== undefined;
  return { ...draft, complete };
}

/** Parses a run's console output. */
export function parseOutput(output: string): ParsedOutput {
  const signatures: Signature[] = [];
  let draft: Draft | undefined;
  let finished = false;
  for (const raw of output.split("\n")) {
    const line = raw.replace(/\r$/, "");
    const [tag, ...fields] = line.split(" ");
    if (line === "Z") {
      finished = true;
      continue;
    }
    const values = words(fields);
    if (values === undefined) continue;
    if (tag === "S" && values.length === 1) {
      if (draft !== undefined) signatures.push(seal(draft));
      draft = {
        seed: values[0],
        registers: [],
        checksum: undefined,
        trapCount: undefined,
        traps: [],
        scratch: new Map(),
      };
      continue;
    }
    if (draft === undefined) continue;
    if (tag === "R" && values.length === 31) draft.registers = [0, ...values];
    else if (tag === "M" && values.length === 1) draft.checksum = values[0];
    else if (tag === "T" && values.length === 1) draft.trapCount = values[0];
    else if (tag === "E" && values.length === 3) {
      draft.traps.push({ cause: values[0], tval: values[1], epc: values[2] });
    } else if (tag === "D" && values.length === 9) {
      for (let k = 0; k < 8; k++) draft.scratch.set(values[0] + k * 4, values[k + 1]);
    }
  }
  if (draft !== undefined) signatures.push(seal(draft));
  return { signatures, finished };
}
