/*
 * process.h — user processes: an address space of their own (a fresh root sharing the kernel
 * half), an application image loaded into it, a user stack, and one thread that runs it in
 * U-mode.
 *
 * Rules of use: process_create loads everything and queues the thread; the process runs when
 * the scheduler picks it. It ends through SYS_exit or a fatal exception (process_fault); either
 * way process_exit frees its memory (heap frames back to the hypervisor or the allocator) and
 * reports the status to the job that started it.
 */
#ifndef PVK_PROCESS_H
#define PVK_PROCESS_H
#include "paging.h"
#include "thread.h"
#include "trap.h"

#define USER_STACK_PAGES 4u
#define PROC_MAX_OWNED 192u

struct job;

struct process {
  uint32_t pid;
  char name[16];
  struct thread *thread;
  struct job *job;
  uint32_t entry;
  uint32_t user_sp;
  uint32_t cmdline_va;
  pfn_t owned[PROC_MAX_OWNED]; /* image and stack frames */
  uint32_t n_owned;
  struct addr_space as;
};

/* Loads `image` and starts a process running it with `cmdline`; returns its pid or a negated
 * errno. */
int process_create(const char *name, const uint8_t *image, uint32_t size, const char *cmdline,
                   struct job *job);
__attribute__((noreturn)) void process_exit(struct process *p, int status);
/* A U-mode exception other than ecall: report it and kill the process. */
__attribute__((noreturn)) void process_fault(struct trap_frame *tf);
/* Whether [va, va+len) is mapped for the user (and writable if `write`). */
bool user_range_ok(const struct process *p, uint32_t va, uint32_t len, bool write);

#endif
