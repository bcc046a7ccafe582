/*
 * sv32.c — Sv32 translation checked from S-mode: mappings, page faults, A/D, SUM, MXR and
 * sfence.vma.
 *
 * Rules of use: M-mode (from crt0) builds the tables below, sets satp, delegates the three
 * page faults (medeleg bits 12, 13, 15) and enters S-mode, where all checks run. The whole
 * program sits in the 4 MiB superpage at 0x8000_0000, identity-mapped, so code, stacks,
 * the tables themselves and the trap stacks keep their physical addresses; the UART and the
 * test device are identity-mapped too. The S handler records each trap and skips the
 * faulting instruction (a fetch fault returns to ra, as all fetch tests are calls). Each
 * check has its own failure code.
 *
 * Virtual map (4 KiB pages at 0xC000_0000, one per test page):
 *   +0 data   R W, A and D clear     +4 invalid (V = 0)
 *   +1 user   R W U                  +5 remap: page A, then page B after sfence.vma
 *   +2 xonly  X (holds a ret)        +6 uexec R X U (holds a ret)
 *   +3 ro     R                      +7 wonly W without R (reserved encoding)
 *   0xC040_0000: a superpage leaf whose physical address is not 4 MiB aligned
 */
#include <stdint.h>

#include "common/board.h"
#include "common/console.h"
#include "common/csr.h"
#include "common/mode.h"
#include "common/test.h"
#include "common/trap.h"

#define PTE_V 0x01u
#define PTE_R 0x02u
#define PTE_W 0x04u
#define PTE_X 0x08u
#define PTE_U 0x10u
#define PTE_A 0x40u
#define PTE_D 0x80u

#define VA_BASE 0xC0000000u
#define VA(page) (VA_BASE + (page) * 4096u)
#define VA_BAD_SUPERPAGE 0xC0400000u

enum { PG_DATA, PG_USER, PG_XONLY, PG_RO, PG_INVALID, PG_REMAP, PG_UEXEC, PG_WONLY };

#define INSN_RET 0x00008067u
#define REMAP_A 0xAAAAAAAAu
#define REMAP_B 0xBBBBBBBBu

static volatile uint32_t root[1024] __attribute__((aligned(4096)));
static volatile uint32_t leaf[1024] __attribute__((aligned(4096)));
/* Physical backing pages; [PG_INVALID] backs nothing and [8] is remap page B. */
static volatile uint32_t pages[9][1024] __attribute__((aligned(4096)));
#define PAGE_B 8

static uint32_t leaf_pte(uint32_t pa, uint32_t flags) {
  return ((pa >> 12) << 10) | flags;
}

static uint32_t table_pte(volatile uint32_t *table) {
  return (((uint32_t)table >> 12) << 10) | PTE_V;
}

static uint32_t pa_of(uint32_t page) {
  return (uint32_t)pages[page];
}

/* What the S handler saw at its last trap. */
static struct {
  volatile uint32_t count;
  volatile uint32_t cause;
  volatile uint32_t epc;
  volatile uint32_t tval;
} s_rec;

static void reset_record(void) {
  s_rec.count = 0;
  s_rec.cause = 0xFFFFFFFFu;
  s_rec.epc = 0;
  s_rec.tval = 0xFFFFFFFFu;
}

void s_trap_handler(struct trap_frame *frame) {
  uint32_t cause = csr_read(scause);
  uint32_t epc = csr_read(sepc);
  if (cause == CAUSE_ECALL_U && frame->regs[REG_A7] == ECALL_MODE_RETURN) {
    s_return(frame->regs[REG_A0]);
  }
  s_rec.cause = cause;
  s_rec.epc = epc;
  s_rec.tval = csr_read(stval);
  s_rec.count++;
  if (cause == CAUSE_FETCH_PAGE_FAULT) {
    csr_write(sepc, frame->regs[REG_RA]);
  } else {
    csr_write(sepc, epc + 4);
  }
}

static uint32_t load(uint32_t va) {
  uint32_t value = 0xDEADBEEFu;
  __asm__ volatile("lw %0, 0(%1)" : "+r"(value) : "r"(va) : "memory");
  return value;
}

static void store(uint32_t va, uint32_t value) {
  __asm__ volatile("sw %1, 0(%0)" ::"r"(va), "r"(value) : "memory");
}

static void call(uint32_t va) {
  ((void (*)(void))va)();
}

static void sfence_all(void) {
  __asm__ volatile("sfence.vma" ::: "memory");
}

static void sfence_va(uint32_t va) {
  __asm__ volatile("sfence.vma %0, zero" ::"r"(va) : "memory");
}

