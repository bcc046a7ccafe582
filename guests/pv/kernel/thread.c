/*
 * thread.c — the cooperative scheduler of thread.h: a FIFO run queue, an idle thread, and
 * zombie reaping.
 *
 * Rules of use: see thread.h. The idle thread runs only when the run queue is empty; it asks
 * the pv-ops to block (wfi natively, SCHEDOP_block under the hypervisor) with SIE off, which
 * returns once an interrupt or event is pending, then opens SIE for an instant so the handler
 * runs, and looks at the queue again. A dead thread's stack is freed by the next thread that
 * comes out of switch_context (never by the thread itself, which is still on it).
 */
#include "thread.h"

#include "console.h"
#include "csr.h"
#include "frame.h"
#include "paging.h"
#include "process.h"
#include "pvops.h"
#include "string.h"
#include "timer.h"

extern void switch_context(struct context *from, struct context *to);
extern void thread_start(void);

struct thread *current;
volatile bool need_resched;

static struct thread threads[MAX_THREADS];
static struct thread *run_head, *run_tail;
static struct thread *zombies;
static struct thread *idle;
static uint32_t next_tid = 1;

static void runq_push(struct thread *t) {
  t->next = NULL;
  if (run_tail) {
    run_tail->next = t;
  } else {
    run_head = t;
  }
  run_tail = t;
}

static struct thread *runq_pop(void) {
  struct thread *t = run_head;
  if (t) {
    run_head = t->next;
    if (!run_head) run_tail = NULL;
    t->next = NULL;
  }
  return t;
}

bool thread_others_runnable(void) { return run_head != NULL; }

uint32_t thread_stack_top(const struct thread *t) {
  return (uint32_t)(uintptr_t)pfn_to_va(t->stack_pfn) + KSTACK_PAGES * PAGE_SIZE;
}

static void reap(void) {
  while (zombies) {
    struct thread *t = zombies;
    zombies = t->next;
    frame_free_run(t->stack_pfn, KSTACK_PAGES);
    t->tid = 0;
  }
}

/* Runs the next runnable thread (or idle); `current` must already be queued, blocked,
 * sleeping or dead. */
static void schedule(void) {
  struct thread *prev = current;
  struct thread *next = runq_pop();
  if (next == NULL) next = idle;
  timer_slice(thread_others_runnable());
  if (next == prev) {
    prev->state = T_RUNNING;
    return;
  }
  if (next->proc != NULL) as_switch(&next->proc->as);
  next->state = T_RUNNING;
  current = next;
  switch_context(&prev->ctx, &next->ctx);
  reap();
}

/* Called by thread_start (switch.S) on a new thread's first run. */
void thread_started(void) { reap(); }

void thread_yield(void) {
  need_resched = false;
  if (!thread_others_runnable()) return;
  current->state = T_RUNNABLE;
  if (current != idle) runq_push(current);
  schedule();
}

void thread_block(void) {
  current->state = T_BLOCKED;
  schedule();
}

void thread_wake(struct thread *t) {
  if (t->state != T_BLOCKED && t->state != T_SLEEPING) return;
  if (t->state == T_SLEEPING) timer_cancel_sleep(t);
  t->state = T_RUNNABLE;
  runq_push(t);
  need_resched = true;
}

void thread_sleep_until(uint64_t deadline_ns) {
  current->state = T_SLEEPING;
  current->wake_at = deadline_ns;
  timer_add_sleeper(current);
  schedule();
}

void thread_exit(void) {
  current->state = T_DEAD;
  current->next = zombies;
  zombies = current;
  schedule();
  panic("a dead thread was scheduled");
}

struct thread *thread_create(const char *name, void (*fn)(void *), void *arg,
                             struct process *proc) {
  struct thread *t = NULL;
  for (uint32_t i = 0; i < MAX_THREADS; i++) {
    if (threads[i].tid == 0) {
      t = &threads[i];
      break;
    }
  }
  if (t == NULL) return NULL;
  pfn_t stack = frame_alloc_run(KSTACK_PAGES);
  if (stack == PFN_NONE) return NULL;
  memset(t, 0, sizeof(*t));
  t->tid = next_tid++;
  strlcpy(t->name, name, sizeof(t->name));
  t->stack_pfn = stack;
  t->proc = proc;
  t->ctx.ra = (uint32_t)(uintptr_t)thread_start;
  /* Leave room for a trap frame at the top (the U-mode entry uses it). */
  t->ctx.sp = thread_stack_top(t) - 144;
  t->ctx.s[0] = (uint32_t)(uintptr_t)fn;
  t->ctx.s[1] = (uint32_t)(uintptr_t)arg;
  t->state = T_RUNNABLE;
  runq_push(t);
  return t;
}

bool waitq_wait(struct waitq *wq, uint64_t deadline_ns) {
  struct thread *self = current;
  self->wq_woken = false;
  self->wq_next = wq->head;
  wq->head = self;
  if (deadline_ns == 0) {
    thread_block();
  } else {
    thread_sleep_until(deadline_ns);
  }
  if (!self->wq_woken) {
    /* Timed out (or woken some other way): leave the queue. */
    for (struct thread **link = &wq->head; *link != NULL; link = &(*link)->wq_next) {
      if (*link == self) {
        *link = self->wq_next;
        break;
      }
    }
  }
  self->wq_next = NULL;
  return self->wq_woken;
}

void waitq_wake_all(struct waitq *wq) {
  struct thread *t = wq->head;
  wq->head = NULL;
  while (t != NULL) {
    struct thread *next = t->wq_next;
    t->wq_next = NULL;
    t->wq_woken = true;
    thread_wake(t);
    t = next;
  }
}

static void idle_loop(void *arg) {
  (void)arg;
  for (;;) {
    irq_disable();
    if (!thread_others_runnable()) pv->block();
    /* Let whatever is pending in (its handler may wake threads), then close again. */
    irq_enable();
    irq_disable();
    thread_yield();
  }
}

void thread_init(void) {
  /* The boot thread becomes thread "init"; its stack is the boot stack. */
  static struct thread boot_thread;
  boot_thread.tid = 0xFFFFFFFFu;
  strlcpy(boot_thread.name, "init", sizeof(boot_thread.name));
  boot_thread.state = T_RUNNING;
  current = &boot_thread;
  idle = thread_create("idle", idle_loop, NULL, NULL);
  if (idle == NULL) panic("no memory for the idle thread");
  /* The idle thread never waits in the run queue. */
  runq_pop();
}
