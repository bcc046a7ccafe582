/**
 * Compares the signatures two machines printed for the same image and describes every difference
 * precisely: the seed, which register, checksum or trap-log entry differs, both values, and, where
 * the stream can say, the instruction involved.
 *
 * Known deviations of the reference (QEMU 7.2) from the RISC-V specification are listed in
 * {@link REFERENCE_QUIRKS}; a difference they fully explain is not reported as a mismatch.
 *
 * @module
 */

import { formatInstruction, type Instruction } from "@paravirt/cpu";
import { locate, type Located, type Stream } from "./generator.ts";
import type { ParsedOutput, Signature, TrapEntry } from "./signature.ts";

/** One difference between the reference and our machine. */
export interface Mismatch {
  /** Seed of the stream. */
  readonly seed: number;
  /** What differs: `x5`, `scratch checksum`, `trap count`, `trap at +0x1c`, `scratch +0x1c`, … */
  readonly what: string;
  /** Our value, as printed. */
  readonly ours: string;
  /** The reference's value, as printed. */
  readonly reference: string;
  /** The instruction involved, when it can be located (a trap entry's epc points at it). */
  readonly instruction?: string;
}

/** What a quirk sees of one trap difference. */
export interface QuirkContext {
  /** The instruction at the trap's epc. */
  readonly insn: Instruction;
  /** Byte offset of that instruction from the body start. */
  readonly epc: number;
  /** Address of the stream's body, when known. */
  readonly body: number | undefined;
  /** The reference's trap at this epc, if it trapped. */
  readonly reference: TrapEntry | undefined;
  /** Our trap at this epc, if we trapped. */
  readonly ours: TrapEntry | undefined;
}

/** A reference deviation that {@link compareOutputs} tolerates. */
export interface ReferenceQuirk {
  /** Short name. */
  readonly name: string;
  /** What the reference does, what the specification says. */
  readonly explanation: string;
  /** True when this quirk fully explains the difference and our side follows the specification. */
  readonly matches: (context: QuirkContext) => boolean;
}

const AMO_OPS = new Set([
  "amoswap.w",
  "amoadd.w",
  "amoxor.w",
  "amoand.w",
  "amoor.w",
  "amomin.w",
  "amomax.w",
  "amominu.w",
  "amomaxu.w",
]);

/** Access sizes of the ordinary loads and stores. */
const ACCESS_SIZES: ReadonlyMap<string, number> = new Map([
  ["lb", 1],
  ["lbu", 1],
  ["sb", 1],
  ["lh", 2],
  ["lhu", 2],
  ["sh", 2],
  ["lw", 4],
  ["sw", 4],
]);

/** The target address of a pc-relative jump at `epc`, as the generator laid it out. */
function jumpTarget(insn: Instruction, body: number, epc: number): number | undefined {
  const imm = insn.imm ?? 0;
  switch (insn.op) {
    case "jal":
    case "beq":
    case "bne":
    case "blt":
    case "bge":
    case "bltu":
    case "bgeu":
      return (body + epc + imm) >>> 0;
    case "jalr": // the generator always bases jalr on the auipc right before it
      return ((body + epc - 4 + imm) & ~1) >>> 0;
    default:
      return undefined;
  }
}

