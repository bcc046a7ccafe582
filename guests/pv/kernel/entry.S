/*
 * entry.S — the kernel's first instructions, for both ways of booting.
 *
 * Rules of use: _start is the ELF entry (virtual 0xC000_0000, physical = the load address).
 *   - Under the hypervisor we start at the virtual address with paging on, a0 = start-info,
 *     sp = 0 (public/README.md, "Image and entry").
 *   - On the board we start at the physical address with paging off, a0 = hart id, a1 = device
 *     tree (the SBI convention).
 * So the program counter tells the two apart: at or above KERNEL_BASE we are mapped. Natively,
 * native_early (boot_native.c, PC-relative code) builds the tables; we switch satp while an
 * identity superpage keeps this code mapped, then jump to the linked (virtual) address. Both
 * paths zero .bss (where `boot` lives) before using it, set the boot stack and enter
 * kmain(path, start_info) with interrupts off.
 */
  .file "entry.S"
  .section .text.entry, "ax", @progbits
  .globl _start
_start:
  csrw sie, zero
  csrci sstatus, 2            /* SIE off */
  auipc t0, 0
  li t1, 0xC0000000
  bgeu t0, t1, pv_entry

native_entry:
  mv s0, a0                   /* hart id */
  mv s1, a1                   /* device tree */
  lla t0, early_trap
  csrw stvec, t0
  lla sp, boot_stack_top      /* physical: everything here is PC-relative */
  call zero_bss
  mv a0, s0
  mv a1, s1
  lla a2, _start              /* the physical load address */
  call native_early
  beqz a0, early_fail
  sfence.vma
  csrw satp, a0
  sfence.vma
  lui t0, %hi(native_mapped)  /* absolute: the linked, virtual address */
  addi t0, t0, %lo(native_mapped)
  jr t0
native_mapped:
  lla sp, boot_stack_top      /* now virtual */
  li a0, 0                    /* BOOT_NATIVE */
  li a1, 0
  call kmain
  j early_fail

pv_entry:
  mv s0, a0                   /* start-info */
  lla t0, early_trap
  csrw stvec, t0
  lla sp, boot_stack_top
  call zero_bss
  li a0, 1                    /* BOOT_PV */
  mv a1, s0
  call kmain
  j early_fail

zero_bss:
  lla t0, __bss_start
  lla t1, __bss_end
1:bgeu t0, t1, 2f
  sw zero, 0(t0)
  addi t0, t0, 4
  j 1b
2:ret

  /* A trap before kmain installs the real handler, or a failed native boot: print '!' through
     the SBI legacy console and shut down through SRST with "system failure". Both the board's
     firmware and the hypervisor serve these. */
  .balign 4
early_trap:
  li a0, '!'
  li a7, 1
  ecall
early_fail:
  li a0, 0                    /* SRST type: shutdown */
  li a1, 1                    /* reason: system failure */
  li a6, 0
  li a7, 0x53525354
  ecall
3:wfi
  j 3b

  .section .bss.stack, "aw", @nobits
  .balign 16
boot_stack:
  .space 8192
  .globl boot_stack_top
boot_stack_top:
