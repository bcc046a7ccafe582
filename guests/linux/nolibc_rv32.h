/*
 * Included before the kernel's tools/include/nolibc (6.1) when building for rv32.
 *
 * rv32 Linux has only the 64-bit-time system calls (no gettimeofday, lseek, poll, select, wait4
 * ...), but nolibc 6.1 refers to some of the old numbers unconditionally. We do not change nolibc;
 * instead each missing number is defined as -1, which the kernel answers with -ENOSYS, so the
 * headers compile and a call that has no rv32 equivalent fails cleanly. init.c uses none of them.
 */
#include <asm/unistd.h>

#define PARAVIRT_NR_MISSING (-1)
#ifndef __NR_gettimeofday
#define __NR_gettimeofday PARAVIRT_NR_MISSING
#endif
#ifndef __NR_lseek
#define __NR_lseek PARAVIRT_NR_MISSING
#endif
#if !defined(__NR_ppoll) && !defined(__NR_poll)
#define __NR_poll PARAVIRT_NR_MISSING
#endif
#if !defined(__NR__newselect) && !defined(__NR_select) && !defined(__NR_pselect6)
#define __NR_select PARAVIRT_NR_MISSING
#endif
#if !defined(__NR_wait4)
#define __NR_wait4 PARAVIRT_NR_MISSING
#endif
#if !defined(__NR_newfstatat) && !defined(__NR_stat)
#define __NR_stat PARAVIRT_NR_MISSING
#endif
#if !defined(__NR_time)
#define __NR_time PARAVIRT_NR_MISSING
#endif
