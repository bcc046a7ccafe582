import assert from "node:assert/strict";
import {
  makePte,
  PTE_A,
  PTE_D,
  PTE_R,
  PTE_U,
  PTE_V,
  PTE_W,
  PTE_X,
  SATP_MODE_SV32,
} from "@paravirt/mmu";
import { machine, RAM } from "./_test_machine.ts";
import { run } from "./run.ts";
import {
  IRQ_M_EXT,
  IRQ_M_TIMER,
  IRQ_S_EXT,
  IRQ_S_TIMER,
  MSTATUS_MIE,
  MSTATUS_MPIE,
  MSTATUS_MPRV,
  MSTATUS_SIE,
  MSTATUS_SPIE,
  MSTATUS_SPP,
  MSTATUS_TW,
  PRIV_M,
  PRIV_S,
  PRIV_U,
} from "./csr_numbers.ts";

const NOPS = (n: number) => Array.from({ length: n }, () => ({ op: "addi" as const }));

Deno.test("ecall from U goes to S when delegated, to M otherwise", () => {
  for (const delegated of [true, false]) {
    const m = machine((s) => s.emit({ op: "ecall" }));
    const h = m.hart;
    h.priv = PRIV_U;
    h.medeleg = delegated ? 1 << 8 : 0;
    h.stvec = RAM + 0x100;
    h.mtvec = RAM + 0x200;
    h.mstatus = MSTATUS_SIE;
    m.go(1);
    if (delegated) {
      assert.deepEqual([h.priv, h.scause, h.sepc, h.pc], [PRIV_S, 8, RAM | 0, RAM + 0x100 | 0]);
      assert.equal(h.mstatus & (MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP), MSTATUS_SPIE);
    } else {
      assert.deepEqual([h.priv, h.mcause, h.mepc, h.pc], [PRIV_M, 8, RAM | 0, RAM + 0x200 | 0]);
      assert.equal((h.mstatus >>> 11) & 3, PRIV_U, "MPP records U");
    }
  }
});

Deno.test("MRET and SRET restore privilege and interrupt enables", () => {
  const m = machine((s) => s.emit({ op: "mret" }));
  const h = m.hart;
  h.mstatus = MSTATUS_MPIE | MSTATUS_MPRV | (PRIV_S << 11);
  h.mepc = RAM + 0x40;
  m.go(1);
  assert.equal(h.priv, PRIV_S);
  assert.equal(h.pc, (RAM + 0x40) | 0);
  assert.equal(h.mstatus & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPRV), MSTATUS_MIE | MSTATUS_MPIE);
  assert.equal((h.mstatus >>> 11) & 3, PRIV_U, "MPP becomes U");
  const s = machine((a) => a.emit({ op: "sret" }));
  s.hart.priv = PRIV_S;
  s.hart.mstatus = MSTATUS_SPIE;
  s.hart.sepc = RAM + 0x80;
  s.go(1);
  assert.equal(s.hart.priv, PRIV_U);
  assert.equal(s.hart.mstatus & (MSTATUS_SIE | MSTATUS_SPIE), MSTATUS_SIE | MSTATUS_SPIE);
  const u = machine((a) => a.emit({ op: "sret" }));
  u.hart.priv = PRIV_U;
  u.hart.mtvec = RAM + 0x100;
  u.go(1);
  assert.equal(u.hart.mcause, 2, "SRET is illegal in U-mode");
});

