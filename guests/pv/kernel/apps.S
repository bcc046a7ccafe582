/*
 * apps.S — the U-mode application images, embedded in the kernel with .incbin, and the
 * app_images table of apps.h ({name, start, end} triples, ended by a NULL name).
 *
 * Rules of use: the build (guests/build.ts) compiles the applications first and passes their
 * directory with -I, so `.incbin "hello.elf"` finds them; adding an application means a line
 * here and an entry in build.ts.
 */
  .file "apps.S"

  .macro APP name
  .section .rodata.apps, "a"
  .balign 8
app_\name\()_start:
  .incbin "\name\().elf"
app_\name\()_end:
  .section .rodata.app_names, "a"
app_\name\()_name:
  .asciz "\name"
  .endm

  APP hello
  APP primes
  APP pingpong
  APP memtest
  APP disktest
  APP nettest
  APP echo

  .section .rodata.app_table, "a"
  .balign 4
  .globl app_images
app_images:
  .word app_hello_name, app_hello_start, app_hello_end
  .word app_primes_name, app_primes_start, app_primes_end
  .word app_pingpong_name, app_pingpong_start, app_pingpong_end
  .word app_memtest_name, app_memtest_start, app_memtest_end
  .word app_disktest_name, app_disktest_start, app_disktest_end
  .word app_nettest_name, app_nettest_start, app_nettest_end
  .word app_echo_name, app_echo_start, app_echo_end
  .word 0, 0, 0
