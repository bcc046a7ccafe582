/*
 * trap.h — the trap frame and the C handlers called by trap.S.
 *
 * Rules of use: m_trap_entry (installed by crt0) and s_trap_entry save every register in a
 * struct trap_frame on their own stack (taken from mscratch / sscratch, which must hold the
 * top of that stack whenever a trap can arrive), call m_trap_handler / s_trap_handler, then
 * restore the registers, including any the handler changed, and mret / sret. The handler
 * reads and writes mepc/sepc itself (add 4 to skip the trapping instruction). A program may
 * define its own handlers; the weak defaults (trap_default.c) only serve mode returns
 * (mode.h) and report anything else as a failure. Traps do not nest inside a handler.
 */
#ifndef TRAP_H
#define TRAP_H

#include <stdint.h>

/* Indices into trap_frame.regs: the x register numbers. regs[0] is unused. */
enum {
  REG_RA = 1,
  REG_SP = 2,
  REG_GP = 3,
  REG_TP = 4,
  REG_A0 = 10,
  REG_A1 = 11,
  REG_A2 = 12,
  REG_A7 = 17,
};

/* The interrupted hart's registers, x0..x31 (x2 is the interrupted sp). */
struct trap_frame {
  uint32_t regs[32];
};

void m_trap_entry(void);
void s_trap_entry(void);

/* Called by m_trap_entry in M-mode with interrupts off. */
void m_trap_handler(struct trap_frame *frame);

/* Called by s_trap_entry in S-mode with sstatus.SIE off. */
void s_trap_handler(struct trap_frame *frame);

/* Tops of the two trap stacks (trap.S). */
extern char __m_trap_stack_top[];
extern char __s_trap_stack_top[];

/* Installs s_trap_entry in stvec and its stack in sscratch (callable from M or S). */
static inline void trap_init_s(void) {
  __asm__ volatile("csrw stvec, %0\n\tcsrw sscratch, %1" ::"r"(s_trap_entry),
                   "r"(__s_trap_stack_top)
                   : "memory");
}

#endif