Deno.test("interrupts: priority, enables, delegation and vectored mode", () => {
  const m = machine((s) => s.emit(...NOPS(8)));
  const h = m.hart;
  h.mtvec = RAM + 0x101; // vectored
  h.mie = (1 << IRQ_M_TIMER) | (1 << IRQ_M_EXT) | (1 << IRQ_S_EXT);
  h.mipLines = (1 << IRQ_M_TIMER) | (1 << IRQ_M_EXT) | (1 << IRQ_S_EXT);
  m.go(1);
  assert.equal(h.pc, (RAM + 4) | 0, "M-mode with MIE clear takes nothing");
  h.mstatus |= MSTATUS_MIE;
  m.go(0); // a zero budget still takes a pending interrupt, then stops
  assert.equal(h.mcause, (0x80000000 | IRQ_M_EXT) | 0, "MEI beats MTI and SEI");
  assert.equal(h.mepc, RAM + 4 | 0);
  assert.equal(h.pc, RAM + 0x100 + 4 * IRQ_M_EXT | 0, "vectored to base + 4 * cause");
  // Delegated supervisor interrupts are never taken in M-mode, always in U-mode.
  h.mipLines = 1 << IRQ_S_TIMER;
  h.mie = 1 << IRQ_S_TIMER;
  h.mideleg = 1 << IRQ_S_TIMER;
  h.stvec = RAM + 0x300;
  h.mstatus = MSTATUS_MIE;
  h.pc = RAM;
  m.go(0);
  assert.equal(h.priv, PRIV_M);
  h.priv = PRIV_U;
  h.pc = RAM;
  m.go(0);
  assert.equal(h.priv, PRIV_S);
  assert.equal(h.scause, (0x80000000 | IRQ_S_TIMER) | 0);
});

Deno.test("WFI: exits when idle, continues when an interrupt is pending, traps under TW", () => {
  const m = machine((s) => s.emit({ op: "wfi" }, ...NOPS(3)));
  assert.equal(m.go().kind, "wfi");
  assert.equal(m.hart.pc, (RAM + 4) | 0, "WFI completed");
  m.hart.pc = RAM;
  m.hart.mie = 1 << IRQ_M_TIMER;
  m.hart.mipLines = 1 << IRQ_M_TIMER; // pending but globally disabled: WFI still resumes
  assert.equal(m.go(2).kind, "budget");
  const t = machine((s) => s.emit({ op: "wfi" }));
  t.hart.priv = PRIV_S;
  t.hart.mstatus = MSTATUS_TW;
  t.hart.mtvec = RAM + 0x100;
  t.go(1);
  assert.equal(t.hart.mcause, 2);
});

Deno.test("host seam: claimed ecalls and illegal instructions leave run() untouched", () => {
  const m = machine((s) => s.emit({ op: "ecall" }, { op: ".word", imm: 0xffffffff | 0 }));
  const h = m.hart;
  h.priv = PRIV_S;
  h.hostTraps = (1 << 9) | (1 << 2);
  const exit = m.go();
  assert.deepEqual(exit, { kind: "ecall", privilege: PRIV_S });
  assert.equal(h.pc, RAM | 0, "pc still at the ecall");
  assert.equal(h.priv, PRIV_S);
  h.pc = RAM + 4;
  assert.deepEqual(m.go(), { kind: "trap", cause: 2, tval: -1, privilege: PRIV_S });
  h.medeleg = 1 << 2; // delegated to S: the host no longer sees it
  h.stvec = RAM + 0x100;
  h.pc = RAM + 4;
  m.go(1);
  assert.equal(h.scause, 2);
});

Deno.test("MMIO windows without a device exit to the host; completeMmioLoad finishes the load", () => {
  const m = machine((s) => {
    s.li(1, 0x1000_0000);
    s.emit({ op: "lb", rd: 2, rs1: 1, imm: 4 }, { op: "sw", rs1: 1, rs2: 1, imm: 8 });
  });
  m.memory.addMmio(0x1000_0000, 0x100, null);
  assert.deepEqual(m.go(), { kind: "mmio", address: 0x1000_0004, size: 1, write: false, value: 0 });
  m.hart.completeMmioLoad(0xff);
  assert.equal(m.hart.x[2], -1, "sign-extended");
  assert.deepEqual(m.go(), {
    kind: "mmio",
    address: 0x1000_0008,
    size: 4,
    write: true,
    value: 0x1000_0000,
  });
  assert.equal(m.hart.pc, (RAM + 16) | 0, "both instructions completed");
});

Deno.test("requestStop ends run() after the current instruction", () => {
  const m = machine((s) => s.emit(...NOPS(4)));
  m.hart.requestStop({ kind: "halt", code: 3 });
  assert.deepEqual(run(m.hart, 10), { kind: "halt", code: 3 });
  assert.equal(m.hart.pc, RAM | 0);
});

Deno.test("Sv32 from the CPU: S-mode page fault, MPRV, and A/D bits", () => {
  const ROOT = 0x80010;
  const LEAF = 0x80011;
  const m = machine((s) => {
    s.li(1, 0x4000_0000);
    s.li(3, 0x4000_1000);
    s.emit({ op: "lw", rd: 2, rs1: 1, imm: 0 }, { op: "sw", rs1: 3, rs2: 1, imm: 0 });
  });
  const { memory, hart } = m;
  // Identity-map the code page (superpage) and map VA 0x4000_0000 -> 0x80020 (read-only).
  memory.write32(ROOT * 4096 + 0x200 * 4, makePte(0x80000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A));
  memory.write32(ROOT * 4096 + 0x100 * 4, makePte(LEAF, PTE_V));
  memory.write32(LEAF * 4096, makePte(0x80020, PTE_V | PTE_R));
  memory.write32(0x80020 * 4096, 1234);
  hart.setSatp(SATP_MODE_SV32 | ROOT);
  hart.priv = PRIV_S;
  hart.mtvec = RAM + 0x400;
  m.go(6);
  assert.equal(hart.x[2], 1234);
  assert.equal(hart.mcause, 15, "store page fault on the unmapped page");
  assert.equal(hart.mtval, 0x4000_1000);
  assert.equal(memory.read32(LEAF * 4096) & (PTE_A | PTE_D), PTE_A);
  // M-mode with MPRV and MPP = S loads through the same tables.
  hart.priv = PRIV_M;
  hart.mstatus = MSTATUS_MPRV | (PRIV_S << 11);
  hart.syncTranslation();
  hart.pc = RAM + 16;
  hart.x[2] = 0;
  m.go(1);
  assert.equal(hart.x[2], 1234);
  memory.write32(LEAF * 4096, makePte(0x80020, PTE_V | PTE_R | PTE_U));
  hart.mmu.flushTranslated();
  hart.pc = RAM + 16;
  hart.mtvec = RAM + 0x400;
  m.go(1);
  assert.equal(hart.mcause, 13, "S without SUM cannot read a U page");
});

Deno.test("SFENCE.VMA with an address makes a remapped page visible to the next access", () => {
  const ROOT = 0x80010;
  const LEAF = 0x80011;
  const m = machine((s) => {
    s.li(1, 0x4000_0000);
    s.li(4, 0x4000_1000);
    s.emit({ op: "lw", rd: 2, rs1: 1, imm: 0 }); // caches page 0x40000
    s.emit({ op: "lw", rd: 5, rs1: 4, imm: 0 }); // caches page 0x40001
    s.emit({ op: "sw", rs1: 6, rs2: 7, imm: 0 }); // remap: LEAF[0] = x7 (x6 = &LEAF[0])
    s.emit({ op: "sfence.vma", rs1: 1 });
    s.emit({ op: "lw", rd: 3, rs1: 1, imm: 0 });
    s.emit({ op: "ebreak" });
  });
  const { memory, hart } = m;
  memory.write32(ROOT * 4096 + 0x200 * 4, makePte(0x80000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A));
  memory.write32(ROOT * 4096 + 0x100 * 4, makePte(LEAF, PTE_V));
  memory.write32(LEAF * 4096, makePte(0x80020, PTE_V | PTE_R | PTE_A));
  memory.write32(LEAF * 4096 + 4, makePte(0x80022, PTE_V | PTE_R | PTE_A));
  memory.write32(0x80020 * 4096, 111);
  memory.write32(0x80021 * 4096, 222);
  memory.write32(0x80022 * 4096, 333);
  hart.setSatp(SATP_MODE_SV32 | ROOT);
  hart.priv = PRIV_S;
  hart.x[6] = LEAF * 4096; // through the identity megapage
  hart.x[7] = makePte(0x80021, PTE_V | PTE_R | PTE_A);
  const walks = () => hart.mmu.walks;
  assert.equal(m.go().kind, "breakpoint");
  assert.equal(hart.x[2], 111);
  assert.equal(hart.x[3], 222, "the flushed page was walked again");
  assert.equal(hart.x[5], 333);
  const slot = (0x4000_1000 >>> 12) & 511;
  assert.equal(hart.mmu.set(1, PRIV_S).tag[slot], 0x40001, "the other page stayed cached");
  assert.ok(walks() > 0);
});
