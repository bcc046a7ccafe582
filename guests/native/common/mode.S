/*
 * mode.S — m_call_lower / s_call_lower and their returns (see mode.h for the contract).
 *
 * Rules of use: see mode.h. The saved context is ra, sp and s0-s11 of the calling mode,
 * one slot per calling mode (m_ctx, s_ctx).
 */
  .file "mode.S"
#define ECALL_MODE_RETURN 0x4D4F4445

  .macro save_ctx ctx
  la t0, \ctx
  sw ra, 0(t0)
  sw sp, 4(t0)
  .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
  sw s\n, (8 + \n * 4)(t0)
  .endr
  .endm

  .macro load_ctx ctx
  la t0, \ctx
  lw ra, 0(t0)
  lw sp, 4(t0)
  .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
  lw s\n, (8 + \n * 4)(t0)
  .endr
  .endm

  .text
  /* uint32_t m_call_lower(uint32_t mpp, lower_fn fn, uint32_t arg) */
  .globl m_call_lower
m_call_lower:
  save_ctx m_ctx
  li t0, 0x1800              /* mstatus.MPP */
  csrc mstatus, t0
  andi a0, a0, 3
  slli a0, a0, 11
  csrs mstatus, a0
  la t0, lower_trampoline
  csrw mepc, t0
  mv a0, a2
  mret

  /* uint32_t s_call_lower(uint32_t spp, lower_fn fn, uint32_t arg) */
  .globl s_call_lower
s_call_lower:
  save_ctx s_ctx
  li t0, 0x100               /* sstatus.SPP */
  csrc sstatus, t0
  andi a0, a0, 1
  slli a0, a0, 8
  csrs sstatus, a0
  la t0, lower_trampoline
  csrw sepc, t0
  mv a0, a2
  sret

  /* Runs in the lower mode: a0 = arg, a1 = fn. */
lower_trampoline:
  jalr a1
  li a7, ECALL_MODE_RETURN
  ecall
1:
  j 1b

  /* void m_return(uint32_t value): a0 passes through as the result. */
  .globl m_return
m_return:
  load_ctx m_ctx
  ret

  /* void s_return(uint32_t value) */
  .globl s_return
s_return:
  load_ctx s_ctx
  ret

  .section .bss.mode_ctx, "aw", @nobits
  .balign 4
m_ctx:
  .space 56
s_ctx:
  .space 56
