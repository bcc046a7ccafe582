import assert from "node:assert/strict";
import { PhysicalMemory } from "@paravirt/mmu";
import { Hart } from "./hart.ts";
import { CSR_ILLEGAL, readCsr, writeCsr } from "./csr.ts";
import { machine, RAM } from "./_test_machine.ts";
import {
  MSTATUS_MPP,
  MSTATUS_SPP,
  MSTATUS_SUM,
  MSTATUS_TVM,
  PRIV_M,
  PRIV_S,
  PRIV_U,
} from "./csr_numbers.ts";

function hart(): Hart {
  const memory = new PhysicalMemory();
  memory.addRam(RAM, 4096);
  return new Hart(memory);
}

Deno.test("CSR access follows the privilege field and the read-only space", () => {
  const h = hart();
  h.priv = PRIV_S;
  assert.equal(readCsr(h, 0x300), CSR_ILLEGAL, "S cannot read mstatus");
  assert.notEqual(readCsr(h, 0x100), CSR_ILLEGAL);
  h.priv = PRIV_U;
  assert.equal(readCsr(h, 0x100), CSR_ILLEGAL, "U cannot read sstatus");
  h.priv = PRIV_M;
  assert.equal(readCsr(h, 0xf14), 0);
  assert.equal(writeCsr(h, 0xf14, 1), false, "mhartid is read-only");
  assert.equal(readCsr(h, 0x7c0), CSR_ILLEGAL, "unimplemented CSRs are illegal");
  assert.equal(readCsr(h, 0x301), h.misa);
  assert.equal(h.misa, 0x40141101);
});

Deno.test("mstatus and sstatus WARL rules", () => {
  const h = hart();
  writeCsr(h, 0x300, 1 << 11); // MPP = S
  writeCsr(h, 0x300, 2 << 11); // reserved: keeps S
  assert.equal(h.mstatus & MSTATUS_MPP, 1 << 11);
  writeCsr(h, 0x300, -1);
  assert.equal(h.mstatus, 0x007e19aa, "only implemented fields stick (no FS/VS/XS/SD)");
  writeCsr(h, 0x100, 0);
  assert.equal(h.mstatus & (MSTATUS_SPP | MSTATUS_SUM), 0, "sstatus writes its view");
  assert.equal(h.mstatus & MSTATUS_TVM, MSTATUS_TVM, "and leaves M-only fields");
  assert.equal(readCsr(h, 0x100), h.mstatus & 0x000c0122);
});

Deno.test("delegation masks and the sie/sip views", () => {
  const h = hart();
  writeCsr(h, 0x302, -1);
  assert.equal(h.medeleg, 0xb3ff, "ecall from M is never delegated");
  writeCsr(h, 0x303, -1);
  assert.equal(h.mideleg, 0x222);
  writeCsr(h, 0x304, -1);
  assert.equal(h.mie, 0xaaa);
  writeCsr(h, 0x303, 0x020); // only STI delegated
  assert.equal(readCsr(h, 0x104), 0x020, "sie shows delegated bits only");
  writeCsr(h, 0x104, 0);
  assert.equal(h.mie, 0xa8a, "sie clears only delegated bits");
  writeCsr(h, 0x344, 0x222);
  h.mipLines = 1 << 9;
  assert.equal(readCsr(h, 0x344), 0x222);
  assert.equal(readCsr(h, 0x144), 0x020, "sip shows delegated bits only");
  writeCsr(h, 0x303, 0x002);
  writeCsr(h, 0x144, 0);
  assert.equal(h.mipSoftware, 0x220, "S can clear SSIP when it is delegated");
});

Deno.test("mtvec ignores reserved modes; xepc drops bits 1:0", () => {
  const h = hart();
  writeCsr(h, 0x305, RAM + 1);
  assert.equal(h.mtvec, RAM + 1 | 0);
  writeCsr(h, 0x305, RAM + 2);
  assert.equal(h.mtvec, RAM + 1 | 0);
  writeCsr(h, 0x341, 0x1237);
  assert.equal(h.mepc, 0x1234);
  writeCsr(h, 0x141, 0x1237);
  assert.equal(h.sepc, 0x1234);
});

Deno.test("counters: gated by mcounteren and scounteren below M", () => {
  const h = hart();
  h.instret = 2 ** 32 + 7;
  h.priv = PRIV_U;
  assert.equal(readCsr(h, 0xc02), CSR_ILLEGAL);
  h.mcounteren = 4;
  assert.equal(readCsr(h, 0xc02), CSR_ILLEGAL, "U also needs scounteren");
  h.scounteren = 4;
  assert.equal(readCsr(h, 0xc02), 7);
  assert.equal(readCsr(h, 0xc82), 1);
  assert.equal(readCsr(h, 0xc00), CSR_ILLEGAL, "cycle not enabled");
  h.priv = PRIV_M;
  writeCsr(h, 0xb82, 5);
  assert.equal(h.instret, 5 * 2 ** 32 + 7 - 1, "pre-compensated for the writing instruction");
});

Deno.test("satp and SFENCE.VMA trap in S-mode under TVM", () => {
  const m = machine((s) => {
    s.emit({ op: "csrrw", rd: 1, rs1: 0, csr: 0x180 });
    s.emit({ op: "sfence.vma" });
    s.emit({ op: "ebreak" });
  });
  m.hart.priv = PRIV_S;
  m.hart.mstatus |= MSTATUS_TVM;
  m.hart.mtvec = RAM + 8; // straight to the ebreak
  m.go();
  assert.equal(m.hart.mcause, 2);
  assert.equal(m.hart.mepc, RAM | 0);
  assert.equal(m.hart.mtval, 0x180010f3, "tval holds the instruction (csrrw x1, satp, x0)");
});
