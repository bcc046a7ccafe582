/*
 * timer.c — the sleep list and timer programming of timer.h.
 *
 * Rules of use: see timer.h. The armed deadline is remembered so that the timer is only
 * reprogrammed (an SBI call or a hypercall) when it changes; after a timer interrupt it is
 * unknown (the native timer stays pending until reprogrammed), so it is always written then.
 */
#include "timer.h"

#include "csr.h"
#include "pvops.h"
#include "thread.h"

#define ARMED_UNKNOWN 0xFFFFFFFFFFFFFFFFull

static struct thread *sleepers; /* sorted by wake_at */
static uint64_t slice_end;      /* 0: no slice running */
static uint64_t armed = ARMED_UNKNOWN;

uint64_t now_ns(void) { return pv->system_time(); }

static void program(void) {
  uint64_t deadline = 0;
  if (sleepers) deadline = sleepers->wake_at;
  if (slice_end != 0 && (deadline == 0 || slice_end < deadline)) deadline = slice_end;
  if (deadline == armed) return;
  armed = deadline;
  pv->set_timer(deadline);
}

void timer_init(void) {
  armed = ARMED_UNKNOWN;
  program();
  if (!pv->paravirtualized) csr_set(sie, SIE_STIE);
}

void timer_add_sleeper(struct thread *t) {
  struct thread **link = &sleepers;
  while (*link && (*link)->wake_at <= t->wake_at) link = &(*link)->next;
  t->next = *link;
  *link = t;
  program();
}

void timer_cancel_sleep(struct thread *t) {
  for (struct thread **link = &sleepers; *link; link = &(*link)->next) {
    if (*link == t) {
      *link = t->next;
      t->next = NULL;
      break;
    }
  }
  program();
}

void timer_slice(bool others_runnable) {
  slice_end = others_runnable ? now_ns() + SLICE_NS : 0;
  program();
}

void timer_interrupt(void) {
  uint64_t now = now_ns();
  while (sleepers && sleepers->wake_at <= now) {
    struct thread *t = sleepers;
    sleepers = t->next;
    t->next = NULL;
    t->state = T_BLOCKED; /* so thread_wake takes it */
    thread_wake(t);
  }
  if (slice_end != 0 && slice_end <= now) {
    slice_end = 0;
    need_resched = true;
  }
  armed = ARMED_UNKNOWN;
  program();
}
