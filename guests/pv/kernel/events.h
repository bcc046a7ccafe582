/*
 * events.h — event channels (PV only): the shared-info page, the 2-level upcall dispatch and
 * per-port handlers and counters.
 *
 * Rules of use: events_init maps the shared-info page at FIXMAP_SHARED_INFO, binds VIRQ_TIMER
 * to timer_interrupt and enables the supervisor external interrupt that carries upcalls. Every
 * event on a port below EVTCHN_TRACKED is counted, whether or not a handler is bound, so an
 * event that arrives before anyone waits for it is not lost; evtchn_wait consumes one.
 */
#ifndef PVK_EVENTS_H
#define PVK_EVENTS_H
#include "types.h"

/* Ports the kernel keeps counters and handlers for. */
#define EVTCHN_TRACKED 1024u

typedef void (*evtchn_handler_t)(uint32_t port);

void events_init(void);
/* The upcall: called from the trap handler on a supervisor external interrupt. */
void events_upcall(void);
/* vCPU 0's time record in shared-info, NULL before events_init. */
const volatile struct vcpu_time_info *vcpu_time(void);
/* The shared-info page, NULL before events_init. */
volatile struct shared_info *shared_info_page(void);

/* Binds a virtual IRQ to a new port with `handler`; returns the port or a negated errno. */
int evtchn_bind_virq(uint32_t virq, evtchn_handler_t handler);
int evtchn_unmask(uint32_t port);
/* Blocks the current thread until an event on `port` is counted, then consumes it. Returns 1,
 * or a negated errno (-EINVAL for a port we do not track). */
int evtchn_wait(uint32_t port);
/* Events seen on ports at or above EVTCHN_TRACKED (dropped). */
uint32_t evtchn_untracked(void);

struct waitq;
/* Allocates a port that domain `remote_dom` may bind (a frontend's channel to its backend),
 * unmasked; returns the port or a negated errno. */
int evtchn_alloc_unbound(uint32_t remote_dom);
/* Every event on `port` wakes `wq` (NULL: stop). The port must be below EVTCHN_TRACKED. */
int evtchn_set_waitq(uint32_t port, struct waitq *wq);
/* Closes a port this kernel allocated or bound, forgetting its waitq, handler and count. */
int evtchn_close(uint32_t port);

#endif