/** Reference deviations from the specification that are not held against our machine. */
export const REFERENCE_QUIRKS: readonly ReferenceQuirk[] = [
  {
    name: "qemu-7.2-misaligned-amo-cause",
    explanation: "QEMU 7.2 raises a load address-misaligned exception (cause 4) for a misaligned " +
      "AMO; the privileged specification requires a store/AMO address-misaligned exception " +
      "(cause 6) or a store/AMO access fault (cause 7).",
    matches: ({ insn, reference, ours }) =>
      AMO_OPS.has(insn.op) && reference?.cause === 4 &&
      (ours?.cause === 6 || ours?.cause === 7) && reference.tval === ours.tval,
  },
  {
    name: "qemu-7.2-amo-access-fault-cause",
    explanation: "QEMU 7.2 raises a load access fault (cause 5) for an AMO to an address with no " +
      "memory behind it; the specification requires a store/AMO access fault (cause 7): AMOs " +
      "raise store/AMO exceptions.",
    matches: ({ insn, reference, ours }) =>
      AMO_OPS.has(insn.op) && reference?.cause === 5 && ours?.cause === 7 &&
      reference.tval === ours.tval,
  },
  {
    name: "qemu-7.2-misaligned-fault-mtval",
    explanation: "For an access fault on a misaligned load with no memory behind any of its " +
      "bytes, QEMU 7.2 puts the aligned-down address into mtval, a byte the access does not " +
      "touch; the specification says mtval holds the address of the portion of the access that " +
      "faulted (here its first byte).",
    matches: ({ insn, reference, ours }) => {
      const size = ACCESS_SIZES.get(insn.op);
      return size !== undefined && reference !== undefined && ours !== undefined &&
        reference.cause === ours.cause && (ours.cause === 5 || ours.cause === 7) &&
        (ours.tval & (size - 1)) !== 0 && reference.tval === (ours.tval & -size) >>> 0;
    },
  },
  {
    name: "qemu-7.2-misaligned-jump-mtval",
    explanation:
      "QEMU 7.2 puts a stale pc (the start of its translation block) into mtval for an " +
      "instruction-address-misaligned exception raised by a taken branch or jump; the " +
      "specification says mtval holds the misaligned target address.",
    matches: ({ insn, epc, body, reference, ours }) =>
      body !== undefined && reference?.cause === 0 && ours?.cause === 0 &&
      ours.tval === jumpTarget(insn, body, epc),
  },
];

/** Options of {@link compareOutputs}. */
export interface CompareOptions {
  /** The streams of the image, for locating instructions; looked up by seed. */
  readonly streams?: readonly Stream[];
  /** Address of each stream's body, in the order of `streams` (see `BuiltImage.bodies`). */
  readonly bodies?: readonly number[];
  /** Tolerate the reference deviations in {@link REFERENCE_QUIRKS}; default true. */
  readonly quirks?: boolean;
}

/** The result of {@link compareOutputs}. */
export interface Comparison {
  /** Every difference found. */
  readonly mismatches: readonly Mismatch[];
  /** How many differences each quirk explained, by quirk name. */
  readonly tolerated: ReadonlyMap<string, number>;
}

function hex8(value: number | undefined): string {
  return value === undefined ? "(missing)" : (value >>> 0).toString(16).padStart(8, "0");
}

function trapText(entry: TrapEntry | undefined): string {
  if (entry === undefined) return "(no trap)";
  return `mcause=${hex8(entry.cause)}/mtval=${hex8(entry.tval)}`;
}

/** `+0x00f8 g44 lr-misaligned: lr.w.aqrl x29, (x11)` */
export function describeLocated(located: Located): string {
  return `+0x${located.offset.toString(16).padStart(4, "0")} g${located.group} ${located.kind}: ` +
    formatInstruction(located.insn);
}

/** The destination register an instruction writes, if any. */
export function destination(insn: Instruction): number | undefined {
  switch (insn.op) {
    case "sb":
    case "sh":
    case "sw":
    case "beq":
    case "bne":
    case "blt":
    case "bge":
    case "bltu":
    case "bgeu":
    case "fence":
    case "fence.i":
    case "ecall":
    case "ebreak":
    case "mret":
    case "sret":
    case "wfi":
    case "sfence.vma":
    case ".word":
      return undefined;
    default:
      return insn.rd ?? 0;
  }
}

/** The last instruction of the stream (in program order) that writes `reg`, as a hint. */
function lastWriter(stream: Stream, reg: number): string | undefined {
  let found: Located | undefined;
  let offset = 0;
  stream.groups.forEach((group, g) => {
    for (const item of group.insns) {
      if (destination(item.insn) === reg) {
        found = { group: g, kind: group.kind, offset, insn: item.insn };
      }
      offset += 4;
    }
  });
  return found === undefined ? undefined : `last written by ${describeLocated(found)}`;
}

