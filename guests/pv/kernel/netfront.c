/*
 * netfront.c — the network frontend of netfront.h.
 *
 * Rules of use: see netfront.h. Like blkfront, one kernel thread per interface follows the
 * backend's xenbus state; senders and receivers process the rings themselves when the event
 * channel wakes io_wq. Buffers: a tx buffer is free or in flight (until its response); an rx
 * buffer is idle (ours), posted (the backend may fill it), or filled (part of a received frame,
 * chained through rx_next until the frame is read).
 */
#include "netfront.h"

#include "console.h"
#include "events.h"
#include "frame.h"
#include "gnttab.h"
#include "paging.h"
#include "process.h"
#include "pvops.h"
#include "ring.h"
#include "string.h"
#include "timer.h"
#include "xenbus.h"

enum rx_state { RX_IDLE, RX_POSTED, RX_FILLED };

#define NO_BUF 0xFFFFu
#define MAX_FRAGS XEN_NETIF_NR_SLOTS_MIN

struct frame {
  uint16_t head;
  uint16_t nbufs;
  uint32_t len;
};

struct netfront {
  uint32_t devid;
  uint32_t backend_id;
  char dir[32];
  char backend[XS_PATH_MAX];
  uint8_t mac[6];
  uint32_t state;
  uint32_t backend_state;
  bool rings_up; /* our rings are published */
  bool failed;
  uint32_t generation;
  bool sg;
  pfn_t tx_ring_pfn, rx_ring_pfn;
  int tx_ring_gref, rx_ring_gref;
  int port;
  struct front_ring tx, rx;
  pfn_t tx_pfn[NET_TX_BUFS];
  int tx_gref[NET_TX_BUFS];
  bool tx_busy[NET_TX_BUFS];
  uint32_t tx_nfree;
  pfn_t rx_pfn[NET_RX_BUFS];
  int rx_gref[NET_RX_BUFS];
  uint8_t rx_state[NET_RX_BUFS];
  uint16_t rx_off[NET_RX_BUFS];
  uint16_t rx_len[NET_RX_BUFS];
  uint16_t rx_next[NET_RX_BUFS];
  struct frame frames[NET_RX_BUFS];
  uint32_t fhead, fcount;
  uint16_t cur_head, cur_tail, cur_nbufs;
  uint32_t cur_len;
  bool cur_bad;
  struct waitq state_wq, io_wq;
  struct xs_watch watch;
  uint32_t rx_frames, tx_frames, rx_dropped, tx_errors, bad_responses;
};

static struct netfront devs[NET_MAX_DEVS];
static uint32_t ndevs;
static bool probed;
static int probe_rc;

static void notify(struct netfront *d) {
  if (d->port >= 0) pv->evtchn_send((uint32_t)d->port);
}

static void switch_state(struct netfront *d, uint32_t state) {
  int rc = xenbus_switch_state(XS_TX_NONE, d->dir, state);
  if (rc != 0) printk("pvkernel: netfront %u: writing state %s failed: %d\n", d->devid,
                      xenbus_state_name(state), rc);
  d->state = state;
}

static bool connected(const struct netfront *d) {
  return d->rings_up && d->backend_state == XenbusStateConnected;
}

/* ---- receive ---- */

static void post_rx(struct netfront *d, uint16_t buf) {
  struct netif_rx_request r = {.id = buf, .pad = 0, .gref = (uint32_t)d->rx_gref[buf]};
  memcpy(front_ring_req_slot(&d->rx, d->rx.req_prod_pvt++), &r, sizeof(r));
  d->rx_state[buf] = RX_POSTED;
}

/* Gives a chain of filled buffers back to the backend (posted again if the rings are up). */
static void recycle(struct netfront *d, uint16_t head) {
  while (head != NO_BUF) {
    uint16_t next = d->rx_next[head];
    d->rx_next[head] = NO_BUF;
    d->rx_state[head] = RX_IDLE;
    if (d->rings_up) post_rx(d, head);
    head = next;
  }
}

static void frame_done(struct netfront *d) {
  bool keep = !d->cur_bad && d->cur_len > 0 && d->fcount < NET_RX_BUFS;
  if (keep) {
    struct frame *f = &d->frames[(d->fhead + d->fcount) % NET_RX_BUFS];
    f->head = d->cur_head;
    f->nbufs = d->cur_nbufs;
    f->len = d->cur_len;
    d->fcount++;
    d->rx_frames++;
  } else {
    d->rx_dropped++;
    recycle(d, d->cur_head);
  }
  d->cur_head = d->cur_tail = NO_BUF;
  d->cur_nbufs = 0;
  d->cur_len = 0;
  d->cur_bad = false;
}

static void poll_rx(struct netfront *d, bool *woke) {
  for (;;) {
    int64_t prod = front_ring_rsp_prod(&d->rx);
    if (prod < 0) {
      d->bad_responses++;
      return;
    }
    while (d->rx.rsp_cons != (uint32_t)prod) {
      struct netif_rx_response rsp;
      memcpy(&rsp, (const void *)front_ring_rsp_slot(&d->rx, d->rx.rsp_cons), sizeof(rsp));
      d->rx.rsp_cons++;
      if (rsp.id >= NET_RX_BUFS || d->rx_state[rsp.id] != RX_POSTED) {
        d->bad_responses++;
        continue;
      }
      uint16_t buf = rsp.id;
      d->rx_state[buf] = RX_FILLED;
      d->rx_next[buf] = NO_BUF;
      if (rsp.status < 0 || (uint32_t)rsp.offset + (uint32_t)rsp.status > PAGE_SIZE) {
        d->cur_bad = true;
        d->rx_off[buf] = 0;
        d->rx_len[buf] = 0;
      } else {
        d->rx_off[buf] = rsp.offset;
        d->rx_len[buf] = (uint16_t)rsp.status;
      }
      if (d->cur_head == NO_BUF) {
        d->cur_head = buf;
      } else {
        d->rx_next[d->cur_tail] = buf;
      }
      d->cur_tail = buf;
      d->cur_nbufs++;
      d->cur_len += d->rx_len[buf];
      if (d->cur_nbufs > MAX_FRAGS) d->cur_bad = true;
      if ((rsp.flags & NETRXF_more_data) == 0) {
        frame_done(d);
        *woke = true;
      }
    }
    if (!front_ring_final_check(&d->rx)) break;
  }
}

/* ---- transmit ---- */

static void poll_tx(struct netfront *d, bool *woke) {
  for (;;) {
    int64_t prod = front_ring_rsp_prod(&d->tx);
    if (prod < 0) {
      d->bad_responses++;
      return;
    }
    while (d->tx.rsp_cons != (uint32_t)prod) {
      struct netif_tx_response rsp;
      memcpy(&rsp, (const void *)front_ring_rsp_slot(&d->tx, d->tx.rsp_cons), sizeof(rsp));
      d->tx.rsp_cons++;
      if (rsp.status == NETIF_RSP_NULL) continue;
      if (rsp.id >= NET_TX_BUFS || !d->tx_busy[rsp.id]) {
        d->bad_responses++;
        continue;
      }
      d->tx_busy[rsp.id] = false;
      d->tx_nfree++;
      if (rsp.status != NETIF_RSP_OKAY) d->tx_errors++;
      *woke = true;
    }
    if (!front_ring_final_check(&d->tx)) break;
  }
}

static void poll(struct netfront *d) {
  if (!d->rings_up) return;
  bool woke = false;
  uint32_t posted = d->rx.req_prod_pvt;
  poll_tx(d, &woke);
  poll_rx(d, &woke);
  if (d->rx.req_prod_pvt != posted && front_ring_push_requests(&d->rx)) notify(d);
  if (woke) waitq_wake_all(&d->io_wq);
}

/* ---- the xenbus state machine ---- */

static void drop_ring(int *gref, pfn_t *pfn) {
  if (*gref >= 0) {
    /* A backend that died may still map it: then the page is left out of use for good. */
    if (gnttab_try_end((uint32_t)*gref) == 0) frame_free(*pfn);
    *gref = -1;
    *pfn = PFN_NONE;
  }
}

static void teardown(struct netfront *d, const char *why) {
  if (d->rings_up) printk("pvkernel: netfront %u: disconnected (%s)\n", d->devid, why);
  d->rings_up = false;
  if (d->port >= 0) {
    evtchn_close((uint32_t)d->port);
    d->port = -1;
  }
  drop_ring(&d->tx_ring_gref, &d->tx_ring_pfn);
  drop_ring(&d->rx_ring_gref, &d->rx_ring_pfn);
  /* Frames being sent are lost; posted buffers come back; a half-received frame is dropped. */
  for (uint32_t i = 0; i < NET_TX_BUFS; i++) {
    if (d->tx_busy[i]) {
      d->tx_busy[i] = false;
      d->tx_nfree++;
      d->tx_errors++;
    }
  }
  for (uint32_t i = 0; i < NET_RX_BUFS; i++) {
    if (d->rx_state[i] == RX_POSTED) d->rx_state[i] = RX_IDLE;
  }
  if (d->cur_head != NO_BUF) {
    d->cur_bad = true;
    frame_done(d);
  }
  waitq_wake_all(&d->io_wq);
}

static int new_ring(struct netfront *d, struct front_ring *r, uint32_t slot_size, pfn_t *pfn,
                    int *gref) {
  *pfn = frame_alloc_zeroed();
  if (*pfn == PFN_NONE) return ERR(ENOMEM);
  front_ring_init(r, pfn_to_va(*pfn), slot_size);
  *gref = gnttab_grant(d->backend_id, pv->pfn_to_mfn(*pfn), false);
  if (*gref < 0) {
    frame_free(*pfn);
    *pfn = PFN_NONE;
    return *gref;
  }
  return 0;
}

static int publish(struct netfront *d) {
  static const char *const flags[] = {"request-rx-copy", "feature-rx-notify", "feature-sg"};
  char path[64];
  int rc = 0;
  for (uint32_t attempt = 0; attempt < 10; attempt++) {
    uint32_t tx;
    rc = xs_transaction_start(&tx);
    if (rc != 0) return rc;
    format(path, sizeof(path), "%s/tx-ring-ref", d->dir);
    rc = xs_printf(tx, path, "%u", (uint32_t)d->tx_ring_gref);
    if (rc == 0) {
      format(path, sizeof(path), "%s/rx-ring-ref", d->dir);
      rc = xs_printf(tx, path, "%u", (uint32_t)d->rx_ring_gref);
    }
    if (rc == 0) {
      format(path, sizeof(path), "%s/event-channel", d->dir);
      rc = xs_printf(tx, path, "%u", (uint32_t)d->port);
    }
    for (uint32_t i = 0; rc == 0 && i < ARRAY_SIZE(flags); i++) {
      format(path, sizeof(path), "%s/%s", d->dir, flags[i]);
      rc = xs_write(tx, path, "1");
    }
    if (rc == 0) rc = xenbus_switch_state(tx, d->dir, XenbusStateConnected);
    int end = xs_transaction_end(tx, rc == 0);
    if (rc == 0) rc = end;
    if (rc != ERR(EAGAIN)) break;
  }
  return rc;
}

static void talk(struct netfront *d) {
  int rc = new_ring(d, &d->tx, NETIF_TX_SLOT_SIZE, &d->tx_ring_pfn, &d->tx_ring_gref);
  if (rc == 0) rc = new_ring(d, &d->rx, NETIF_RX_SLOT_SIZE, &d->rx_ring_pfn, &d->rx_ring_gref);
  if (rc == 0) {
    rc = evtchn_alloc_unbound(d->backend_id);
    if (rc >= 0) {
      d->port = rc;
      evtchn_set_waitq((uint32_t)rc, &d->io_wq);
      rc = 0;
    }
  }
  if (rc == 0) {
    d->rings_up = true;
    for (uint16_t i = 0; i < NET_RX_BUFS; i++) {
      if (d->rx_state[i] == RX_IDLE) post_rx(d, i);
    }
    front_ring_push_requests(&d->rx);
    rc = publish(d);
  }
  if (rc != 0) {
    printk("pvkernel: netfront %u: setting up the rings failed: %d\n", d->devid, rc);
    teardown(d, "handshake failed");
    d->failed = true;
    return;
  }
  d->state = XenbusStateConnected;
}

static void read_features(struct netfront *d) {
  char path[XS_PATH_MAX + 16];
  uint64_t sg = 0;
  format(path, sizeof(path), "%s/feature-sg", d->backend);
  if (xs_read_u64(XS_TX_NONE, path, &sg) != 0) sg = 0;
  d->sg = sg != 0;
}

static void step(struct netfront *d) {
  uint32_t be = xenbus_read_state(d->backend);
  uint32_t was = d->backend_state;
  d->backend_state = be;
  switch (be) {
    case XenbusStateInitWait:
      if (d->rings_up) {
        teardown(d, "the backend restarted");
        switch_state(d, XenbusStateClosed);
      }
      if (d->state == XenbusStateInitialising || d->state == XenbusStateClosed) {
        read_features(d);
        talk(d);
      }
      break;
    case XenbusStateConnected:
      if (was != XenbusStateConnected && d->rings_up) {
        read_features(d);
        d->generation++;
        printk("pvkernel: netfront %u: connected, mac %02x:%02x:%02x:%02x:%02x:%02x%s\n",
               d->devid, d->mac[0], d->mac[1], d->mac[2], d->mac[3], d->mac[4], d->mac[5],
               d->sg ? ", scatter-gather" : "");
        notify(d);
        waitq_wake_all(&d->io_wq);
      }
      break;
    case XenbusStateClosing:
    case XenbusStateClosed:
    case XenbusStateUnknown:
      if (d->rings_up) {
        teardown(d, be == XenbusStateUnknown ? "the backend is gone" : "the backend is closing");
        switch_state(d, XenbusStateClosed);
      }
      /* Both ends closed: ask to be set up again (the backend answers with InitWait). */
      if (be == XenbusStateClosed && d->state == XenbusStateClosed) {
        switch_state(d, XenbusStateInitialising);
      }
      break;
    default:
      break;
  }
}

static void netfront_thread(void *arg) {
  struct netfront *d = arg;
  char path[XS_PATH_MAX + 8];
  switch_state(d, XenbusStateInitialising);
  format(path, sizeof(path), "%s/state", d->backend);
  int rc = xs_watch_add(&d->watch, path, &d->state_wq);
  if (rc != 0) {
    printk("pvkernel: netfront %u: starting the handshake failed: %d\n", d->devid, rc);
    d->failed = true;
    waitq_wake_all(&d->io_wq);
    thread_exit();
  }
  uint32_t handled = 0;
  for (;;) {
    if (d->watch.fired != handled) {
      handled = d->watch.fired;
      step(d);
      if (d->failed) waitq_wake_all(&d->io_wq);
    }
    if (d->watch.fired == handled) waitq_wait(&d->state_wq, 0);
  }
}

/* ---- discovery ---- */

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool parse_mac(const char *text, uint8_t mac[6]) {
  for (uint32_t i = 0; i < 6; i++) {
    int hi = hex_digit(text[3 * i]);
    int lo = hex_digit(text[3 * i + 1]);
    char sep = text[3 * i + 2];
    if (hi < 0 || lo < 0 || sep != (i == 5 ? '\0' : ':')) return false;
    mac[i] = (uint8_t)(hi * 16 + lo);
  }
  return true;
}

static bool setup_buffers(struct netfront *d) {
  for (uint32_t i = 0; i < NET_TX_BUFS; i++) {
    d->tx_pfn[i] = frame_alloc_zeroed();
    if (d->tx_pfn[i] == PFN_NONE) return false;
    d->tx_gref[i] = gnttab_grant(d->backend_id, pv->pfn_to_mfn(d->tx_pfn[i]), true);
    if (d->tx_gref[i] < 0) return false;
  }
  d->tx_nfree = NET_TX_BUFS;
  for (uint32_t i = 0; i < NET_RX_BUFS; i++) {
    d->rx_pfn[i] = frame_alloc_zeroed();
    if (d->rx_pfn[i] == PFN_NONE) return false;
    d->rx_gref[i] = gnttab_grant(d->backend_id, pv->pfn_to_mfn(d->rx_pfn[i]), false);
    if (d->rx_gref[i] < 0) return false;
    d->rx_state[i] = RX_IDLE;
    d->rx_next[i] = NO_BUF;
  }
  return true;
}

static int probe(void) {
  if (probed) return probe_rc;
  probed = true;
  probe_rc = xenbus_init();
  if (probe_rc != 0) return probe_rc;
  char list[96];
  uint32_t count = 0;
  int rc = xs_directory(XS_TX_NONE, "device/vif", list, sizeof(list), &count);
  if (rc == ERR(ENOENT)) return 0;
  if (rc < 0) {
    printk("pvkernel: netfront: listing device/vif failed: %d\n", rc);
    probe_rc = rc;
    return rc;
  }
  const char *name = list;
  for (uint32_t i = 0; i < count && ndevs < NET_MAX_DEVS; i++, name += strlen(name) + 1) {
    struct netfront *d = &devs[ndevs];
    memset(d, 0, sizeof(*d));
    uint32_t devid = 0;
    bool ok = *name != '\0';
    for (const char *c = name; *c != '\0'; c++) {
      if (*c < '0' || *c > '9') ok = false;
      devid = devid * 10 + (uint32_t)(*c - '0');
    }
    if (!ok) continue;
    d->devid = devid;
    d->port = -1;
    d->tx_ring_gref = d->rx_ring_gref = -1;
    d->tx_ring_pfn = d->rx_ring_pfn = PFN_NONE;
    d->cur_head = d->cur_tail = NO_BUF;
    format(d->dir, sizeof(d->dir), "device/vif/%u", devid);
    char path[64];
    char mac[24];
    format(path, sizeof(path), "%s/backend", d->dir);
    rc = xs_read(XS_TX_NONE, path, d->backend, sizeof(d->backend));
    if (rc < 0 || rc >= (int)sizeof(d->backend)) {
      printk("pvkernel: netfront %u: no usable %s (%d)\n", devid, path, rc);
      continue;
    }
    uint64_t backend_id = 0;
    format(path, sizeof(path), "%s/backend-id", d->dir);
    rc = xs_read_u64(XS_TX_NONE, path, &backend_id);
    if (rc != 0 && rc != ERR(ENOENT)) continue;
    d->backend_id = (uint32_t)backend_id;
    format(path, sizeof(path), "%s/mac", d->dir);
    rc = xs_read(XS_TX_NONE, path, mac, sizeof(mac));
    if (rc < 0 || !parse_mac(mac, d->mac)) {
      printk("pvkernel: netfront %u: no usable %s (%d)\n", devid, path, rc);
      continue;
    }
    if (!setup_buffers(d)) {
      printk("pvkernel: netfront %u: no memory or grants for buffers\n", devid);
      continue;
    }
    if (thread_create("netfront", netfront_thread, d, NULL) == NULL) {
      printk("pvkernel: netfront %u: no thread\n", devid);
      continue;
    }
    ndevs++;
  }
  return 0;
}

struct netfront *netfront_get(uint32_t index, int *rc) {
  if (!pv->paravirtualized) {
    *rc = ERR(ENOSYS);
    return NULL;
  }
  *rc = probe();
  if (*rc != 0) return NULL;
  if (index >= ndevs) {
    *rc = ERR(ENODEV);
    return NULL;
  }
  struct netfront *d = &devs[index];
  uint64_t deadline = now_ns() + NET_CONNECT_TIMEOUT_NS;
  while (d->generation == 0) {
    if (d->failed) {
      *rc = ERR(EIO);
      return NULL;
    }
    if (!waitq_wait(&d->io_wq, deadline) && now_ns() >= deadline) {
      printk("pvkernel: netfront %u: did not connect (backend %s is %s)\n", d->devid, d->backend,
             xenbus_state_name(d->backend_state));
      *rc = ERR(ETIMEDOUT);
      return NULL;
    }
  }
  return d;
}

void netfront_info(struct netfront *d, struct pvk_net_info *out) {
  memset(out, 0, sizeof(*out));
  memcpy(out->mac, d->mac, sizeof(d->mac));
  out->devid = d->devid;
  out->features = d->sg ? 1u : 0u;
  out->rx_frames = d->rx_frames;
  out->tx_frames = d->tx_frames;
  out->rx_dropped = d->rx_dropped;
  out->tx_errors = d->tx_errors;
}

int netfront_send(struct netfront *d, struct process *p, uint32_t va, uint32_t len) {
  if (len < 14 || len > PVK_NET_FRAME_MAX) return ERR(EINVAL);
  if (!user_range_ok(p, va, len, false)) return ERR(EFAULT);
  uint32_t frags = (len + PAGE_SIZE - 1) / PAGE_SIZE;
  if (frags > MAX_FRAGS) return ERR(E2BIG);
  uint64_t deadline = now_ns() + NET_CONNECT_TIMEOUT_NS;
  for (;;) {
    poll(d);
    if (frags > 1 && connected(d) && !d->sg) return ERR(E2BIG);
    if (connected(d) && d->tx_nfree >= frags && front_ring_free(&d->tx) >= frags) break;
    if (!waitq_wait(&d->io_wq, connected(d) ? 0 : deadline) && now_ns() >= deadline) {
      return ERR(ENXIO);
    }
  }
  uint32_t buf = 0;
  for (uint32_t i = 0; i < frags; i++) {
    while (d->tx_busy[buf]) buf++;
    uint32_t off = i * PAGE_SIZE;
    uint32_t n = len - off < PAGE_SIZE ? len - off : PAGE_SIZE;
    memcpy(pfn_to_va(d->tx_pfn[buf]), (const void *)(uintptr_t)(va + off), n);
    struct netif_tx_request r = {
        .gref = (uint32_t)d->tx_gref[buf],
        .offset = 0,
        .flags = (uint16_t)(i + 1 < frags ? NETTXF_more_data : 0),
        .id = (uint16_t)buf,
        .size = (uint16_t)(i == 0 ? len : n),
    };
    memcpy(front_ring_req_slot(&d->tx, d->tx.req_prod_pvt++), &r, sizeof(r));
    d->tx_busy[buf] = true;
    d->tx_nfree--;
  }
  if (front_ring_push_requests(&d->tx)) notify(d);
  d->tx_frames++;
  return (int)len;
}

int netfront_recv(struct netfront *d, struct process *p, uint32_t va, uint32_t size,
                  uint32_t timeout_ms) {
  if (size > 0 && !user_range_ok(p, va, size, true)) return ERR(EFAULT);
  uint64_t deadline = timeout_ms == 0xFFFFFFFFu ? 0 : now_ns() + (uint64_t)timeout_ms * 1000000u;
  for (;;) {
    poll(d);
    if (d->fcount > 0) break;
    if (timeout_ms == 0) return ERR(ETIMEDOUT);
    if (!waitq_wait(&d->io_wq, deadline) && deadline != 0 && now_ns() >= deadline) {
      poll(d);
      if (d->fcount > 0) break;
      return ERR(ETIMEDOUT);
    }
  }
  struct frame f = d->frames[d->fhead];
  d->fhead = (d->fhead + 1) % NET_RX_BUFS;
  d->fcount--;
  uint32_t copied = 0;
  for (uint16_t buf = f.head; buf != NO_BUF && copied < size; buf = d->rx_next[buf]) {
    uint32_t n = d->rx_len[buf];
    if (n > size - copied) n = size - copied;
    memcpy((void *)(uintptr_t)(va + copied), (const uint8_t *)pfn_to_va(d->rx_pfn[buf]) + d->rx_off[buf],
           n);
    copied += n;
  }
  uint32_t posted = d->rx.req_prod_pvt;
  recycle(d, f.head);
  if (d->rings_up && d->rx.req_prod_pvt != posted && front_ring_push_requests(&d->rx)) notify(d);
  return (int)f.len;
}
