/*
 * trap.S — M-mode and S-mode trap entries: save all registers, call the C handler, restore.
 *
 * Rules of use: see trap.h. On entry `csrrw sp, xscratch, sp` swaps in the trap stack; the
 * interrupted sp is stored as regs[2] and xscratch is set back to the stack top before the
 * handler runs, so a handler that leaves through m_return/s_return (mode.S) leaves the
 * entry ready for the next trap. Entries are 4-byte aligned for direct-mode xtvec.
 */
  .file "trap.S"
#define FRAME_SIZE 128

  .macro save_regs
  addi sp, sp, -FRAME_SIZE
  sw x1, 4(sp)
  .irp n, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
  sw x\n, (\n * 4)(sp)
  .endr
  .endm

  .macro restore_regs
  lw x1, 4(sp)
  .irp n, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
  lw x\n, (\n * 4)(sp)
  .endr
  lw sp, 8(sp)
  .endm

  .text
  .balign 4
  .globl m_trap_entry
m_trap_entry:
  csrrw sp, mscratch, sp
  save_regs
  csrr t0, mscratch
  sw t0, 8(sp)
  addi t0, sp, FRAME_SIZE
  csrw mscratch, t0
  mv a0, sp
  call m_trap_handler
  restore_regs
  mret

  .balign 4
  .globl s_trap_entry
s_trap_entry:
  csrrw sp, sscratch, sp
  save_regs
  csrr t0, sscratch
  sw t0, 8(sp)
  addi t0, sp, FRAME_SIZE
  csrw sscratch, t0
  mv a0, sp
  call s_trap_handler
  restore_regs
  sret

  .section .bss.trap_stacks, "aw", @nobits
  .balign 16
  .space 8192
  .globl __m_trap_stack_top
__m_trap_stack_top:
  .space 8192
  .globl __s_trap_stack_top
__s_trap_stack_top:
