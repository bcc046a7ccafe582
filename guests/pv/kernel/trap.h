/*
 * trap.h — the trap frame and the S-mode trap handler.
 *
 * Rules of use: trap.S saves every register into a struct trap_frame on the current kernel
 * stack (for a trap from U-mode: at the top of the thread's kernel stack, found through
 * sscratch) and calls trap_handler. sscratch is 0 while the kernel runs and the kernel stack
 * top while U-mode runs. A trap from S-mode whose pc is listed in the fixup table (fixup.h)
 * resumes at the fixup address with a0 = scause instead of being fatal.
 */
#ifndef PVK_TRAP_H
#define PVK_TRAP_H
#include <stdint.h>

struct trap_frame {
  uint32_t regs[32]; /* x0 (unused) .. x31; regs[2] = sp at the trap */
  uint32_t sepc;
  uint32_t sstatus;
  uint32_t scause;
  uint32_t stval;
};
#define TRAP_FRAME_SIZE 144
_Static_assert(sizeof(struct trap_frame) == TRAP_FRAME_SIZE, "trap.S layout");

#define REG_RA 1
#define REG_SP 2
#define REG_A0 10
#define REG_A1 11
#define REG_A2 12
#define REG_A3 13
#define REG_A7 17

void trap_init(void);
void trap_handler(struct trap_frame *tf);
/* trap.S: restores `tf` and returns from the trap with sret (used to enter U-mode). */
__attribute__((noreturn)) void trap_return_to(struct trap_frame *tf);
/* A human-readable name of an exception cause. */
const char *trap_cause_name(uint32_t cause);

#endif
