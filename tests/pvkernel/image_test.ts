/**
 * The PV kernel image keeps the contract's image rules (public/README.md, "Image and entry"):
 * an RV32 ET_EXEC whose loadable segments sit at or above PV_VIRT_BASE with physical addresses
 * 0x8000_0000 + (vaddr - PV_VIRT_BASE), entered at PV_VIRT_BASE, with no compressed instruction
 * (our CPU has no C extension); and the applications it embeds are well-formed U-mode ELFs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ElfImage, parseElf } from "@paravirt/elf";
import { PV_VIRT_BASE } from "@paravirt/public";
import { PV_APP_NAMES } from "@paravirt/guests";
import { pvKernel } from "./_boot.ts";

const EF_RISCV_RVC = 1;

function eFlags(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(36, true);
}

/** Reads `length` bytes at virtual address `va` from the image's segments. */
function readVirtual(image: ElfImage, va: number, length: number): Uint8Array {
  for (const s of image.segments) {
    if (va >= s.virtualAddress && va + length <= s.virtualAddress + s.data.length) {
      return s.data.subarray(va - s.virtualAddress, va - s.virtualAddress + length);
    }
  }
  throw new RangeError(`0x${va.toString(16)} (+${length}) is not in the image's file data`);
}

Deno.test("pvkernel.elf: segments, entry and physical addresses follow the contract", async () => {
  const bytes = await pvKernel();
  const image = parseElf(bytes);
  assert.equal(new DataView(bytes.buffer).getUint16(16, true), 2, "ET_EXEC");
  assert.equal(image.entry, PV_VIRT_BASE);
  assert.ok(image.segments.length >= 1);
  for (const s of image.segments) {
    assert.ok(s.virtualAddress >= PV_VIRT_BASE, `segment at 0x${s.virtualAddress.toString(16)}`);
    assert.equal(s.physicalAddress, 0x8000_0000 + (s.virtualAddress - PV_VIRT_BASE));
  }
  const end = image.symbols.get("_end");
  assert.ok(end !== undefined && end % 4096 === 0, "_end is page aligned");
  const last = Math.max(...image.segments.map((s) => s.virtualAddress + s.memorySize));
  assert.ok(last <= end, ".bss ends before _end");
});

Deno.test("pvkernel.elf: every instruction is a 32-bit one", async () => {
  const bytes = await pvKernel();
  assert.equal(eFlags(bytes) & EF_RISCV_RVC, 0, "no RVC flag");
  const image = parseElf(bytes);
  const start = image.symbols.get("_start")!;
  const end = image.symbols.get("__text_end")!;
  const text = readVirtual(image, start, end - start);
  for (let at = 0; at < text.length; at += 4) {
    assert.equal(text[at] & 3, 3, `compressed encoding at 0x${(start + at).toString(16)}`);
  }
});

Deno.test("pvkernel.elf: the embedded applications are U-mode RV32 executables", async () => {
  const image = parseElf(await pvKernel());
  const table = image.symbols.get("app_images");
  assert.ok(table !== undefined);
  const names: string[] = [];
  for (let i = 0;; i++) {
    const row: DataView = new DataView(readVirtual(image, table + 12 * i, 12).slice().buffer);
    const name: number = row.getUint32(0, true);
    const start: number = row.getUint32(4, true);
    const end: number = row.getUint32(8, true);
    if (name === 0) break;
    const nameBytes = readVirtual(image, name, 16);
    names.push(new TextDecoder().decode(nameBytes.subarray(0, nameBytes.indexOf(0))));
    const app: Uint8Array = readVirtual(image, start, end - start).slice();
    assert.equal(eFlags(app) & EF_RISCV_RVC, 0);
    const elf = parseElf(app);
    assert.equal(elf.entry, 0x10000);
    for (const s of elf.segments) assert.ok(s.virtualAddress + s.memorySize <= 0x4000_0000);
  }
  assert.deepEqual(names, [...PV_APP_NAMES]);
});
