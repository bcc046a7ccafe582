import assert from "node:assert/strict";
import { Assembler, type Exit, Hart, PRIV_S } from "@paravirt/cpu";
import { PhysicalMemory } from "@paravirt/mmu";
import { Board } from "./machine.ts";
import {
  SBI_ERR_ALREADY_AVAILABLE,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_NOT_SUPPORTED,
  SBI_EXT_BASE,
  SBI_EXT_DBCN,
  SBI_EXT_HSM,
  SBI_EXT_IPI,
  SBI_EXT_RFENCE,
  SBI_EXT_SRST,
  SBI_EXT_TIME,
  SBI_IMPL_ID,
  SBI_SPEC_VERSION,
  SbiFirmware,
  type SbiResetKind,
} from "./sbi.ts";
import { writeKernelElf } from "./_test_elf.ts";
import { decodeFdt } from "./fdt.ts";

/** paravirt's hypercall extension (public/hypercall.ts): absent on the bare board. */
const HYPERCALL_EXTENSION = 0x0858454e;
const T0 = 5;
const T1 = 6;
const A0 = 10;
const A1 = 11;
const A6 = 16;
const A7 = 17;

function sbi(a: Assembler, eid: number, fid: number, ...args: number[]): void {
  a.li(A7, eid);
  a.li(A6, fid);
  args.forEach((v, i) => a.li(A0 + i, v));
  a.emit({ op: "ecall" });
}

function expectReg(a: Assembler, reg: number, value: number): void {
  a.li(T1, value);
  a.jump({ op: "bne", rs1: reg, rs2: T1 }, "fail");
}

function putchars(a: Assembler, text: string): void {
  for (const ch of text) sbi(a, 0x01, 0, ch.charCodeAt(0));
}

