/*
 * thread.h — cooperative kernel threads and the scheduler.
 *
 * Rules of use:
 *   - A thread runs until it yields, blocks, sleeps or exits; kernel code runs with interrupts
 *     off (sstatus.SIE = 0), so nothing else runs in between. Interrupts are taken only while a
 *     thread is in U-mode or while the idle thread waits (thread.c). An interrupt handler may
 *     only wake threads (thread_wake) and set need_resched.
 *   - A thread that belongs to a process (thread->proc) runs with that process's address space;
 *     the scheduler switches it. Kernel threads run in whatever space is current.
 *   - A user thread is preempted when it traps or takes an interrupt with need_resched set; the
 *     timer sets it when the current time slice (SLICE_NS) ends and others are runnable.
 *   - A thread's kernel stack is KSTACK_PAGES frames; struct trap_frame for U-mode entries sits
 *     at its top.
 */
#ifndef PVK_THREAD_H
#define PVK_THREAD_H
#include "types.h"

struct process;

struct context {
  uint32_t ra, sp, s[12];
};

enum thread_state { T_RUNNABLE, T_RUNNING, T_BLOCKED, T_SLEEPING, T_DEAD };

struct thread {
  struct context ctx; /* first: switch.S saves into it */
  uint32_t tid;
  char name[16];
  enum thread_state state;
  struct thread *next; /* run queue, sleep list or zombie list */
  uint64_t wake_at;    /* T_SLEEPING: system time to wake at */
  pfn_t stack_pfn;
  struct process *proc;
  struct thread *wq_next; /* the wait queue it waits on (waitq_wait) */
  bool wq_woken;
};

/* A wait queue: threads waiting for a condition someone else will signal (a device's event, a
 * xenstore reply). Waiters always re-check their condition after waking. */
struct waitq {
  struct thread *head;
};

#define KSTACK_PAGES 2u
#define MAX_THREADS 32u
#define SLICE_NS 10000000ull

extern struct thread *current;
extern volatile bool need_resched;

void thread_init(void);
/* Makes a runnable thread that calls fn(arg) and exits when fn returns; NULL if out of
 * memory or threads. */
struct thread *thread_create(const char *name, void (*fn)(void *), void *arg,
                             struct process *proc);
void thread_yield(void);
/* Blocks the current thread until thread_wake; the caller sets up who will wake it. */
void thread_block(void);
void thread_wake(struct thread *t);
void thread_sleep_until(uint64_t deadline_ns);
__attribute__((noreturn)) void thread_exit(void);
/* The kernel-stack top of a thread (its U-mode trap frame sits right below). */
uint32_t thread_stack_top(const struct thread *t);
/* Whether any thread other than the current one is runnable. */
bool thread_others_runnable(void);
/* Blocks the current thread on `wq` until waitq_wake_all or, if deadline_ns is not 0, until
 * that system time. Returns true if it was woken, false if the deadline passed. */
bool waitq_wait(struct waitq *wq, uint64_t deadline_ns);
/* Wakes every waiter of `wq` (allowed in interrupt handlers). */
void waitq_wake_all(struct waitq *wq);

#endif
