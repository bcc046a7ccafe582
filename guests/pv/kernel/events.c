/*
 * events.c — the event-channel layer of events.h, following the contract's upcall rules
 * (public/README.md, "Events and time"): the upcall is a level-sensitive supervisor external
 * interrupt, asserted while vCPU 0's evtchn_upcall_pending is 1 and its mask 0.
 *
 * Rules of use: see events.h. The handler clears evtchn_upcall_pending first (a byte store),
 * then exchanges evtchn_pending_sel with 0 and, for each word it names, handles the ports that
 * are pending and not masked, clearing their pending bits with atomic ANDs. RV32 has 32-bit
 * atomics only, so each 64-bit word is handled as two 32-bit halves; the hypervisor only
 * writes these words while this vCPU is not running, so the halves cannot tear.
 */
#include "events.h"

#include "boot.h"
#include "console.h"
#include "csr.h"
#include "hypercall.h"
#include "paging.h"
#include "thread.h"
#include "timer.h"

static volatile struct shared_info *shared;
static uint32_t counts[EVTCHN_TRACKED];
static struct thread *waiters[EVTCHN_TRACKED];
static evtchn_handler_t handlers[EVTCHN_TRACKED];
static struct waitq *waitqs[EVTCHN_TRACKED];
static uint8_t claimed[EVTCHN_TRACKED];
static uint32_t untracked;

const volatile struct vcpu_time_info *vcpu_time(void) {
  return shared == NULL ? NULL
                        : (const volatile struct vcpu_time_info *)(uintptr_t)shared->vcpu0_time;
}

volatile struct shared_info *shared_info_page(void) { return shared; }

uint32_t evtchn_untracked(void) { return untracked; }

static uint32_t swap32(volatile uint32_t *word, uint32_t value) {
  uint32_t old;
  __asm__ volatile("amoswap.w.aqrl %0, %2, %1" : "=r"(old), "+A"(*word) : "r"(value) : "memory");
  return old;
}

static void and32(volatile uint32_t *word, uint32_t mask) {
  __asm__ volatile("amoand.w.aqrl zero, %1, %0" : "+A"(*word) : "r"(mask) : "memory");
}

static void timer_virq(uint32_t port) {
  (void)port;
  timer_interrupt();
}

static void deliver(uint32_t port) {
  if (port >= EVTCHN_TRACKED) {
    untracked++;
    return;
  }
  counts[port]++;
  if (handlers[port] != NULL) handlers[port](port);
  if (waitqs[port] != NULL) waitq_wake_all(waitqs[port]);
  if (waiters[port] != NULL) {
    struct thread *t = waiters[port];
    waiters[port] = NULL;
    thread_wake(t);
  }
}

void events_upcall(void) {
  volatile uint8_t *upcall_pending = &shared->vcpu0_evtchn_upcall_pending;
  volatile uint32_t *sel = (volatile uint32_t *)(uintptr_t)&shared->vcpu0_evtchn_pending_sel;
  volatile uint32_t *pending = (volatile uint32_t *)(uintptr_t)shared->evtchn_pending;
  volatile uint32_t *mask = (volatile uint32_t *)(uintptr_t)shared->evtchn_mask;
  *upcall_pending = 0;
  __asm__ volatile("fence rw, rw" ::: "memory");
  /* sel is a 64-bit word: half h names pending words 32h .. 32h+31. */
  for (uint32_t h = 0; h < 2; h++) {
    uint32_t words = swap32(&sel[h], 0);
    while (words != 0) {
      uint32_t w = (uint32_t)__builtin_ctz(words) + 32 * h;
      words &= words - 1;
      /* Word w of the 64-bit bitmaps is 32-bit halves 2w (ports 64w..) and 2w+1. */
      for (uint32_t half = 0; half < 2; half++) {
        uint32_t i = 2 * w + half;
        uint32_t ready = pending[i] & ~mask[i];
        while (ready != 0) {
          uint32_t bit = (uint32_t)__builtin_ctz(ready);
          ready &= ready - 1;
          and32(&pending[i], ~(1u << bit));
          deliver(32 * i + bit);
        }
      }
    }
  }
}

int evtchn_unmask(uint32_t port) {
  struct evtchn_port_op op = {.port = port};
  return (int)hyp_event_channel_op(EVTCHNOP_unmask, &op);
}

int evtchn_bind_virq(uint32_t virq, evtchn_handler_t handler) {
  struct evtchn_bind_virq bind = {.virq = virq, .vcpu = 0, .port = 0};
  long rc = hyp_event_channel_op(EVTCHNOP_bind_virq, &bind);
  if (rc < 0) return (int)rc;
  if (bind.port >= EVTCHN_TRACKED) return ERR(ENOSPC);
  handlers[bind.port] = handler;
  rc = evtchn_unmask(bind.port);
  return rc < 0 ? (int)rc : (int)bind.port;
}

int evtchn_wait(uint32_t port) {
  if (port >= EVTCHN_TRACKED) return ERR(EINVAL);
  if (waiters[port] != NULL && waiters[port] != current) return ERR(EBUSY);
  if (!claimed[port]) {
    /* First use: the port was bound by the toolstack; make sure it is not masked. */
    int rc = evtchn_unmask(port);
    if (rc < 0) return rc;
    claimed[port] = 1;
  }
  while (counts[port] == 0) {
    waiters[port] = current;
    thread_block();
  }
  counts[port]--;
  return 1;
}

int evtchn_alloc_unbound(uint32_t remote_dom) {
  struct evtchn_alloc_unbound op = {.dom = DOMID_SELF, .remote_dom = (uint16_t)remote_dom, .port = 0};
  long rc = hyp_event_channel_op(EVTCHNOP_alloc_unbound, &op);
  if (rc < 0) return (int)rc;
  if (op.port >= EVTCHN_TRACKED) {
    struct evtchn_port_op close = {.port = op.port};
    hyp_event_channel_op(EVTCHNOP_close, &close);
    return ERR(ENOSPC);
  }
  counts[op.port] = 0;
  claimed[op.port] = 1;
  rc = evtchn_unmask(op.port);
  return rc < 0 ? (int)rc : (int)op.port;
}

int evtchn_set_waitq(uint32_t port, struct waitq *wq) {
  if (port >= EVTCHN_TRACKED) return ERR(EINVAL);
  waitqs[port] = wq;
  return 0;
}

int evtchn_close(uint32_t port) {
  if (port >= EVTCHN_TRACKED) return ERR(EINVAL);
  struct evtchn_port_op op = {.port = port};
  long rc = hyp_event_channel_op(EVTCHNOP_close, &op);
  waitqs[port] = NULL;
  handlers[port] = NULL;
  counts[port] = 0;
  claimed[port] = 0;
  return (int)rc;
}

void events_init(void) {
  int rc = fixmap_set(FIXMAP_SHARED_INFO, boot.shared_info_ma >> PAGE_SHIFT,
                      PTE_R | PTE_W | PTE_A | PTE_D | PTE_G | PTE_V);
  if (rc != 0) panic("mapping shared-info (machine address 0x%x) failed: rc=%d", boot.shared_info_ma, rc);
  shared = (volatile struct shared_info *)(uintptr_t)FIXMAP_SHARED_INFO;
  shared->vcpu0_evtchn_upcall_mask = 0;
  int port = evtchn_bind_virq(VIRQ_TIMER, timer_virq);
  if (port < 0) panic("binding VIRQ_TIMER failed: rc=%d", port);
  csr_set(sie, SIE_SEIE);
}
