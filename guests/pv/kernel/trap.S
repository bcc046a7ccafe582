/*
 * trap.S — the S-mode trap entry and exit (stvec, direct mode).
 *
 * Rules of use: see trap.h. On entry from U-mode sscratch holds the thread's kernel stack top
 * and we swap it with sp; from S-mode sscratch is 0 and sp is already a kernel stack. The frame
 * layout is struct trap_frame (x0..x31, sepc, sstatus, scause, stval). On the way out to U-mode
 * sscratch is set back to the top of this kernel stack (the frame sits right below it).
 */
  .file "trap.S"
  .section .text
  .balign 4
  .globl trap_entry
trap_entry:
  csrrw sp, sscratch, sp
  bnez sp, 1f
  csrrw sp, sscratch, sp      /* from S-mode: take sp back, sscratch is 0 again */
1:
  addi sp, sp, -144
  sw x1, 4(sp)
  sw x3, 12(sp)
  sw x4, 16(sp)
  sw x5, 20(sp)
  sw x6, 24(sp)
  sw x7, 28(sp)
  sw x8, 32(sp)
  sw x9, 36(sp)
  sw x10, 40(sp)
  sw x11, 44(sp)
  sw x12, 48(sp)
  sw x13, 52(sp)
  sw x14, 56(sp)
  sw x15, 60(sp)
  sw x16, 64(sp)
  sw x17, 68(sp)
  sw x18, 72(sp)
  sw x19, 76(sp)
  sw x20, 80(sp)
  sw x21, 84(sp)
  sw x22, 88(sp)
  sw x23, 92(sp)
  sw x24, 96(sp)
  sw x25, 100(sp)
  sw x26, 104(sp)
  sw x27, 108(sp)
  sw x28, 112(sp)
  sw x29, 116(sp)
  sw x30, 120(sp)
  sw x31, 124(sp)
  csrrw t0, sscratch, zero    /* the user sp (from U), or 0 (from S) */
  bnez t0, 2f
  addi t0, sp, 144            /* from S: sp before the frame */
2:
  sw t0, 8(sp)
  csrr t0, sepc
  sw t0, 128(sp)
  csrr t0, sstatus
  sw t0, 132(sp)
  csrr t0, scause
  sw t0, 136(sp)
  csrr t0, stval
  sw t0, 140(sp)
  mv a0, sp
  call trap_handler
  mv a0, sp
  /* fall through */

  .globl trap_return_to
trap_return_to:               /* a0 = the frame to return through */
  mv sp, a0
  lw t0, 132(sp)
  csrw sstatus, t0
  andi t0, t0, 0x100          /* SPP: back to S-mode? */
  bnez t0, 3f
  addi t1, sp, 144
  csrw sscratch, t1           /* back to U-mode: the next trap lands at this stack's top */
3:
  lw t0, 128(sp)
  csrw sepc, t0
  lw x1, 4(sp)
  lw x3, 12(sp)
  lw x4, 16(sp)
  lw x5, 20(sp)
  lw x6, 24(sp)
  lw x7, 28(sp)
  lw x8, 32(sp)
  lw x9, 36(sp)
  lw x10, 40(sp)
  lw x11, 44(sp)
  lw x12, 48(sp)
  lw x13, 52(sp)
  lw x14, 56(sp)
  lw x15, 60(sp)
  lw x16, 64(sp)
  lw x17, 68(sp)
  lw x18, 72(sp)
  lw x19, 76(sp)
  lw x20, 80(sp)
  lw x21, 84(sp)
  lw x22, 88(sp)
  lw x23, 92(sp)
  lw x24, 96(sp)
  lw x25, 100(sp)
  lw x26, 104(sp)
  lw x27, 108(sp)
  lw x28, 112(sp)
  lw x29, 116(sp)
  lw x30, 120(sp)
  lw x31, 124(sp)
  lw sp, 8(sp)
  sret
