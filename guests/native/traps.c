/*
 * traps.c — exceptions, delegation and privilege changes across M, S and U (no paging).
 *
 * Rules of use: starts in M-mode from crt0 and runs bare (satp = 0), relying on crt0's PMP
 * entry that opens all memory to S and U. M delegates only ecall-from-U and breakpoints
 * (medeleg bits 8 and 3) to S; every other exception, including illegal instructions from
 * S and U, comes to M. Both handlers record each trap in a trap_record and skip the
 * trapping instruction (an instruction fetch fault returns to ra instead). Each check has
 * its own failure code (see the numbers passed to check/check_eq); the exit status names it.
 */
#include <stdint.h>

#include "common/board.h"
#include "common/console.h"
#include "common/csr.h"
#include "common/mode.h"
#include "common/test.h"
#include "common/trap.h"

/* Services of the M handler for ecalls from S or U (a7 = service, a0 = argument). */
#define SVC_PING 1u           /* returns a0 + 1 */
#define SVC_MSTATUS_SET 2u    /* sets the TSR/TW bits given in a0 */
#define SVC_MSTATUS_CLEAR 3u  /* clears the TSR/TW bits given in a0 */

/* What a handler saw at its last trap. `prev` is mstatus.MPP or sstatus.SPP at entry. */
struct trap_record {
  volatile uint32_t count;
  volatile uint32_t cause;
  volatile uint32_t epc;
  volatile uint32_t tval;
  volatile uint32_t prev;
};

static struct trap_record m_rec;
static struct trap_record s_rec;

/* A word for the AMO tests, 8-byte aligned so that +2 is misaligned for a word access. */
static volatile uint32_t scratch[2] __attribute__((aligned(8)));

static void reset_records(void) {
  m_rec.count = 0;
  m_rec.cause = 0xFFFFFFFFu;
  m_rec.epc = 0;
  m_rec.tval = 0xFFFFFFFFu;
  m_rec.prev = 0xFFFFFFFFu;
  s_rec.count = 0;
  s_rec.cause = 0xFFFFFFFFu;
  s_rec.epc = 0;
  s_rec.tval = 0xFFFFFFFFu;
  s_rec.prev = 0xFFFFFFFFu;
}

void m_trap_handler(struct trap_frame *frame) {
  uint32_t cause = csr_read(mcause);
  uint32_t epc = csr_read(mepc);
  uint32_t a7 = frame->regs[REG_A7];
  uint32_t a0 = frame->regs[REG_A0];
  int ecall = cause == CAUSE_ECALL_S || cause == CAUSE_ECALL_U;
  if (ecall && a7 == ECALL_MODE_RETURN) {
    m_return(a0);
  }
  m_rec.cause = cause;
  m_rec.epc = epc;
  m_rec.tval = csr_read(mtval);
  m_rec.prev = (csr_read(mstatus) & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
  m_rec.count++;
  if (ecall) {
    uint32_t bits = a0 & (MSTATUS_TSR | MSTATUS_TW);
    switch (a7) {
      case SVC_PING:
        frame->regs[REG_A0] = a0 + 1;
        break;
      case SVC_MSTATUS_SET:
        csr_set(mstatus, bits);
        break;
      case SVC_MSTATUS_CLEAR:
        csr_clear(mstatus, bits);
        break;
      default:
        break;
    }
  }
  if (cause == CAUSE_FETCH_ACCESS) {
    csr_write(mepc, frame->regs[REG_RA]); /* the fault came from a call: return from it */
  } else {
    csr_write(mepc, epc + 4);
  }
}

void s_trap_handler(struct trap_frame *frame) {
  uint32_t cause = csr_read(scause);
  uint32_t epc = csr_read(sepc);
  uint32_t a7 = frame->regs[REG_A7];
  if (cause == CAUSE_ECALL_U && a7 == ECALL_MODE_RETURN) {
    s_return(frame->regs[REG_A0]);
  }
  s_rec.cause = cause;
  s_rec.epc = epc;
  s_rec.tval = csr_read(stval);
  s_rec.prev = (csr_read(sstatus) & MSTATUS_SPP) ? PRV_S : PRV_U;
  s_rec.count++;
  if (cause == CAUSE_ECALL_U && a7 == SVC_PING) {
    frame->regs[REG_A0] += 1;
  }
  csr_write(sepc, epc + 4);
}

/* Runs one instruction given as assembler text and returns its address. */
#define RUN_AT(insn)                                                         \
  ({                                                                         \
    uint32_t pc_;                                                            \
    __asm__ volatile("la %0, 1f\n1:\t" insn : "=&r"(pc_)::"t0", "memory"); \
    pc_;                                                                     \
  })

static uint32_t ecall2(uint32_t service, uint32_t arg) {
  register uint32_t a0 __asm__("a0") = arg;
  register uint32_t a7 __asm__("a7") = service;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
  return a0;
}

static uint32_t word_at(uint32_t addr) {
  return *(volatile uint32_t *)addr;
}

/* mret from M to M with the given MIE/MPIE; returns mstatus as seen after the mret. */
static uint32_t mret_to_m(uint32_t set, uint32_t clear) {
  uint32_t after;
  csr_clear(mstatus, clear);
  csr_set(mstatus, set | MSTATUS_MPP);
  __asm__ volatile(
      "la t0, 1f\n\t"
      "csrw mepc, t0\n\t"
      "mret\n"
      "1:\tcsrr %0, mstatus"
      : "=r"(after)::"t0", "memory");
  return after;
}

/* sret from S to S with the given SIE/SPIE; returns sstatus as seen after the sret. */
static uint32_t sret_to_s(uint32_t set, uint32_t clear) {
  uint32_t after;
  csr_clear(sstatus, clear);
  csr_set(sstatus, set | MSTATUS_SPP);
  __asm__ volatile(
      "la t0, 1f\n\t"
      "csrw sepc, t0\n\t"
      "sret\n"
      "1:\tcsrr %0, sstatus"
      : "=r"(after)::"t0", "memory");
  return after;
}

static uint32_t u_main(uint32_t arg) {
  con_puts("U-mode:\n");

  reset_records();
  uint32_t r = ecall2(SVC_PING, 5);
  check_eq(60, "ecall from U is delegated to S: scause 8", s_rec.cause, CAUSE_ECALL_U);
  check_eq(61, "S handler answered the U ecall", r, 6);
  check_eq(62, "sstatus.SPP is U after a trap from U", s_rec.prev, PRV_U);
  check_eq(63, "a delegated trap does not reach M", m_rec.count, 0);

  reset_records();
  uint32_t pc = RUN_AT("ebreak");
  check_eq(64, "ebreak in U is delegated to S: scause 3", s_rec.cause, CAUSE_BREAKPOINT);
  check_eq(65, "sepc of the ebreak", s_rec.epc, pc);

  reset_records();
  pc = RUN_AT("csrr t0, mstatus");
  check_eq(66, "U reading mstatus: illegal instruction in M", m_rec.cause,
           CAUSE_ILLEGAL_INSTRUCTION);
  check_eq(67, "mstatus.MPP is U after a trap from U", m_rec.prev, PRV_U);
  check_eq(68, "mtval holds the csrr mstatus instruction", m_rec.tval, word_at(pc));
  check_eq(69, "illegal instructions are not delegated", s_rec.count, 0);

  reset_records();
  RUN_AT("csrr t0, sstatus");
  check_eq(70, "U reading sstatus: illegal instruction", m_rec.cause, CAUSE_ILLEGAL_INSTRUCTION);

  reset_records();
  RUN_AT("csrw satp, zero");
  check_eq(71, "U writing satp: illegal instruction", m_rec.cause, CAUSE_ILLEGAL_INSTRUCTION);

  reset_records();
  RUN_AT("rdcycle t0");
  check_eq(72, "U reading cycle with mcounteren = 0: illegal instruction", m_rec.cause,
           CAUSE_ILLEGAL_INSTRUCTION);

  reset_records();
  RUN_AT("mret");
  check_eq(73, "mret in U: illegal instruction", m_rec.cause, CAUSE_ILLEGAL_INSTRUCTION);
  return arg + 1;
}

static uint32_t s_main(uint32_t arg) {
  con_puts("S-mode:\n");
  check_eq(30, "argument passed through mret into S", arg, 0x100);

  reset_records();
  uint32_t sstatus = csr_read(sstatus);
  check_eq(31, "S reads sstatus without trapping", m_rec.count, 0);
  check_eq(32, "sstatus.SPP is clear after entry by mret", sstatus & MSTATUS_SPP, 0);

  reset_records();
  uint32_t pc = RUN_AT("csrr t0, mstatus");
  check_eq(33, "S reading mstatus: illegal instruction in M", m_rec.cause,
           CAUSE_ILLEGAL_INSTRUCTION);
  check_eq(34, "mstatus.MPP is S after a trap from S", m_rec.prev, PRV_S);
  check_eq(35, "mtval holds the csrr mstatus instruction", m_rec.tval, word_at(pc));
  check_eq(36, "mepc is the csrr instruction", m_rec.epc, pc);

  reset_records();
  uint32_t r = ecall2(SVC_PING, 41);
  check_eq(37, "ecall from S: mcause 9", m_rec.cause, CAUSE_ECALL_S);
  check_eq(38, "M handler answered the S ecall", r, 42);
  check_eq(39, "ecall from S is not seen by S", s_rec.count, 0);

  uint32_t after = sret_to_s(MSTATUS_SPIE, MSTATUS_SIE);
  check_eq(40, "sret: SIE = old SPIE (1)", after & MSTATUS_SIE, MSTATUS_SIE);
  check_eq(41, "sret: SPIE = 1", after & MSTATUS_SPIE, MSTATUS_SPIE);
  check_eq(42, "sret: SPP = U", after & MSTATUS_SPP, 0);
  after = sret_to_s(MSTATUS_SIE, MSTATUS_SPIE);
  check_eq(43, "sret: SIE = old SPIE (0)", after & MSTATUS_SIE, 0);
  check_eq(44, "sret: SPIE = 1 again", after & MSTATUS_SPIE, MSTATUS_SPIE);
  csr_clear(sstatus, MSTATUS_SIE);

  reset_records();
  pc = RUN_AT("mret");
  check_eq(45, "mret in S: illegal instruction", m_rec.cause, CAUSE_ILLEGAL_INSTRUCTION);
  check_eq(46, "mtval holds the mret instruction", m_rec.tval, 0x30200073);

  ecall2(SVC_MSTATUS_SET, MSTATUS_TSR);
  reset_records();
  pc = RUN_AT("sret");
  check_eq(47, "sret in S with mstatus.TSR: illegal instruction", m_rec.cause,
           CAUSE_ILLEGAL_INSTRUCTION);
  check_eq(48, "mtval holds the sret instruction", m_rec.tval, 0x10200073);
  check_eq(49, "mepc is the sret", m_rec.epc, pc);
  ecall2(SVC_MSTATUS_CLEAR, MSTATUS_TSR);

  ecall2(SVC_MSTATUS_SET, MSTATUS_TW);
  reset_records();
  pc = RUN_AT("wfi");
  check_eq(50, "wfi in S with mstatus.TW: illegal instruction", m_rec.cause,
           CAUSE_ILLEGAL_INSTRUCTION);
  check_eq(51, "mtval holds the wfi instruction", m_rec.tval, 0x10500073);
  ecall2(SVC_MSTATUS_CLEAR, MSTATUS_TW);

  reset_records();
  uint32_t u_result = s_call_lower(PRV_U, u_main, 0x77);
  con_puts("S-mode again:\n");
  check_eq(52, "sret into U and back through the mode-return ecall", u_result, 0x78);
  return 0x5A;
}

int main(void) {
  con_puts("traps: exceptions, delegation and privilege changes\n");
  csr_write(mtvec, m_trap_entry);
  trap_init_s();
  csr_write(medeleg, (1u << CAUSE_ECALL_U) | (1u << CAUSE_BREAKPOINT));
  csr_write(mideleg, 0);
  csr_write(mie, 0);
  csr_write(mcounteren, 0);
  csr_write(scounteren, 0);
  con_puts("M-mode:\n");
  check_eq(1, "medeleg keeps bits 3 and 8", csr_read(medeleg) & 0x108u, 0x108u);

  reset_records();
  uint32_t pc = RUN_AT(".word 0xc0001073");
  check_eq(2, "unimp (csrrw x0, cycle, x0): one trap", m_rec.count, 1);
  check_eq(3, "unimp: mcause 2", m_rec.cause, CAUSE_ILLEGAL_INSTRUCTION);
  check_eq(4, "unimp: mtval holds the instruction bits", m_rec.tval, 0xC0001073u);
  check_eq(5, "unimp: mepc is the instruction", m_rec.epc, pc);
  check_eq(6, "mstatus.MPP is M after a trap from M", m_rec.prev, PRV_M);

  reset_records();
  RUN_AT(".word 0x0000007b");
  check_eq(7, "custom-3 opcode: mcause 2", m_rec.cause, CAUSE_ILLEGAL_INSTRUCTION);
  check_eq(8, "custom-3 opcode: mtval holds the instruction bits", m_rec.tval, 0x0000007Bu);

  reset_records();
  pc = RUN_AT("ebreak");
  check_eq(9, "ebreak: mcause 3", m_rec.cause, CAUSE_BREAKPOINT);
  check_eq(10, "ebreak: mepc is the ebreak", m_rec.epc, pc);
  con_printf("  info ebreak mtval = 0x%08x (0 or the pc are both allowed)\n", m_rec.tval);

  uint32_t odd = (uint32_t)&scratch[0] + 2;
  reset_records();
  __asm__ volatile("amoadd.w t0, %1, (%0)" ::"r"(odd), "r"(1) : "t0", "memory");
  con_printf("  info misaligned amoadd.w: mcause %u\n", m_rec.cause);
  check(11, "misaligned amoadd.w: address-misaligned (6; QEMU 7.2 reports 4)",
        m_rec.cause == CAUSE_STORE_MISALIGNED || m_rec.cause == CAUSE_LOAD_MISALIGNED);
  check_eq(12, "misaligned amoadd.w: mtval is the address", m_rec.tval, odd);
  check_eq(13, "misaligned amoadd.w left memory alone", scratch[0] | scratch[1], 0);

  reset_records();
  __asm__ volatile("lr.w t0, (%0)" ::"r"(odd) : "t0", "memory");
  check_eq(14, "misaligned lr.w: mcause 4", m_rec.cause, CAUSE_LOAD_MISALIGNED);
  check_eq(15, "misaligned lr.w: mtval is the address", m_rec.tval, odd);

  reset_records();
  uint32_t value = 0x1234;
  __asm__ volatile("lw %0, 0(%1)" : "+r"(value) : "r"(UNMAPPED_ADDR) : "memory");
  check_eq(16, "load from unmapped physical address: mcause 5", m_rec.cause,
           CAUSE_LOAD_ACCESS);
  check_eq(17, "load access fault: mtval is the address", m_rec.tval, UNMAPPED_ADDR);
  check_eq(18, "load access fault: rd unchanged", value, 0x1234);

  reset_records();
  __asm__ volatile("sw %1, 4(%0)" ::"r"(UNMAPPED_ADDR), "r"(value) : "memory");
  check_eq(19, "store to unmapped physical address: mcause 7", m_rec.cause,
           CAUSE_STORE_ACCESS);
  check_eq(20, "store access fault: mtval is the address", m_rec.tval, UNMAPPED_ADDR + 4);

  reset_records();
  ((void (*)(void))UNMAPPED_ADDR)();
  check_eq(21, "fetch from unmapped physical address: mcause 1", m_rec.cause,
           CAUSE_FETCH_ACCESS);
  check_eq(22, "fetch access fault: mepc is the target", m_rec.epc, UNMAPPED_ADDR);
  check_eq(23, "fetch access fault: mtval is the target", m_rec.tval, UNMAPPED_ADDR);

  reset_records();
  scratch[0] = 0x44332211u;
  scratch[1] = 0x88776655u;
  __asm__ volatile("lw %0, 0(%1)" : "=r"(value) : "r"(odd) : "memory");
  if (m_rec.count == 0) {
    con_printf("  info misaligned lw: no trap, read 0x%08x\n", value);
  } else {
    con_printf("  info misaligned lw: trap, mcause %u\n", m_rec.cause);
  }
  scratch[0] = 0;
  scratch[1] = 0;

  uint32_t after = mret_to_m(MSTATUS_MPIE, MSTATUS_MIE);
  check_eq(24, "mret: MIE = old MPIE (1)", after & MSTATUS_MIE, MSTATUS_MIE);
  check_eq(25, "mret: MPIE = 1", after & MSTATUS_MPIE, MSTATUS_MPIE);
  check_eq(26, "mret: MPP = U (least privileged)", after & MSTATUS_MPP, 0);
  after = mret_to_m(MSTATUS_MIE, MSTATUS_MPIE);
  check_eq(27, "mret: MIE = old MPIE (0)", after & MSTATUS_MIE, 0);
  check_eq(28, "mret: MPIE = 1 again", after & MSTATUS_MPIE, MSTATUS_MPIE);
  csr_clear(mstatus, MSTATUS_MIE);

  uint32_t s_result = m_call_lower(PRV_S, s_main, 0x100);
  con_puts("M-mode again:\n");
  check_eq(29, "mret into S and back through the mode-return ecall", s_result, 0x5A);
  con_puts("traps: all checks passed\n");
  return 0;
}
