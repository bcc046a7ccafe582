/*
 * pvk_syscall.h — the system-call ABI between the PV kernel and its U-mode applications.
 *
 * Rules of use: an application calls `ecall` from U-mode with a7 = SYS_*, arguments in a0-a3;
 * the result comes back in a0 (and a1 for 64-bit results): zero or a positive value on success,
 * a negated Xen errno (paravirt_abi.h) on failure. Pointers are user virtual addresses; the
 * kernel checks that every byte is mapped for the user before it touches it (-EFAULT if not).
 * An application starts at its ELF entry with a0 = the kernel command line (a NUL-terminated
 * copy on its stack) and sp 16-byte aligned below it.
 */
#ifndef PVK_SYSCALL_H
#define PVK_SYSCALL_H

/* Write a0 = buffer, a1 = length bytes to the console; returns the length. */
#define SYS_write 1
/* End the process with status a0 (0 = success); does not return. */
#define SYS_exit 2
/* Let other threads run (or, if none wants to, other domains); returns 0. */
#define SYS_yield 3
/* Sleep for a0 (low) / a1 (high) nanoseconds; returns 0. */
#define SYS_sleep 4
/* System time in ns since boot: a0 = low word, a1 = high word. */
#define SYS_time 5
/* The process id (1, 2, ... in start order). */
#define SYS_getpid 6
/* Map a1 fresh, writable pages at a0 (page aligned, inside the heap window); returns a1. */
#define SYS_mem_map 7
/* Unmap a1 pages at a0 mapped by SYS_mem_map and give their frames back; returns a1. */
#define SYS_mem_unmap 8
/* A frame count that SYS_mem_map / SYS_mem_unmap of n pages move by exactly n (PV: the domain's
 * current reservation; native: frames lent to applications). Another process mapping at the
 * same time moves it too. */
#define SYS_mem_held 9
/* Send an event on port a0 (PV only; -ENOSYS natively). */
#define SYS_evtchn_send 10
/* Block until an event arrives on port a0, then consume it; returns 1 (PV only). */
#define SYS_evtchn_wait 11
/* Whether the kernel runs under the hypervisor: 1 (PV) or 0 (native). */
#define SYS_pv_mode 12

/* User address space: everything below USER_TOP; the kernel's half starts at PV_VIRT_BASE. */
#define USER_TOP 0x80000000u
/* The window SYS_mem_map may map into. */
#define USER_HEAP_BASE 0x40000000u
#define USER_HEAP_END 0x70000000u
/* Most pages one SYS_mem_map or SYS_mem_unmap call handles. */
#define USER_MAP_MAX 256u

#endif