/** An S-mode program that exercises the firmware and shuts down through SRST. */
function sModeProgram(): Uint8Array {
  const a = new Assembler(0x8000_0000);
  // a0 = hart id, a1 = the device tree (magic 0xd00dfeed, big-endian).
  expectReg(a, A0, 0);
  a.emit({ op: "lw", rd: T0, rs1: A1, imm: 0 });
  expectReg(a, T0, 0xedfe0dd0 | 0);
  sbi(a, SBI_EXT_BASE, 0);
  expectReg(a, A0, 0);
  expectReg(a, A1, SBI_SPEC_VERSION);
  sbi(a, SBI_EXT_BASE, 1);
  expectReg(a, A1, SBI_IMPL_ID);
  sbi(a, SBI_EXT_BASE, 3, HYPERCALL_EXTENSION);
  expectReg(a, A0, 0);
  expectReg(a, A1, 0);
  for (const eid of [SBI_EXT_TIME, SBI_EXT_IPI, SBI_EXT_RFENCE, SBI_EXT_HSM, SBI_EXT_SRST]) {
    sbi(a, SBI_EXT_BASE, 3, eid);
    expectReg(a, A1, 1);
  }
  sbi(a, 0x12345678, 0);
  expectReg(a, A0, SBI_ERR_NOT_SUPPORTED);
  putchars(a, "SBI ok\n");
  // Debug console write of a string in memory (physical address: paging is off).
  a.la(A1, "message");
  a.li(A0, 5);
  a.li(12, 0);
  a.li(A7, SBI_EXT_DBCN);
  a.li(A6, 0);
  a.emit({ op: "ecall" });
  expectReg(a, A1, 5);
  // Timer: arm 100 ticks ahead, enable STIE and SIE, wait; the handler runs at "tick".
  a.la(T0, "tick");
  a.emit({ op: "csrrw", rd: 0, csr: 0x105, rs1: T0 });
  a.emit({ op: "csrrs", rd: T0, csr: 0xc01, rs1: 0 }); // rdtime (mcounteren.TM is set)
  a.emit({ op: "addi", rd: A0, rs1: T0, imm: 100 });
  a.li(A1, 0);
  a.li(A7, SBI_EXT_TIME);
  a.li(A6, 0);
  a.emit({ op: "ecall" });
  a.emit({ op: "csrrs", rd: T0, csr: 0x144, rs1: 0 });
  a.emit({ op: "andi", rd: T0, rs1: T0, imm: 32 });
  expectReg(a, T0, 0); // not yet pending
  a.li(T0, 32);
  a.emit({ op: "csrrs", rd: 0, csr: 0x104, rs1: T0 });
  a.emit({ op: "csrrsi", rd: 0, csr: 0x100, imm: 2 });
  a.label("wait");
  a.emit({ op: "wfi" });
  a.jump({ op: "jal", rd: 0 }, "wait");

  a.label("tick");
  a.emit({ op: "csrrs", rd: T0, csr: 0x142, rs1: 0 });
  expectReg(a, T0, 0x80000005 | 0);
  putchars(a, "T\n");
  sbi(a, SBI_EXT_TIME, 0, -1, -1); // far future: STIP drops
  a.emit({ op: "csrrs", rd: T0, csr: 0x144, rs1: 0 });
  a.emit({ op: "andi", rd: T0, rs1: T0, imm: 32 });
  expectReg(a, T0, 0);
  // IPI to ourselves raises SSIP (interrupts are off in the handler).
  sbi(a, SBI_EXT_IPI, 0, 1, 0);
  expectReg(a, A0, 0);
  a.emit({ op: "csrrs", rd: T0, csr: 0x144, rs1: 0 });
  a.emit({ op: "andi", rd: T0, rs1: T0, imm: 2 });
  expectReg(a, T0, 2);
  a.li(T0, 2);
  a.emit({ op: "csrrc", rd: 0, csr: 0x144, rs1: T0 });
  sbi(a, SBI_EXT_IPI, 0, 2, 0); // hart 1 does not exist
  expectReg(a, A0, SBI_ERR_INVALID_PARAM);
  sbi(a, SBI_EXT_HSM, 2, 0);
  expectReg(a, A0, 0);
  expectReg(a, A1, 0); // STARTED
  sbi(a, SBI_EXT_HSM, 0, 0, 0, 0);
  expectReg(a, A0, SBI_ERR_ALREADY_AVAILABLE);
  sbi(a, SBI_EXT_RFENCE, 1, 1, 0, 0, -1);
  expectReg(a, A0, 0);
  sbi(a, SBI_EXT_SRST, 0, 7, 0);
  expectReg(a, A0, SBI_ERR_INVALID_PARAM);
  putchars(a, "bye\n");
  sbi(a, SBI_EXT_SRST, 0, 0, 0);
  a.label("fail");
  sbi(a, SBI_EXT_SRST, 0, 0, 1);
  a.label("message");
  a.emit({ op: ".word", imm: 0x6e626464 }, { op: ".word", imm: 0x0a }); // "ddbn\n"
  return a.finish();
}

async function boot(image: Uint8Array) {
  const board = new Board({ clock: "instructions", ramSize: 16 << 20 });
  const out: string[] = [];
  board.onOutput = (bytes) => out.push(new TextDecoder().decode(bytes));
  const layout = board.loadKernel(image, { cmdline: "console=ttyS0" });
  const result = await board.run({ maxInstructions: 1_000_000 });
  return { board, layout, result, output: out.join("") };
}

Deno.test("an S-mode kernel linked at 0xC0000000 boots at its physical entry under the SBI", async () => {
  const code = sModeProgram();
  const elf = writeKernelElf(code, { virtualAddress: 0xc000_0000, physicalAddress: 0x8000_0000 });
  const { layout, result, output } = await boot(elf);
  assert.equal(layout.entry, 0x8000_0000);
  assert.equal(layout.fdtAddress, 0x8000_0000 + (16 << 20) - (64 << 10));
  assert.equal(output, "SBI ok\nddbn\nT\nbye\n");
  assert.equal(result.outcome, "pass");
  assert.equal(result.exitCode, 0);
});