function compareSignature(
  reference: Signature,
  ours: Signature,
  stream: Stream | undefined,
  body: number | undefined,
  useQuirks: boolean,
  tolerated: Map<string, number>,
): Mismatch[] {
  const seed = reference.seed;
  const out: Mismatch[] = [];
  for (let reg = 1; reg < 32; reg++) {
    const a = ours.registers[reg];
    const b = reference.registers[reg];
    if (a !== b) {
      out.push({
        seed,
        what: `x${reg}`,
        ours: hex8(a),
        reference: hex8(b),
        instruction: stream === undefined ? undefined : lastWriter(stream, reg),
      });
    }
  }
  if (ours.checksum !== reference.checksum) {
    out.push({
      seed,
      what: "scratch checksum",
      ours: hex8(ours.checksum),
      reference: hex8(reference.checksum),
    });
  }
  if (ours.trapCount !== reference.trapCount) {
    out.push({
      seed,
      what: "trap count",
      ours: String(ours.trapCount ?? "(missing)"),
      reference: String(reference.trapCount ?? "(missing)"),
    });
  }
  // Control flow only goes forward, so each epc traps at most once: match the logs by epc.
  const ourTraps = new Map(ours.traps.map((entry) => [entry.epc, entry]));
  const referenceTraps = new Map(reference.traps.map((entry) => [entry.epc, entry]));
  const epcs = [...new Set([...referenceTraps.keys(), ...ourTraps.keys()])].sort((x, y) => x - y);
  for (const epc of epcs) {
    const a = ourTraps.get(epc);
    const b = referenceTraps.get(epc);
    if (a !== undefined && b !== undefined && a.cause === b.cause && a.tval === b.tval) continue;
    const located = stream === undefined ? undefined : locate(stream, epc);
    if (useQuirks && located !== undefined) {
      const context = { insn: located.insn, epc, body, reference: b, ours: a };
      const quirk = REFERENCE_QUIRKS.find((q) => q.matches(context));
      if (quirk !== undefined) {
        tolerated.set(quirk.name, (tolerated.get(quirk.name) ?? 0) + 1);
        continue;
      }
    }
    out.push({
      seed,
      what: `trap at +0x${epc.toString(16)}`,
      ours: trapText(a),
      reference: trapText(b),
      instruction: located === undefined ? undefined : describeLocated(located),
    });
  }
  for (const [offset, value] of reference.scratch) {
    const mine = ours.scratch.get(offset);
    if (mine !== value) {
      out.push({
        seed,
        what: `scratch +0x${offset.toString(16)} (x4${offset - 512 < 0 ? "" : "+"}${offset - 512})`,
        ours: hex8(mine),
        reference: hex8(value),
      });
    }
  }
  return out;
}

/**
 * Compares two runs of the same image, seed by seed, in the reference's order. A seed one machine
 * printed and the other did not is one `signature` mismatch.
 */
export function compareOutputs(
  reference: ParsedOutput,
  ours: ParsedOutput,
  options: CompareOptions = {},
): Comparison {
  const mismatches: Mismatch[] = [];
  const tolerated = new Map<string, number>();
  const streams = new Map((options.streams ?? []).map((stream) => [stream.seed, stream]));
  const bodies = new Map(
    (options.streams ?? []).map((stream, k) => [stream.seed, options.bodies?.[k]]),
  );
  const mine = new Map(ours.signatures.map((sig) => [sig.seed, sig]));
  const seen = new Set<number>();
  for (const sig of reference.signatures) {
    seen.add(sig.seed);
    const other = mine.get(sig.seed);
    if (other === undefined || !other.complete) {
      mismatches.push({
        seed: sig.seed,
        what: "signature",
        ours: other === undefined ? "(not printed)" : "(incomplete)",
        reference: sig.complete ? "(complete)" : "(incomplete)",
      });
      continue;
    }
    mismatches.push(
      ...compareSignature(
        sig,
        other,
        streams.get(sig.seed),
        bodies.get(sig.seed),
        options.quirks ?? true,
        tolerated,
      ),
    );
  }
  for (const sig of ours.signatures) {
    if (!seen.has(sig.seed)) {
      mismatches.push({
        seed: sig.seed,
        what: "signature",
        ours: "(printed)",
        reference: "(not printed)",
      });
    }
  }
  if (reference.finished !== ours.finished) {
    mismatches.push({
      seed: -1,
      what: "end of run",
      ours: ours.finished ? "finished" : "did not finish",
      reference: reference.finished ? "finished" : "did not finish",
    });
  }
  return { mismatches, tolerated };
}

/** One line per mismatch: `seed 17: x5 ours=00000001 qemu=00000000 (last written by …)`. */
export function formatMismatch(mismatch: Mismatch): string {
  const where = mismatch.seed < 0 ? "run" : `seed ${mismatch.seed}`;
  const tail = mismatch.instruction === undefined ? "" : `  [${mismatch.instruction}]`;
  return `${where}: ${mismatch.what} ours=${mismatch.ours} qemu=${mismatch.reference}${tail}`;
}
