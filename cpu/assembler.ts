/**
 * A two-pass assembler for small RV32 programs (tests, the difftest runtime, host-built stubs): it collects encoded instructions at a fixed base
 * address, lets branches, jumps and `la` name labels that are defined later, and resolves them in
 * {@link Assembler.finish}.
 *
 * Rules of use:
 * - Labels are plain strings, each defined once; a reference to an undefined label fails in
 *   `finish` with a `RangeError` naming it.
 * - `li` and `la` always emit exactly two instructions, so code size never depends on a value.
 *
 * @module
 */

import { encode, type Instruction } from "./encoder.ts";

interface Fixup {
  readonly index: number;
  readonly insn: Instruction;
  readonly label: string;
  readonly addend: number;
  /** "pc" for branches and jal; "hi"/"lo" for the auipc/addi halves of `la`. */
  readonly kind: "pc" | "hi" | "lo";
}

/** Splits a 32-bit value into the `lui` upper field and the sign-extended 12-bit remainder. */
export function splitImmediate(value: number): { hi: number; lo: number } {
  const v = value | 0;
  const lo = (v << 20) >> 20;
  const hi = ((v - lo) >>> 12) & 0xfffff;
  return { hi, lo };
}

/** Collects instructions at a base address and resolves label references. */
export class Assembler {
  readonly #base: number;
  readonly #words: number[] = [];
  readonly #labels = new Map<string, number>();
  readonly #fixups: Fixup[] = [];

  /** Starts an empty program whose first instruction sits at `base`. */
  constructor(base: number) {
    this.#base = base >>> 0;
  }

  /** The address the next instruction will get. */
  get pc(): number {
    return (this.#base + this.#words.length * 4) >>> 0;
  }

  /** Defines `name` at the current address. */
  label(name: string): void {
    if (this.#labels.has(name)) throw new RangeError(`Label "${name}" is defined twice`);
    this.#labels.set(name, this.pc);
  }

  /** The address of a label defined so far. */
  address(name: string): number {
    const at = this.#labels.get(name);
    if (at === undefined) throw new RangeError(`Label "${name}" is not defined`);
    return at;
  }

  /** Appends instructions with every field given. */
  emit(...insns: Instruction[]): void {
    for (const insn of insns) this.#words.push(encode(insn));
  }

  /**
   * Appends a branch or `jal` whose offset is the distance to `label` (plus `addend` bytes, which
   * may make the target deliberately misaligned).
   */
  jump(insn: Instruction, label: string, addend = 0): void {
    this.#fixups.push({ index: this.#words.length, insn, label, addend, kind: "pc" });
    this.#words.push(0);
  }

  /** Loads a 32-bit constant into `rd` with `lui` + `addi` (always two instructions). */
  li(rd: number, value: number): void {
    const { hi, lo } = splitImmediate(value);
    this.emit({ op: "lui", rd, imm: hi }, { op: "addi", rd, rs1: rd, imm: lo });
  }

  /** Loads the address of `label` into `rd` with `auipc` + `addi` (always two instructions). */
  la(rd: number, label: string): void {
    this.#fixups.push({
      index: this.#words.length,
      insn: { op: "auipc", rd },
      label,
      addend: 0,
      kind: "hi",
    });
    this.#words.push(0);
    this.#fixups.push({
      index: this.#words.length,
      insn: { op: "addi", rd, rs1: rd },
      label,
      addend: 4,
      kind: "lo",
    });
    this.#words.push(0);
  }

  /** Appends zero words until the next instruction would sit at `address`. */
  padTo(address: number): void {
    const target = address >>> 0;
    if (target < this.pc || (target - this.pc) % 4 !== 0) {
      throw new RangeError(`Cannot pad from 0x${this.pc.toString(16)} to 0x${target.toString(16)}`);
    }
    while (this.pc < target) this.#words.push(0);
  }

  /** Resolves every label reference and returns the little-endian machine code. */
  finish(): Uint8Array {
    for (const fixup of this.#fixups) {
      const at = (this.#base + fixup.index * 4) >>> 0;
      const target = this.address(fixup.label);
      let insn: Instruction;
      if (fixup.kind === "pc") {
        insn = { ...fixup.insn, imm: (target - at + fixup.addend) | 0 };
      } else {
        // Both halves are relative to the auipc, which sits `addend` bytes before this word.
        const { hi, lo } = splitImmediate(target - (at - fixup.addend));
        insn = { ...fixup.insn, imm: fixup.kind === "hi" ? hi : lo };
      }
      this.#words[fixup.index] = encode(insn);
    }
    const bytes = new Uint8Array(this.#words.length * 4);
    const view = new DataView(bytes.buffer);
    this.#words.forEach((word, k) => view.setUint32(k * 4, word, true));
    return bytes;
  }
}