Deno.test("SRST with a failure reason ends the run as a failure; reboot as a reset", async () => {
  for (const [reason, type, outcome] of [[1, 0, "fail"], [0, 1, "reset"], [0, 2, "reset"]]) {
    const a = new Assembler(0x8000_0000);
    sbi(a, SBI_EXT_SRST, 0, type as number, reason as number);
    a.emit({ op: "jal", rd: 0, imm: 0 });
    const elf = writeKernelElf(a.finish(), {
      virtualAddress: 0x8000_0000,
      physicalAddress: 0x8000_0000,
    });
    const { result } = await boot(elf);
    assert.equal(result.outcome, outcome, `type ${type} reason ${reason}`);
  }
});

Deno.test("legacy shutdown passes; legacy getchar reads the console input", async () => {
  const a = new Assembler(0x8000_0000);
  sbi(a, 0x02, 0);
  a.emit({ op: "addi", rd: 8, rs1: A0, imm: 0 });
  sbi(a, 0x01, 0); // a0 already holds the character: echo it
  a.emit({ op: "addi", rd: A0, rs1: 8, imm: 0 });
  a.li(A7, 0x01);
  a.emit({ op: "ecall" });
  sbi(a, 0x02, 0);
  a.emit({ op: "addi", rd: A0, rs1: A0, imm: 0x31 }); // -1 + '1' = '0'
  a.li(A7, 0x01);
  a.emit({ op: "ecall" });
  sbi(a, 0x08, 0);
  const elf = writeKernelElf(a.finish(), {
    virtualAddress: 0x8000_0000,
    physicalAddress: 0x8000_0000,
  });
  const board = new Board({ clock: "instructions", ramSize: 16 << 20 });
  let out = "";
  board.onOutput = (bytes) => out += new TextDecoder().decode(bytes);
  board.loadKernel(elf);
  board.uart.receive(new TextEncoder().encode("x"));
  const result = await board.run({ maxInstructions: 10_000 });
  assert.equal(result.outcome, "pass");
  assert.equal(out, "xx0");
});

Deno.test("a kernel and initrd that do not fit are refused with a clear error", () => {
  const board = new Board({ ramSize: 1 << 20 });
  const code = new Uint8Array(900 << 10).fill(0x13);
  const elf = writeKernelElf(code, { virtualAddress: 0xc000_0000, physicalAddress: 0x8000_0000 });
  assert.throws(
    () => board.loadKernel(elf, { initrd: new Uint8Array(200 << 10) }),
    /Initrd of 204800 bytes does not fit/,
  );
  assert.equal(board.memory.read32(0x8000_0000), 0, "a refused kernel leaves RAM untouched");
  assert.equal(board.firmware, undefined);
  assert.throws(() => board.loadKernel(elf, { cmdline: "a\0b" }), /contains a NUL/);
  assert.throws(() => board.loadKernel(new Uint8Array(100)), /neither an ELF executable nor/);
  const outside = writeKernelElf(new Uint8Array(16), {
    virtualAddress: 0xc000_0000,
    physicalAddress: 0x4000_0000,
  });
  assert.throws(() => board.loadKernel(outside), /lies outside RAM/);
});

/** A firmware over a bare hart, with a platform that records what it was asked. */
function firmware() {
  const memory = new PhysicalMemory();
  memory.addRam(0x8000_0000, 1 << 20);
  const hart = new Hart(memory);
  const log: string[] = [];
  let deadline = -1;
  const fw = new SbiFirmware({
    hart,
    setTimer: (d) => deadline = d,
    consoleWrite: (b) => log.push(new TextDecoder().decode(b)),
    consoleRead: () => -1,
    reset: (kind: SbiResetKind) => log.push(`reset:${kind}`),
    suspend: () => log.push("suspend"),
    stopHart: () => log.push("stop"),
  });
  fw.enterSupervisor({ entry: 0x8000_0000, argument: 0x8001_0000 });
  const call = (eid: number, fid: number, ...args: number[]) => {
    hart.x[A7] = eid;
    hart.x[A6] = fid;
    args.forEach((v, i) => hart.x[A0 + i] = v);
    const pc = hart.pc;
    const exit: Exit = { kind: "ecall", privilege: PRIV_S };
    assert.ok(fw.handle(exit));
    assert.equal(hart.pc, (pc + 4) | 0);
    return { error: hart.x[A0], value: hart.x[A1] };
  };
  return { hart, fw, log, call, deadline: () => deadline };
}

Deno.test("enterSupervisor leaves the hart as OpenSBI would for a kernel", () => {
  const { hart } = firmware();
  assert.equal(hart.priv, PRIV_S);
  assert.equal(hart.pc, 0x8000_0000 | 0);
  assert.equal(hart.x[A0], 0);
  assert.equal(hart.x[A1], 0x8001_0000 | 0);
  assert.equal(hart.mideleg, 0x222);
  assert.equal(hart.medeleg & (1 << 9), 0, "ecall from S stays with the firmware");
  assert.notEqual(hart.medeleg & (1 << 8), 0, "ecall from U goes to the kernel");
  assert.notEqual(hart.medeleg & (1 << 2), 0, "illegal instruction goes to the kernel");
  assert.notEqual(hart.medeleg & (1 << 15), 0);
  assert.equal(hart.mcounteren, 7);
  assert.equal(hart.satp, 0);
});

Deno.test("SBI calls with hostile arguments get error codes", () => {
  const { call, log, deadline } = firmware();
  assert.equal(call(SBI_EXT_BASE, 99).error, SBI_ERR_NOT_SUPPORTED);
  assert.equal(call(SBI_EXT_TIME, 1).error, SBI_ERR_NOT_SUPPORTED);
  assert.deepEqual(call(SBI_EXT_TIME, 0, 5, 1), { error: 0, value: 0 });
  assert.equal(deadline(), 0x1_0000_0005);
  assert.equal(call(SBI_EXT_IPI, 0, 1, 5).error, SBI_ERR_INVALID_PARAM);
  assert.equal(call(SBI_EXT_IPI, 0, 0, -1).error, 0, "base -1 means every hart");
  assert.equal(call(SBI_EXT_RFENCE, 3, 1, 0).error, SBI_ERR_NOT_SUPPORTED, "no hfence");
  assert.equal(call(SBI_EXT_HSM, 2, 3).error, SBI_ERR_INVALID_PARAM);
  assert.equal(call(SBI_EXT_HSM, 0, 3, 0, 0).error, SBI_ERR_INVALID_PARAM);
  assert.equal(call(SBI_EXT_HSM, 3, 5, 0, 0).error, SBI_ERR_INVALID_PARAM);
  assert.equal(call(SBI_EXT_SRST, 0, 0, 9).error, SBI_ERR_INVALID_PARAM);
  assert.equal(call(SBI_EXT_SRST, 0, 0xf000_0000, 0).error, SBI_ERR_INVALID_PARAM);
  // Debug console reads and writes outside RAM are refused, not thrown.
  assert.equal(call(SBI_EXT_DBCN, 0, 16, 0x1000, 0).error, SBI_ERR_INVALID_PARAM);
  assert.equal(call(SBI_EXT_DBCN, 0, 16, 0x8000_0000, 1).error, SBI_ERR_INVALID_PARAM);
  assert.equal(call(SBI_EXT_DBCN, 1, 16, 0x7fff_fff0, 0).error, 0, "nothing to read: 0 bytes");
  // Legacy calls with a hart-mask pointer that is not readable fail with an error code.
  assert.equal(call(0x04, 0, 0x1000).error, -5);
  assert.equal(call(0x06, 0, 0x8000_0002).error, -5);
  assert.deepEqual(log, []);
  call(SBI_EXT_SRST, 0, 1, 0);
  assert.deepEqual(log, ["reset:reboot"]);
});