static void expect_fault(uint32_t code, const char *what, uint32_t cause, uint32_t va) {
  check_eq(code, what, s_rec.cause, cause);
  check_eq(code + 1, "  stval is the faulting virtual address", s_rec.tval, va);
}

static uint32_t s_main(uint32_t satp) {
  con_puts("S-mode, translation on:\n");
  check_eq(10, "satp reads back in S", csr_read(satp), satp);

  reset_record();
  check_eq(11, "load through a 4 KiB page", load(VA(PG_DATA)), 0x11111111u);
  check_eq(12, "load through the kernel superpage sees the same word",
           pages[PG_DATA][0], 0x11111111u);
  check_eq(13, "hardware set A after the load", leaf[PG_DATA] & PTE_A, PTE_A);
  check_eq(14, "D still clear after a load", leaf[PG_DATA] & PTE_D, 0);
  store(VA(PG_DATA) + 4, 0x22222222u);
  check_eq(15, "store through a 4 KiB page reaches the physical page", pages[PG_DATA][1],
           0x22222222u);
  check_eq(16, "hardware set D after the store", leaf[PG_DATA] & PTE_D, PTE_D);
  check_eq(17, "no traps so far", s_rec.count, 0);

  reset_record();
  load(VA(PG_INVALID) + 0x10);
  expect_fault(18, "load from an invalid PTE: load page fault (13)", CAUSE_LOAD_PAGE_FAULT,
               VA(PG_INVALID) + 0x10);
  reset_record();
  store(VA(PG_INVALID) + 0x20, 1);
  expect_fault(20, "store to an invalid PTE: store page fault (15)", CAUSE_STORE_PAGE_FAULT,
               VA(PG_INVALID) + 0x20);
  reset_record();
  call(VA(PG_INVALID));
  expect_fault(22, "fetch from an invalid PTE: instruction page fault (12)",
               CAUSE_FETCH_PAGE_FAULT, VA(PG_INVALID));
  check_eq(24, "  sepc is the faulting fetch address", s_rec.epc, VA(PG_INVALID));

  reset_record();
  call(VA(PG_DATA));
  expect_fault(25, "fetch from a page without X: fault 12", CAUSE_FETCH_PAGE_FAULT,
               VA(PG_DATA));

  reset_record();
  check_eq(27, "load from a read-only page", load(VA(PG_RO)), 0x33333333u);
  store(VA(PG_RO) + 8, 1);
  expect_fault(28, "store to a read-only page: fault 15", CAUSE_STORE_PAGE_FAULT,
               VA(PG_RO) + 8);
  check_eq(30, "the read-only page is unchanged", pages[PG_RO][2], 0);

  reset_record();
  load(VA(PG_WONLY));
  expect_fault(31, "load from a W-without-R PTE (reserved): fault 13", CAUSE_LOAD_PAGE_FAULT,
               VA(PG_WONLY));
  reset_record();
  store(VA(PG_WONLY), 1);
  expect_fault(33, "store to a W-without-R PTE (reserved): fault 15",
               CAUSE_STORE_PAGE_FAULT, VA(PG_WONLY));

  reset_record();
  load(VA_BAD_SUPERPAGE);
  expect_fault(35, "load through a misaligned superpage: fault 13", CAUSE_LOAD_PAGE_FAULT,
               VA_BAD_SUPERPAGE);

  con_puts("SUM:\n");
  csr_clear(sstatus, MSTATUS_SUM);
  reset_record();
  load(VA(PG_USER));
  expect_fault(37, "S load from a U page with SUM = 0: fault 13", CAUSE_LOAD_PAGE_FAULT,
               VA(PG_USER));
  reset_record();
  store(VA(PG_USER), 1);
  expect_fault(39, "S store to a U page with SUM = 0: fault 15", CAUSE_STORE_PAGE_FAULT,
               VA(PG_USER));
  csr_set(sstatus, MSTATUS_SUM);
  reset_record();
  check_eq(41, "S load from a U page with SUM = 1", load(VA(PG_USER)), 0x44444444u);
  store(VA(PG_USER) + 4, 0x55555555u);
  check_eq(42, "S store to a U page with SUM = 1", pages[PG_USER][1], 0x55555555u);
  check_eq(43, "no traps with SUM = 1", s_rec.count, 0);
  call(VA(PG_UEXEC));
  expect_fault(44, "S fetch from a U page, even with SUM = 1: fault 12",
               CAUSE_FETCH_PAGE_FAULT, VA(PG_UEXEC));
  csr_clear(sstatus, MSTATUS_SUM);

  con_puts("MXR:\n");
  reset_record();
  call(VA(PG_XONLY));
  check_eq(46, "execute from an execute-only page", s_rec.count, 0);
  csr_clear(sstatus, MSTATUS_MXR);
  load(VA(PG_XONLY));
  expect_fault(47, "load from an execute-only page with MXR = 0: fault 13",
               CAUSE_LOAD_PAGE_FAULT, VA(PG_XONLY));
  csr_set(sstatus, MSTATUS_MXR);
  reset_record();
  check_eq(49, "load from an execute-only page with MXR = 1", load(VA(PG_XONLY)), INSN_RET);
  check_eq(50, "no trap with MXR = 1", s_rec.count, 0);
  csr_clear(sstatus, MSTATUS_MXR);

  con_puts("sfence.vma:\n");
  check_eq(51, "remapped page reads page A", load(VA(PG_REMAP)), REMAP_A);
  leaf[PG_REMAP] = leaf_pte(pa_of(PAGE_B), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  sfence_va(VA(PG_REMAP));
  check_eq(52, "after the PTE change and sfence.vma it reads page B", load(VA(PG_REMAP)),
           REMAP_B);
  leaf[PG_REMAP] = leaf_pte(pa_of(PG_REMAP), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  sfence_all();
  check_eq(53, "after changing it back and a full sfence.vma it reads page A",
           load(VA(PG_REMAP)), REMAP_A);
  leaf[PG_REMAP] = leaf_pte(pa_of(PAGE_B), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  uint32_t stale = load(VA(PG_REMAP));
  con_printf("  info without sfence.vma a changed PTE read page %s (either is allowed)\n",
             stale == REMAP_A ? "A, the stale translation" : stale == REMAP_B ? "B" : "?");
  leaf[PG_REMAP] = leaf_pte(pa_of(PG_REMAP), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  sfence_all();
  return 0x5A;
}

int main(void) {
  con_puts("sv32: translation, page faults, A/D, SUM, MXR, sfence.vma\n");

  pages[PG_DATA][0] = 0x11111111u;
  pages[PG_RO][0] = 0x33333333u;
  pages[PG_USER][0] = 0x44444444u;
  pages[PG_XONLY][0] = INSN_RET;
  pages[PG_UEXEC][0] = INSN_RET;
  pages[PG_REMAP][0] = REMAP_A;
  pages[PAGE_B][0] = REMAP_B;
  __asm__ volatile("fence.i" ::: "memory");

  /* Identity superpages: test device (VPN1 0), UART (VPN1 0x40), the program (0x200). */
  root[TEST_BASE >> 22] = leaf_pte(TEST_BASE & 0xFFC00000u, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  root[UART_BASE >> 22] = leaf_pte(UART_BASE, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  root[RAM_BASE >> 22] =
      leaf_pte(RAM_BASE, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
  root[VA_BASE >> 22] = table_pte(leaf);
  root[VA_BAD_SUPERPAGE >> 22] = leaf_pte(RAM_BASE + 0x1000u, PTE_V | PTE_R | PTE_A);

  leaf[PG_DATA] = leaf_pte(pa_of(PG_DATA), PTE_V | PTE_R | PTE_W);
  leaf[PG_USER] = leaf_pte(pa_of(PG_USER), PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D);
  leaf[PG_XONLY] = leaf_pte(pa_of(PG_XONLY), PTE_V | PTE_X | PTE_A);
  leaf[PG_RO] = leaf_pte(pa_of(PG_RO), PTE_V | PTE_R | PTE_A);
  leaf[PG_INVALID] = 0;
  leaf[PG_REMAP] = leaf_pte(pa_of(PG_REMAP), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  leaf[PG_UEXEC] = leaf_pte(pa_of(PG_UEXEC), PTE_V | PTE_R | PTE_X | PTE_U | PTE_A);
  leaf[PG_WONLY] = leaf_pte(pa_of(PG_WONLY), PTE_V | PTE_W | PTE_A | PTE_D);

  uint32_t satp = SATP_MODE_SV32 | ((uint32_t)root >> 12);
  csr_write(mtvec, m_trap_entry);
  trap_init_s();
  csr_write(medeleg, (1u << CAUSE_FETCH_PAGE_FAULT) | (1u << CAUSE_LOAD_PAGE_FAULT) |
                         (1u << CAUSE_STORE_PAGE_FAULT));
  csr_write(mideleg, 0);
  csr_write(satp, satp);
  sfence_all();
  con_puts("M-mode:\n");
  check_eq(1, "satp holds Sv32 mode and the root table", csr_read(satp), satp);

  uint32_t result = m_call_lower(PRV_S, s_main, satp);
  con_puts("M-mode again:\n");
  check_eq(2, "S-mode checks ran to the end", result, 0x5A);
  csr_write(satp, 0);
  sfence_all();
  con_puts("sv32: all checks passed\n");
  return 0;
}
