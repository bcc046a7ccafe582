/*
 * crt0.S — M-mode entry of every native guest that exits through the test device.
 *
 * Rules of use: the image starts here at 0x8000_0000 in M-mode with no assumptions about
 * registers. It sets gp and sp (a 16 KiB stack in .bss), opens PMP entry 0 over the whole
 * address space so S and U can reach memory and devices (skipped if PMP CSRs trap),
 * installs m_trap_entry (trap.S) with its own stack in mscratch, zeroes .bss and calls
 * main(). main's return value becomes the exit: 0 is a pass, anything else a failure code.
 * A program that never returns from main (htif) does not care about the exit path.
 */
  .file "crt0.S"
  .section .text.init, "ax", @progbits
  .globl _start
_start:
  .option push
  .option norelax
  la gp, __global_pointer$
  .option pop
  la sp, __stack_top

  /* PMP entry 0: NAPOT over all addresses, R W X. If the CSRs are absent the write traps
     and mtvec brings us straight to 1: with PMP left alone. */
  la t0, 1f
  csrw mtvec, t0
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
1:
  la t0, m_trap_entry
  csrw mtvec, t0
  la t0, __m_trap_stack_top
  csrw mscratch, t0

  la t0, __bss_start
  la t1, __bss_end
2:
  bgeu t0, t1, 3f
  sw zero, 0(t0)
  addi t0, t0, 4
  j 2b
3:
  call main
  tail test_exit

  .section .bss.stack, "aw", @nobits
  .balign 16
  .space 16384
  .globl __stack_top
__stack_top:
