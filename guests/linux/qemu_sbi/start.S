/*
 * A tiny M-mode SBI firmware for QEMU's virt machine, so the Linux guest that runs on our board
 * under the TypeScript SBI can also boot on qemu-system-riscv32 (Debian ships no rv32 OpenSBI).
 * Entry from QEMU's reset vector: a0 = hart id, a1 = device tree, a2 = fw_dynamic_info.
 * It opens PMP, delegates what the kernel handles, and mrets to the kernel in S-mode; traps that
 * reach M-mode (SBI ecalls, the machine timer) are served by handle_trap() in sbi.c.
 */
	.section .text.start
	.globl _start
_start:
	la	sp, stack_top
	csrw	mscratch, sp
	la	t0, trap_entry
	csrw	mtvec, t0
	/* One PMP entry covering the whole address space, RWX, so S and U can reach everything. */
	li	t0, -1
	csrw	pmpaddr0, t0
	li	t0, 0x1f
	csrw	pmpcfg0, t0
	li	t0, 0xb1ff		/* exceptions 0-8, 12, 13, 15 go to the kernel */
	csrw	medeleg, t0
	li	t0, 0x222		/* SSI, STI, SEI */
	csrw	mideleg, t0
	li	t0, 7			/* S and U may read cycle, time, instret */
	csrw	mcounteren, t0
	csrw	mie, zero
	csrw	satp, zero
	li	t0, 0x1800		/* MPP = S */
	csrc	mstatus, t0
	li	t0, 0x0800
	csrs	mstatus, t0
	mv	s0, a0
	mv	s1, a1
	mv	a0, a2
	call	next_address
	csrw	mepc, a0
	mv	a0, s0
	mv	a1, s1
	mret

	.align 2
trap_entry:
	csrrw	sp, mscratch, sp
	addi	sp, sp, -128
	sw	x1, 4(sp)
	sw	x3, 12(sp)
	sw	x4, 16(sp)
	sw	x5, 20(sp)
	sw	x6, 24(sp)
	sw	x7, 28(sp)
	sw	x8, 32(sp)
	sw	x9, 36(sp)
	sw	x10, 40(sp)
	sw	x11, 44(sp)
	sw	x12, 48(sp)
	sw	x13, 52(sp)
	sw	x14, 56(sp)
	sw	x15, 60(sp)
	sw	x16, 64(sp)
	sw	x17, 68(sp)
	sw	x18, 72(sp)
	sw	x19, 76(sp)
	sw	x20, 80(sp)
	sw	x21, 84(sp)
	sw	x22, 88(sp)
	sw	x23, 92(sp)
	sw	x24, 96(sp)
	sw	x25, 100(sp)
	sw	x26, 104(sp)
	sw	x27, 108(sp)
	sw	x28, 112(sp)
	sw	x29, 116(sp)
	sw	x30, 120(sp)
	sw	x31, 124(sp)
	mv	a0, sp
	call	handle_trap
	lw	x1, 4(sp)
	lw	x3, 12(sp)
	lw	x4, 16(sp)
	lw	x5, 20(sp)
	lw	x6, 24(sp)
	lw	x7, 28(sp)
	lw	x8, 32(sp)
	lw	x9, 36(sp)
	lw	x10, 40(sp)
	lw	x11, 44(sp)
	lw	x12, 48(sp)
	lw	x13, 52(sp)
	lw	x14, 56(sp)
	lw	x15, 60(sp)
	lw	x16, 64(sp)
	lw	x17, 68(sp)
	lw	x18, 72(sp)
	lw	x19, 76(sp)
	lw	x20, 80(sp)
	lw	x21, 84(sp)
	lw	x22, 88(sp)
	lw	x23, 92(sp)
	lw	x24, 96(sp)
	lw	x25, 100(sp)
	lw	x26, 104(sp)
	lw	x27, 108(sp)
	lw	x28, 112(sp)
	lw	x29, 116(sp)
	lw	x30, 120(sp)
	lw	x31, 124(sp)
	addi	sp, sp, 128
	csrrw	sp, mscratch, sp
	mret

	.section .bss
	.align 4
	.space 4096
stack_top:
