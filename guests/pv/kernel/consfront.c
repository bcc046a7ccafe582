/*
 * consfront.c — the console frontend of consfront.h.
 *
 * Rules of use: see consfront.h. consfront_write may be called from any context, interrupt
 * handlers and panic included, so it never sleeps: when the ring is full it notifies the backend
 * and yields the physical CPU (SCHEDOP_yield) until there is room or the stall limit passes.
 */
#include "consfront.h"

#include "args.h"
#include "boot.h"
#include "console.h"
#include "events.h"
#include "pvops.h"
#include "string.h"
#include "thread.h"
#include "timer.h"
#include "xenbus.h"

static volatile struct xencons_interface *ring;
static uint32_t port;
static bool active;
static struct waitq input_wq;

bool consfront_active(void) { return active; }

struct waitq *consfront_waitq(void) { return &input_wq; }

static void give_up(const char *why) {
  active = false;
  printk("pvkernel: console ring: %s; back to console_io\n", why);
}

bool consfront_write(const char *buf, size_t len) {
  if (!active) return false;
  uint64_t stalled_since = 0;
  while (len > 0) {
    uint32_t cons = ring->out_cons;
    uint32_t prod = ring->out_prod;
    __asm__ volatile("fence r, rw" ::: "memory");
    if ((uint32_t)(prod - cons) > XENCONS_OUT_SIZE) {
      give_up("the backend's consumer index is corrupt");
      return false;
    }
    uint32_t space = XENCONS_OUT_SIZE - (prod - cons);
    if (space == 0) {
      pv->evtchn_send(port);
      uint64_t now = now_ns();
      if (stalled_since == 0) stalled_since = now;
      if (now - stalled_since > CONSFRONT_STALL_NS) {
        give_up("nobody drains the ring");
        return false;
      }
      pv->yield_cpu();
      continue;
    }
    stalled_since = 0;
    uint32_t n = len < space ? (uint32_t)len : space;
    for (uint32_t i = 0; i < n; i++) ring->out[(prod + i) & (XENCONS_OUT_SIZE - 1)] = (uint8_t)buf[i];
    /* Publish point: the bytes before the producer index. */
    __asm__ volatile("fence w, w" ::: "memory");
    ring->out_prod = prod + n;
    buf += n;
    len -= n;
  }
  pv->evtchn_send(port);
  return true;
}

uint32_t consfront_read(char *buf, uint32_t len) {
  if (!active) return 0;
  uint32_t cons = ring->in_cons;
  uint32_t prod = ring->in_prod;
  __asm__ volatile("fence r, rw" ::: "memory");
  if ((uint32_t)(prod - cons) > XENCONS_IN_SIZE) {
    /* A corrupt producer: drop what is there rather than read past it. */
    ring->in_cons = prod;
    return 0;
  }
  uint32_t n = 0;
  while (n < len && cons != prod) {
    buf[n++] = (char)ring->in[cons & (XENCONS_IN_SIZE - 1)];
    cons++;
  }
  __asm__ volatile("fence rw, w" ::: "memory");
  ring->in_cons = cons;
  if (n > 0) pv->evtchn_send(port);
  return n;
}

/* console=auto: whether xenstore names a console backend that is Connected. */
static bool backend_present(void) {
  char backend[XS_PATH_MAX];
  if (xenbus_init() != 0) return false;
  int rc = xs_read(XS_TX_NONE, "console/backend", backend, sizeof(backend));
  if (rc <= 0 || rc >= (int)sizeof(backend)) return false;
  return xenbus_read_state(backend) == XenbusStateConnected;
}

bool consfront_init(const char *cmdline) {
  char mode[8];
  if (!arg_str(cmdline, "console", mode, sizeof(mode))) return false;
  bool ring_mode = strcmp(mode, "ring") == 0;
  bool auto_mode = strcmp(mode, "auto") == 0;
  if (!ring_mode && !auto_mode) {
    if (strcmp(mode, "io") != 0) printk("pvkernel: console=%s is not ring, auto or io\n", mode);
    return false;
  }
  if (!pv->paravirtualized) {
    printk("pvkernel: console=%s needs the hypervisor; natively the SBI console stays\n", mode);
    return false;
  }
  if (auto_mode && !backend_present()) {
    printk("pvkernel: console: no console backend connected in xenstore; console_io stays\n");
    return false;
  }
  if (boot.console_evtchn == 0 || boot.console_evtchn >= EVTCHN_TRACKED) {
    printk("pvkernel: console=ring: start-info names no usable console event channel\n");
    return false;
  }
  ring = pfn_to_va(boot.root_pfn + boot.nr_pt_frames);
  port = boot.console_evtchn;
  evtchn_set_waitq(port, &input_wq);
  int rc = evtchn_unmask(port);
  if (rc != 0) {
    printk("pvkernel: console=ring: unmasking port %u failed: %d\n", port, rc);
    return false;
  }
  printk("pvkernel: console: switching to the console ring (port %u)\n", port);
  active = true;
  printk("pvkernel: console: on the ring\n");
  return true;
}
