/*
 * crt0.S — entry of every U-mode application: the kernel starts us at _start with a0 = the
 * command line and sp set; we call main(cmdline) and pass its return value to SYS_exit.
 *
 * Rules of use: .bss is zero already (the kernel maps fresh zeroed frames), so nothing to do
 * but call main.
 */
  .file "crt0.S"
  .section .text.entry, "ax", @progbits
  .globl _start
_start:
  call main
  li a7, 2                    /* SYS_exit */
  ecall
1:j 1b
