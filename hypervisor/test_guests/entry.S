# Entry of a test guest: a0 = start-info (virtual). Sets up a stack and a trap vector, then calls
# guest_main(start_info); if it returns, the domain shuts down with its result.
  .file "entry.S"
  .section .text.entry
  .globl _start
_start:
  la sp, stack_top
  la t0, trap_entry
  csrw stvec, t0
  call guest_main
  call guest_exit
1: j 1b

# Trap entry: saves the caller-saved registers, calls trap(frame), restores, sret.
  .align 2
  .globl trap_entry
trap_entry:
  addi sp, sp, -80
  sw ra, 0(sp)
  sw t0, 4(sp)
  sw t1, 8(sp)
  sw t2, 12(sp)
  sw a0, 16(sp)
  sw a1, 20(sp)
  sw a2, 24(sp)
  sw a3, 28(sp)
  sw a4, 32(sp)
  sw a5, 36(sp)
  sw a6, 40(sp)
  sw a7, 44(sp)
  sw t3, 48(sp)
  sw t4, 52(sp)
  sw t5, 56(sp)
  sw t6, 60(sp)
  mv a0, sp
  call trap
  lw ra, 0(sp)
  lw t0, 4(sp)
  lw t1, 8(sp)
  lw t2, 12(sp)
  lw a0, 16(sp)
  lw a1, 20(sp)
  lw a2, 24(sp)
  lw a3, 28(sp)
  lw a4, 32(sp)
  lw a5, 36(sp)
  lw a6, 40(sp)
  lw a7, 44(sp)
  lw t3, 48(sp)
  lw t4, 52(sp)
  lw t5, 56(sp)
  lw t6, 60(sp)
  addi sp, sp, 80
  sret

  .bss
  .align 4
  .space 16384
stack_top:

# U-mode side of the null-call test, alone on its own page (mapped with U for the test):
# user_count ecalls, then a last ecall with a7 = -1, after which the trap handler returns to the
# S-mode address saved in sscratch.
  .section .text.user, "ax"
  .align 12
  .globl user_loop
user_loop:
  la t0, user_count
  lw t1, 0(t0)
1:
  li a7, 0
  ecall
  addi t1, t1, -1
  bnez t1, 1b
  li a7, -1
  ecall
2: j 2b
  .align 2
  .globl user_count
user_count: .word 0
  .align 12

# The cheapest S-mode handler of an ecall from U: skip the instruction and return; a7 == -1 ends
# the test and returns to the S-mode address in sscratch (a6 is the only register it clobbers).
  .text
  .align 2
  .globl fast_trap
fast_trap:
  addi a7, a7, 1
  beqz a7, 1f
  addi a7, a7, -1
  csrr a6, sepc
  addi a6, a6, 4
  csrw sepc, a6
  sret
1:
  csrr a6, sscratch
  csrw sepc, a6
  li a6, 0x100
  csrs sstatus, a6
  sret
