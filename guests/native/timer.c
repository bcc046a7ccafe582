/*
 * timer.c — CLINT timer and software interrupts in M-mode, and a supervisor timer
 * interrupt delegated through mideleg the way an SBI firmware provides one.
 *
 * Rules of use: starts in M-mode from crt0, bare (no paging). Waits use wfi, so a machine
 * whose timer never fires hangs here rather than failing: run it with an instruction
 * budget. Every wait tests its condition with interrupts globally disabled (wait_for), as
 * an interrupt taken between the test and the wfi would otherwise leave the hart asleep.
 * Timing assumes nothing about mtime's frequency beyond "it advances"; INTERVAL is 100 µs
 * on QEMU's 10 MHz mtime. Each check has its own failure code.
 *
 * The S-mode part follows the SBI set_timer pattern: S asks M (ecall SVC_SET_TIMER) to arm
 * mtimecmp; M's timer interrupt hands the event to S by setting mip.STIP and masking MTIE;
 * S sees scause 0x8000_0005 and cancels (another ecall), which clears STIP.
 */
#include <stdint.h>

#include "common/board.h"
#include "common/console.h"
#include "common/csr.h"
#include "common/mode.h"
#include "common/test.h"
#include "common/trap.h"

#define TICKS 5u
#define S_TICKS 3u
#define INTERVAL 1000u

#define SVC_SET_TIMER 1u /* a0 = delay in mtime units from now, or TIMER_CANCEL */
#define TIMER_CANCEL 0xFFFFFFFFu

enum { PHASE_M, PHASE_S };

static volatile uint32_t phase;
static volatile uint32_t m_timer_count;
static volatile uint32_t m_soft_count;
static volatile uint32_t m_last_cause;
static volatile uint32_t s_timer_count;
static volatile uint32_t s_soft_count;
static volatile uint32_t s_last_cause;
static volatile uint32_t s_stip_after_cancel;
static uint64_t next_deadline;

static uint64_t mtime_read(void) {
  uint32_t hi, lo, hi2;
  do {
    hi = mmio_read32(CLINT_MTIME + 4);
    lo = mmio_read32(CLINT_MTIME);
    hi2 = mmio_read32(CLINT_MTIME + 4);
  } while (hi != hi2);
  return ((uint64_t)hi << 32) | lo;
}

/* Writes mtimecmp without passing through a smaller value on the way. */
static void mtimecmp_write(uint64_t value) {
  mmio_write32(CLINT_MTIMECMP + 4, 0xFFFFFFFFu);
  mmio_write32(CLINT_MTIMECMP, (uint32_t)value);
  mmio_write32(CLINT_MTIMECMP + 4, (uint32_t)(value >> 32));
}

/*
 * Sleeps in wfi until *counter reaches target. The global enable (mstatus.MIE or
 * sstatus.SIE, per `s_mode`) is off while the counter is tested and during wfi, which still
 * wakes on any interrupt pending in mie/sie, so an interrupt cannot slip in between the
 * test and the sleep; the short enabled window after wfi is where it is taken. Returns with
 * the enable on.
 */
static void wait_for(volatile uint32_t *counter, uint32_t target, int s_mode) {
  for (;;) {
    if (s_mode) {
      csr_clear(sstatus, MSTATUS_SIE);
    } else {
      csr_clear(mstatus, MSTATUS_MIE);
    }
    if (*counter >= target) {
      break;
    }
    __asm__ volatile("wfi");
    if (s_mode) {
      csr_set(sstatus, MSTATUS_SIE);
    } else {
      csr_set(mstatus, MSTATUS_MIE);
    }
  }
  if (s_mode) {
    csr_set(sstatus, MSTATUS_SIE);
  } else {
    csr_set(mstatus, MSTATUS_MIE);
  }
}

static void unexpected(const char *mode, uint32_t cause, uint32_t epc, uint32_t code) {
  con_printf("unexpected %s trap: cause=0x%08x epc=0x%08x\n", mode, cause, epc);
  test_exit(code);
}

void m_trap_handler(struct trap_frame *frame) {
  uint32_t cause = csr_read(mcause);
  uint32_t epc = csr_read(mepc);
  if (cause == (CAUSE_INTERRUPT | IRQ_M_TIMER)) {
    m_last_cause = cause;
    m_timer_count++;
    if (phase == PHASE_S) {
      csr_set(mip, MIP_STIP); /* hand the event to S */
      csr_clear(mie, MIP_MTIP);
      mtimecmp_write(UINT64_MAX);
    } else if (m_timer_count < TICKS) {
      next_deadline += INTERVAL;
      mtimecmp_write(next_deadline);
    } else {
      mtimecmp_write(UINT64_MAX);
      csr_clear(mie, MIP_MTIP);
    }
    return;
  }
  if (cause == (CAUSE_INTERRUPT | IRQ_M_SOFT)) {
    m_last_cause = cause;
    m_soft_count++;
    mmio_write32(CLINT_MSIP, 0);
    return;
  }
  if (cause == CAUSE_ECALL_S) {
    uint32_t a0 = frame->regs[REG_A0];
    switch (frame->regs[REG_A7]) {
      case ECALL_MODE_RETURN:
        m_return(a0);
      case SVC_SET_TIMER:
        csr_clear(mip, MIP_STIP);
        if (a0 == TIMER_CANCEL) {
          mtimecmp_write(UINT64_MAX);
          csr_clear(mie, MIP_MTIP);
        } else {
          mtimecmp_write(mtime_read() + a0);
          csr_set(mie, MIP_MTIP);
        }
        csr_write(mepc, epc + 4);
        return;
      default:
        break;
    }
  }
  unexpected("M", cause, epc, EXIT_UNEXPECTED_M_TRAP);
}

static void sbi_set_timer(uint32_t delay) {
  register uint32_t a0 __asm__("a0") = delay;
  register uint32_t a7 __asm__("a7") = SVC_SET_TIMER;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
}

void s_trap_handler(struct trap_frame *frame) {
  (void)frame;
  uint32_t cause = csr_read(scause);
  if (cause == (CAUSE_INTERRUPT | IRQ_S_TIMER)) {
    s_last_cause = cause;
    s_timer_count++;
    sbi_set_timer(TIMER_CANCEL);
    s_stip_after_cancel = csr_read(sip) & MIP_STIP;
    return;
  }
  if (cause == (CAUSE_INTERRUPT | IRQ_S_SOFT)) {
    s_last_cause = cause;
    s_soft_count++;
    csr_clear(sip, MIP_SSIP);
    return;
  }
  unexpected("S", cause, csr_read(sepc), EXIT_UNEXPECTED_S_TRAP);
}

static uint32_t s_main(uint32_t arg) {
  (void)arg;
  con_puts("S-mode:\n");
  csr_set(sie, MIP_STIP | MIP_SSIP);
  csr_set(sstatus, MSTATUS_SIE);
  for (uint32_t k = 1; k <= S_TICKS; k++) {
    sbi_set_timer(INTERVAL);
    wait_for(&s_timer_count, k, 1);
  }
  check_eq(20, "supervisor timer interrupts taken in S", s_timer_count, S_TICKS);
  check_eq(21, "scause is 0x80000005", s_last_cause, CAUSE_INTERRUPT | IRQ_S_TIMER);
  check_eq(22, "each came through an M timer interrupt", m_timer_count, S_TICKS);
  check_eq(23, "sip.STIP clear after the cancel ecall", s_stip_after_cancel, 0);

  csr_set(sip, MIP_SSIP);
  wait_for(&s_soft_count, 1, 1);
  check_eq(24, "supervisor software interrupt (sip.SSIP set by S)", s_soft_count, 1);
  check_eq(25, "scause is 0x80000001", s_last_cause, CAUSE_INTERRUPT | IRQ_S_SOFT);
  csr_clear(sstatus, MSTATUS_SIE);
  csr_clear(sie, MIP_STIP | MIP_SSIP);
  return 0x5A;
}

int main(void) {
  con_puts("timer: CLINT timer and software interrupts, delegated supervisor timer\n");
  csr_write(mtvec, m_trap_entry);
  trap_init_s();
  csr_write(mie, 0);
  csr_write(mideleg, 0);
  csr_write(medeleg, 0);

  con_puts("M-mode:\n");
  uint64_t t0 = mtime_read();
  for (volatile uint32_t i = 0; i < 20000; i++) {
  }
  uint64_t t1 = mtime_read();
  con_printf("  info mtime advanced by %llu during a 20000-iteration loop\n", t1 - t0);
  check(1, "mtime advances", t1 > t0);

  mtimecmp_write(UINT64_MAX);
  check_eq(2, "mip.MTIP clear with mtimecmp at its maximum", csr_read(mip) & MIP_MTIP, 0);

  phase = PHASE_M;
  uint64_t start = mtime_read();
  next_deadline = start + INTERVAL;
  mtimecmp_write(next_deadline);
  csr_set(mie, MIP_MTIP);
  csr_set(mstatus, MSTATUS_MIE);
  wait_for(&m_timer_count, TICKS, 0);
  uint64_t elapsed = mtime_read() - start;
  con_printf("  info %u ticks took %llu mtime units\n", m_timer_count, elapsed);
  check_eq(3, "machine timer interrupts counted", m_timer_count, TICKS);
  check_eq(4, "mcause is 0x80000007", m_last_cause, CAUSE_INTERRUPT | IRQ_M_TIMER);
  check(5, "the ticks took at least TICKS * INTERVAL", elapsed >= (uint64_t)TICKS * INTERVAL);
  check_eq(6, "handler masked mie.MTIE after the last tick", csr_read(mie) & MIP_MTIP, 0);

  csr_set(mie, MIP_MSIP);
  mmio_write32(CLINT_MSIP, 1);
  wait_for(&m_soft_count, 1, 0);
  check_eq(7, "machine software interrupt through CLINT msip", m_soft_count, 1);
  check_eq(8, "mcause is 0x80000003", m_last_cause, CAUSE_INTERRUPT | IRQ_M_SOFT);
  check_eq(9, "mip.MSIP clear after writing msip = 0", csr_read(mip) & MIP_MSIP, 0);
  csr_clear(mstatus, MSTATUS_MIE);
  csr_write(mie, 0);

  phase = PHASE_S;
  m_timer_count = 0;
  csr_write(mideleg, MIP_STIP | MIP_SSIP);
  check_eq(10, "mideleg keeps STIP and SSIP", csr_read(mideleg) & (MIP_STIP | MIP_SSIP),
           MIP_STIP | MIP_SSIP);
  uint32_t result = m_call_lower(PRV_S, s_main, 0);
  con_puts("M-mode again:\n");
  check_eq(11, "S-mode part ran to the end", result, 0x5A);
  check_eq(12, "mip.STIP clear at the end", csr_read(mip) & MIP_STIP, 0);
  con_puts("timer: all checks passed\n");
  return 0;
}
