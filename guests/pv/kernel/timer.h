/*
 * timer.h — system time, sleeping threads and the one-shot timer behind them.
 *
 * Rules of use: time is ns since boot (pv->system_time). One hardware/virtual timer is armed
 * for the earliest of: the first sleeper's deadline and the end of the current time slice.
 * timer_interrupt runs from the supervisor timer interrupt (native) or the VIRQ_TIMER event
 * (PV); it wakes due sleepers, ends the slice (need_resched) and re-arms.
 */
#ifndef PVK_TIMER_H
#define PVK_TIMER_H
#include "types.h"

struct thread;

void timer_init(void);
uint64_t now_ns(void);
void timer_add_sleeper(struct thread *t);
void timer_cancel_sleep(struct thread *t);
/* Starts a time slice if others are runnable, else stops slicing. */
void timer_slice(bool others_runnable);
void timer_interrupt(void);

#endif
