/*
 * syscall.h — the system calls of pvk_syscall.h, dispatched from the trap handler.
 *
 * Rules of use: called with the U-mode trap frame after sepc has been advanced past the ecall;
 * the result goes into a0 (and a1 for SYS_time).
 */
#ifndef PVK_SYSCALL_DISPATCH_H
#define PVK_SYSCALL_DISPATCH_H
#include "trap.h"

void syscall_dispatch(struct trap_frame *tf);

#endif