Deno.test("HSM suspend parks the hart; a non-retentive one resumes at the given address", () => {
  const { hart, fw, call, log } = firmware();
  assert.deepEqual(call(SBI_EXT_HSM, 3, 0, 0, 0), { error: 0, value: 0 });
  assert.deepEqual(log, ["suspend"]);
  hart.setSatp(0x8000_0000 | 0x80010);
  hart.x[A7] = SBI_EXT_HSM;
  hart.x[A6] = 3;
  hart.x[A0] = 0x8000_0000 | 0;
  hart.x[A1] = 0x8000_4000 | 0;
  hart.x[12] = 1234;
  assert.ok(fw.handle({ kind: "ecall", privilege: PRIV_S }));
  assert.deepEqual(log, ["suspend", "suspend"]);
  assert.equal(hart.pc, 0x8000_4000 | 0);
  assert.equal(hart.x[A0], 0);
  assert.equal(hart.x[A1], 1234);
  assert.equal(hart.satp, 0);
});

Deno.test("the firmware refuses exits that are not ecalls from S-mode", () => {
  const { fw } = firmware();
  assert.equal(fw.handle({ kind: "ecall", privilege: 0 }), false);
  assert.equal(fw.handle({ kind: "trap", cause: 2, tval: 0, privilege: 1 }), false);
  assert.equal(fw.handle({ kind: "breakpoint" }), false);
});

Deno.test("loadKernel writes the device tree with the command line and the initrd's range", () => {
  const board = new Board({ ramSize: 32 << 20 });
  const elf = writeKernelElf(new Uint8Array(64), {
    virtualAddress: 0xc000_0000,
    physicalAddress: 0x8000_0000,
    entryOffset: 16,
  });
  const initrd = new TextEncoder().encode("070701 not really a cpio");
  const layout = board.loadKernel(elf, { cmdline: "console=ttyS0 quiet", initrd });
  assert.equal(layout.entry, 0x8000_0010);
  assert.equal(board.hart.pc, 0x8000_0010 | 0);
  assert.equal(board.hart.x[A1], layout.fdtAddress | 0);
  const fdt = decodeFdt(board.memory.readBytes(layout.fdtAddress, layout.fdtSize)).root;
  assert.deepEqual(fdt.find("chosen")!.strings("bootargs"), ["console=ttyS0 quiet"]);
  const start = fdt.find("chosen")!.cells("linux,initrd-start")![1];
  const end = fdt.find("chosen")!.cells("linux,initrd-end")![1];
  assert.equal(start, layout.initrd!.start);
  assert.equal(end - start, initrd.length);
  assert.equal(start % 4096, 0);
  assert.ok(end <= layout.fdtAddress);
  assert.deepEqual(board.memory.readBytes(start, initrd.length), initrd);
  assert.deepEqual(fdt.find("memory@80000000")!.cells("reg"), [0, 0x8000_0000, 0, 32 << 20]);
});

Deno.test("a RISC-V Linux Image is loaded at RAM's base and entered there", () => {
  const image = new Uint8Array(4096);
  const view = new DataView(image.buffer);
  view.setBigUint64(8, 0x400000n, true); // text_offset (QEMU without firmware ignores it too)
  view.setBigUint64(16, 0x3000n, true); // image_size
  image.set(new TextEncoder().encode("RISCV\0\0\0RSC\x05"), 0x30);
  const board = new Board({ ramSize: 8 << 20 });
  const layout = board.loadKernel(image);
  assert.equal(layout.format, "image");
  assert.equal(layout.entry, 0x8000_0000);
  assert.equal(layout.kernelEnd, 0x8000_3000);
  const huge = image.slice();
  new DataView(huge.buffer).setBigUint64(16, 0x1000_0000n, true);
  assert.throws(() => new Board({ ramSize: 8 << 20 }).loadKernel(huge), /does not fit/);
});
