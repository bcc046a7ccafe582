/*
 * trap_default.c — weak default trap handlers.
 *
 * Rules of use: a program that defines m_trap_handler or s_trap_handler replaces these.
 * The defaults serve the mode-return ecall of mode.h and end the program with
 * EXIT_UNEXPECTED_M_TRAP / EXIT_UNEXPECTED_S_TRAP on any other trap, after printing the
 * cause, epc and tval.
 */
#include <stdint.h>

#include "console.h"
#include "csr.h"
#include "mode.h"
#include "test.h"
#include "trap.h"

__attribute__((weak)) void m_trap_handler(struct trap_frame *frame) {
  uint32_t cause = csr_read(mcause);
  if ((cause == CAUSE_ECALL_S || cause == CAUSE_ECALL_U) &&
      frame->regs[REG_A7] == ECALL_MODE_RETURN) {
    m_return(frame->regs[REG_A0]);
  }
  con_printf("unexpected M trap: mcause=0x%08x mepc=0x%08x mtval=0x%08x\n", cause,
             csr_read(mepc), csr_read(mtval));
  test_exit(EXIT_UNEXPECTED_M_TRAP);
}

__attribute__((weak)) void s_trap_handler(struct trap_frame *frame) {
  uint32_t cause = csr_read(scause);
  if (cause == CAUSE_ECALL_U && frame->regs[REG_A7] == ECALL_MODE_RETURN) {
    s_return(frame->regs[REG_A0]);
  }
  con_printf("unexpected S trap: scause=0x%08x sepc=0x%08x stval=0x%08x\n", cause,
             csr_read(sepc), csr_read(stval));
  test_exit(EXIT_UNEXPECTED_S_TRAP);
}
