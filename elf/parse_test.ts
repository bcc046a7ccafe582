import assert from "node:assert/strict";
import { ElfFormatError, parseElf } from "./mod.ts";

/** Builds a minimal RV32 executable: header, one PT_LOAD, optional symtab with one symbol. */
function buildElf(code: Uint8Array, symbol?: [string, number]): Uint8Array {
  const phoff = 52;
  const codeOff = phoff + 32;
  const strtab = symbol ? new TextEncoder().encode(`\0${symbol[0]}\0`) : new Uint8Array();
  const symOff = codeOff + code.length;
  const strOff = symOff + 32;
  const shoff = (strOff + strtab.length + 3) & ~3;
  const shnum = symbol ? 3 : 0;
  const out = new Uint8Array(shoff + shnum * 40);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true);
  v.setUint16(18, 243, true);
  v.setUint32(20, 1, true);
  v.setUint32(24, 0x8000_0000, true);
  v.setUint32(28, phoff, true);
  v.setUint32(32, symbol ? shoff : 0, true);
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, 1, true);
  v.setUint16(46, 40, true);
  v.setUint16(48, shnum, true);
  v.setUint32(phoff, 1, true);
  v.setUint32(phoff + 4, codeOff, true);
  v.setUint32(phoff + 8, 0x8000_0000, true);
  v.setUint32(phoff + 12, 0x8000_0000, true);
  v.setUint32(phoff + 16, code.length, true);
  v.setUint32(phoff + 20, code.length + 16, true);
  v.setUint32(phoff + 24, 5, true);
  out.set(code, codeOff);
  if (symbol) {
    v.setUint32(symOff + 16, 1, true); // second symbol: name offset 1
    v.setUint32(symOff + 20, symbol[1], true);
    out.set(strtab, strOff);
    const sh = (i: number) => shoff + i * 40;
    v.setUint32(sh(1) + 4, 2, true); // SHT_SYMTAB
    v.setUint32(sh(1) + 16, symOff, true);
    v.setUint32(sh(1) + 20, 32, true);
    v.setUint32(sh(1) + 24, 2, true);
    v.setUint32(sh(2) + 4, 3, true); // SHT_STRTAB
    v.setUint32(sh(2) + 16, strOff, true);
    v.setUint32(sh(2) + 20, strtab.length, true);
  }
  return out;
}

Deno.test("parses entry, segments and symbols", () => {
  const image = parseElf(buildElf(new Uint8Array([0x6f, 0, 0, 0]), ["tohost", 0x8000_1000]));
  assert.equal(image.entry, 0x8000_0000);
  assert.equal(image.segments.length, 1);
  assert.deepEqual([...image.segments[0].data], [0x6f, 0, 0, 0]);
  assert.equal(image.segments[0].memorySize, 20);
  assert.equal(image.symbols.get("tohost"), 0x8000_1000);
});

Deno.test("rejects malformed images with a message naming the problem", () => {
  const good = buildElf(new Uint8Array(8));
  const cases: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ["empty", () => new Uint8Array(0), /too short/],
    ["magic", (b) => (b[1] = 0, b), /magic/],
    ["64-bit", (b) => (b[4] = 2, b), /not 32-bit/],
    ["big-endian", (b) => (b[5] = 2, b), /little-endian/],
    ["machine", (b) => (b[18] = 62, b), /not RISC-V/],
    ["type", (b) => (b[16] = 3, b), /not an executable/],
    ["truncated", (b) => b.subarray(0, 90), /runs past the end/],
    ["phoff", (b) => (new DataView(b.buffer).setUint32(28, 0xfffffff0, true), b), /program header/],
    ["filesz", (b) => (new DataView(b.buffer).setUint32(52 + 16, 1000, true), b), /larger than/],
    ["wrap", (b) => (new DataView(b.buffer).setUint32(52 + 12, 0xfffffffc, true), b), /wraps/],
    ["no load", (b) => (b[52] = 6, b), /no loadable segment/],
  ];
  for (const [name, corrupt, message] of cases) {
    assert.throws(() => parseElf(corrupt(good.slice())), (error: unknown) => {
      assert.ok(error instanceof ElfFormatError, name);
      assert.match(error.message, message, name);
      return true;
    });
  }
});

Deno.test("random corruption never escapes as anything but ElfFormatError", () => {
  const good = buildElf(new Uint8Array(64), ["tohost", 0x8000_0040]);
  let seed = 1;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < 2000; i++) {
    const bytes = good.slice();
    for (let k = 0; k < 4; k++) bytes[next() % bytes.length] = next() & 0xff;
    try {
      parseElf(bytes.subarray(0, next() % (bytes.length + 1)));
    } catch (error) {
      assert.ok(error instanceof ElfFormatError, String(error));
    }
  }
});
