/*
 * blkfront.c — the block frontend of blkfront.h.
 *
 * Rules of use: see blkfront.h. Each device has one kernel thread ("blkfront") that follows the
 * backend's xenbus state (it waits on state_wq, which the backend-state watch wakes) and never
 * touches I/O; submitters and reapers process responses themselves (poll) when the ring's
 * event channel wakes io_wq. Kernel code is not preempted, so the shadow slots need no lock.
 * A shadow slot's life: FREE -> QUEUED (granted, not on a ring: before the first connect or
 * after a disconnect) -> INFLIGHT (on the ring) -> DONE (answered, grants revoked) -> FREE
 * (reaped). Raw slots (the hostile job) go FREE -> RAW -> RAW_DONE -> FREE.
 */
#include "blkfront.h"

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

enum shadow_state { SH_FREE, SH_QUEUED, SH_INFLIGHT, SH_DONE, SH_RAW, SH_RAW_DONE };

/* Status of a raw request the backend never answered because it disconnected us. */
#define STATUS_DISCONNECTED 0x7FFF
#define MAX_ZOMBIES 4u
#define SECTORS_PER_PAGE (PAGE_SIZE / BLKIF_SECTOR_SIZE)

struct shadow {
  uint8_t state;
  uint8_t op; /* BLKIF_OP_READ/WRITE/WRITE_BARRIER/FLUSH_DISKCACHE/DISCARD */
  uint16_t nsegs;
  bool abandoned; /* a raw request whose waiter gave up */
  uint32_t tag;
  uint32_t seq;
  struct process *owner;
  uint64_t sector;
  uint64_t nr_sectors;
  int32_t status;
  pfn_t indirect_pfn;
  int32_t indirect_gref;
  struct blkif_request_segment seg[BLK_MAX_SEGS];
  mfn_t mfn[BLK_MAX_SEGS];
};

struct zombie {
  pfn_t pfn;
  uint32_t gref;
};

struct blkfront {
  uint32_t devid;
  uint32_t backend_id;
  char dir[32];
  char backend[XS_PATH_MAX];
  uint32_t state;         /* ours */
  uint32_t backend_state; /* theirs, as last read */
  bool connected;
  bool failed;
  uint32_t generation;
  pfn_t ring_pfn;
  int ring_gref;
  int port;
  struct front_ring ring;
  uint64_t sectors;
  uint32_t sector_size, info, max_indirect;
  bool flush, barrier, discard;
  struct shadow shadow[BLK_QUEUE];
  uint32_t seq;
  struct waitq state_wq, io_wq;
  struct xs_watch watch;
  struct zombie zombies[MAX_ZOMBIES];
  uint32_t nzombies;
  uint32_t reconnects, bad_responses, leaked_rings;
};

static struct blkfront devs[BLK_MAX_DEVS];
static uint32_t ndevs;
static bool probed;
static int probe_rc;

/* ---- helpers ---- */

static void notify(struct blkfront *d) {
  if (d->port >= 0) pv->evtchn_send((uint32_t)d->port);
}

static int read_backend_u64(struct blkfront *d, const char *key, uint64_t fallback,
                            uint64_t *out) {
  char path[XS_PATH_MAX + 40];
  format(path, sizeof(path), "%s/%s", d->backend, key);
  int rc = xs_read_u64(XS_TX_NONE, path, out);
  if (rc == ERR(ENOENT)) {
    *out = fallback;
    return 0;
  }
  return rc;
}

static void switch_state(struct blkfront *d, uint32_t state) {
  int rc = xenbus_switch_state(XS_TX_NONE, d->dir, state);
  if (rc != 0) printk("pvkernel: blkfront %u: writing state %s failed: %d\n", d->devid,
                      xenbus_state_name(state), rc);
  d->state = state;
}

static void end_grants(struct shadow *s) {
  for (uint32_t i = 0; i < s->nsegs; i++) gnttab_end(s->seg[i].gref);
  if (s->indirect_gref >= 0) {
    gnttab_end((uint32_t)s->indirect_gref);
    s->indirect_gref = -1;
  }
}

static bool is_indirect(const struct shadow *s) { return s->nsegs > BLKIF_MAX_SEGMENTS_PER_REQUEST; }

/* Writes shadow `id`'s request into the next ring slot (not yet published). */
static void put_on_ring(struct blkfront *d, uint32_t id) {
  struct shadow *s = &d->shadow[id];
  void *slot = front_ring_req_slot(&d->ring, d->ring.req_prod_pvt++);
  if (s->op == BLKIF_OP_DISCARD) {
    struct blkif_request_discard r;
    memset(&r, 0, sizeof(r));
    r.operation = BLKIF_OP_DISCARD;
    r.handle = (uint16_t)d->devid;
    r.id = id;
    r.sector_number = s->sector;
    r.nr_sectors = s->nr_sectors;
    memcpy(slot, &r, sizeof(r));
  } else if (is_indirect(s)) {
    struct blkif_request_indirect r;
    memset(&r, 0, sizeof(r));
    r.operation = BLKIF_OP_INDIRECT;
    r.indirect_op = s->op;
    r.nr_segments = s->nsegs;
    r.id = id;
    r.sector_number = s->sector;
    r.handle = (uint16_t)d->devid;
    r.indirect_grefs[0] = (uint32_t)s->indirect_gref;
    memcpy(slot, &r, sizeof(r));
  } else {
    struct blkif_request r;
    memset(&r, 0, sizeof(r));
    r.operation = s->op;
    r.nr_segments = (uint8_t)s->nsegs;
    r.handle = (uint16_t)d->devid;
    r.id = id;
    r.sector_number = s->sector;
    for (uint32_t i = 0; i < s->nsegs; i++) r.seg[i] = s->seg[i];
    memcpy(slot, &r, sizeof(r));
  }
  s->state = SH_INFLIGHT;
}

static void push(struct blkfront *d) {
  if (front_ring_push_requests(&d->ring)) notify(d);
}

/* ---- responses ---- */

static void teardown(struct blkfront *d, const char *why);

static void complete(struct blkfront *d, const struct blkif_response *rsp) {
  uint64_t id = rsp->id;
  struct shadow *s = id < BLK_QUEUE ? &d->shadow[id] : NULL;
  if (s != NULL && s->state == SH_RAW) {
    s->status = rsp->status;
    s->state = s->abandoned ? SH_FREE : SH_RAW_DONE;
    return;
  }
  if (s == NULL || s->state != SH_INFLIGHT) {
    d->bad_responses++;
    return;
  }
  uint8_t expected = is_indirect(s) ? BLKIF_OP_INDIRECT : s->op;
  if (rsp->operation != expected) d->bad_responses++;
  end_grants(s);
  if (rsp->status == BLKIF_RSP_OKAY) {
    s->status = 0;
  } else if (rsp->status == BLKIF_RSP_EOPNOTSUPP) {
    s->status = ERR(EOPNOTSUPP);
  } else {
    s->status = ERR(EIO);
  }
  s->state = SH_DONE;
}

/* Consumes every response the backend published; wakes io_wq if any. */
static void poll(struct blkfront *d) {
  if (!d->connected) return;
  bool any = false;
  for (;;) {
    int64_t prod = front_ring_rsp_prod(&d->ring);
    if (prod < 0) {
      teardown(d, "the backend published responses to requests we never made");
      switch_state(d, XenbusStateClosed);
      waitq_wake_all(&d->io_wq);
      return;
    }
    while (d->ring.rsp_cons != (uint32_t)prod) {
      struct blkif_response rsp;
      memcpy(&rsp, (const void *)front_ring_rsp_slot(&d->ring, d->ring.rsp_cons),
             sizeof(rsp));
      d->ring.rsp_cons++;
      complete(d, &rsp);
      any = true;
    }
    if (!front_ring_final_check(&d->ring)) break;
  }
  if (any) waitq_wake_all(&d->io_wq);
}

/* ---- the xenbus state machine ---- */

static void reclaim_zombies(struct blkfront *d) {
  uint32_t kept = 0;
  for (uint32_t i = 0; i < d->nzombies; i++) {
    if (gnttab_try_end(d->zombies[i].gref) == 0) {
      frame_free(d->zombies[i].pfn);
    } else {
      d->zombies[kept++] = d->zombies[i];
    }
  }
  d->nzombies = kept;
}

static void teardown(struct blkfront *d, const char *why) {
  if (d->connected || d->state == XenbusStateConnected) {
    printk("pvkernel: blkfront %u: disconnected (%s)\n", d->devid, why);
  }
  d->connected = false;
  if (d->port >= 0) {
    evtchn_close((uint32_t)d->port);
    d->port = -1;
  }
  if (d->ring_gref >= 0) {
    if (gnttab_try_end((uint32_t)d->ring_gref) == 0) {
      frame_free(d->ring_pfn);
    } else if (d->nzombies < MAX_ZOMBIES) {
      /* A backend that died still maps it: keep the page out of use until it is revoked. */
      d->zombies[d->nzombies].pfn = d->ring_pfn;
      d->zombies[d->nzombies].gref = (uint32_t)d->ring_gref;
      d->nzombies++;
    } else {
      d->leaked_rings++;
    }
    d->ring_gref = -1;
    d->ring_pfn = PFN_NONE;
  }
  for (uint32_t i = 0; i < BLK_QUEUE; i++) {
    struct shadow *s = &d->shadow[i];
    if (s->state == SH_INFLIGHT) {
      s->state = SH_QUEUED; /* resubmitted on the next ring */
    } else if (s->state == SH_RAW) {
      s->status = STATUS_DISCONNECTED;
      s->state = s->abandoned ? SH_FREE : SH_RAW_DONE;
    }
  }
  waitq_wake_all(&d->io_wq);
}

/* Backend is InitWait: make a ring and publish it (frontend -> Initialised). */
static void talk(struct blkfront *d) {
  reclaim_zombies(d);
  pfn_t pfn = frame_alloc_zeroed();
  if (pfn == PFN_NONE) {
    printk("pvkernel: blkfront %u: no memory for a ring\n", d->devid);
    d->failed = true;
    return;
  }
  front_ring_init(&d->ring, pfn_to_va(pfn), BLKIF_RING_SLOT_SIZE);
  int gref = gnttab_grant(d->backend_id, pv->pfn_to_mfn(pfn), false);
  if (gref < 0) {
    frame_free(pfn);
    printk("pvkernel: blkfront %u: granting the ring failed: %d\n", d->devid, gref);
    d->failed = true;
    return;
  }
  d->ring_pfn = pfn;
  d->ring_gref = gref;
  int port = evtchn_alloc_unbound(d->backend_id);
  if (port < 0) {
    printk("pvkernel: blkfront %u: allocating an event channel failed: %d\n", d->devid, port);
    teardown(d, "no event channel");
    d->failed = true;
    return;
  }
  d->port = port;
  evtchn_set_waitq((uint32_t)port, &d->io_wq);
  char path[64];
  int rc = 0;
  for (uint32_t attempt = 0; attempt < 10; attempt++) {
    uint32_t tx;
    rc = xs_transaction_start(&tx);
    if (rc != 0) break;
    format(path, sizeof(path), "%s/ring-ref", d->dir);
    rc = xs_printf(tx, path, "%u", (uint32_t)gref);
    if (rc == 0) {
      format(path, sizeof(path), "%s/event-channel", d->dir);
      rc = xs_printf(tx, path, "%u", (uint32_t)port);
    }
    if (rc == 0) {
      format(path, sizeof(path), "%s/protocol", d->dir);
      rc = xs_write(tx, path, XEN_IO_PROTO_ABI_NATIVE);
    }
    if (rc == 0) rc = xenbus_switch_state(tx, d->dir, XenbusStateInitialised);
    int end = xs_transaction_end(tx, rc == 0);
    if (rc == 0) rc = end;
    if (rc != ERR(EAGAIN)) break;
  }
  if (rc != 0) {
    printk("pvkernel: blkfront %u: publishing the ring failed: %d\n", d->devid, rc);
    teardown(d, "handshake failed");
    d->failed = true;
    return;
  }
  d->state = XenbusStateInitialised;
}

/* Backend is Connected: read the disk's description and go (frontend -> Connected). */
static void connect(struct blkfront *d) {
  uint64_t sectors, sector_size, info, flush, barrier, discard, indirect;
  char path[XS_PATH_MAX + 16];
  format(path, sizeof(path), "%s/sectors", d->backend);
  int rc = xs_read_u64(XS_TX_NONE, path, &sectors);
  if (rc == 0) rc = read_backend_u64(d, "sector-size", BLKIF_SECTOR_SIZE, &sector_size);
  if (rc == 0) rc = read_backend_u64(d, "info", 0, &info);
  if (rc == 0) rc = read_backend_u64(d, "feature-flush-cache", 0, &flush);
  if (rc == 0) rc = read_backend_u64(d, "feature-barrier", 0, &barrier);
  if (rc == 0) rc = read_backend_u64(d, "feature-discard", 0, &discard);
  if (rc == 0) rc = read_backend_u64(d, "feature-max-indirect-segments", 0, &indirect);
  if (rc != 0 || sector_size == 0 || sector_size % BLKIF_SECTOR_SIZE != 0) {
    printk("pvkernel: blkfront %u: the backend's description is unusable (rc=%d)\n", d->devid,
           rc);
    teardown(d, "bad backend keys");
    switch_state(d, XenbusStateClosed);
    return;
  }
  /* `sectors` counts sector-size units; we address 512-byte sectors. */
  d->sectors = sectors * (sector_size / BLKIF_SECTOR_SIZE);
  d->sector_size = (uint32_t)sector_size;
  d->info = (uint32_t)info;
  d->flush = flush != 0;
  d->barrier = barrier != 0;
  d->discard = discard != 0;
  d->max_indirect = indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST
                        ? (indirect > BLK_MAX_SEGS ? BLK_MAX_SEGS : (uint32_t)indirect)
                        : 0;
  switch_state(d, XenbusStateConnected);
  d->connected = true;
  d->generation++;
  uint32_t queued = 0;
  for (uint32_t i = 0; i < BLK_QUEUE; i++) {
    if (d->shadow[i].state == SH_QUEUED) queued++;
  }
  if (d->generation == 1) {
    printk("pvkernel: blkfront %u: connected: %llu sectors, sector-size %u, %s%s%s%s%s\n",
           d->devid, d->sectors, d->sector_size, d->info & VDISK_READONLY ? "read-only" : "rw",
           d->flush ? " flush" : "", d->barrier ? " barrier" : "", d->discard ? " discard" : "",
           d->max_indirect ? " indirect" : "");
  } else {
    d->reconnects++;
    printk("pvkernel: blkfront %u: reconnected (connection %u), resubmitting %u request(s)\n",
           d->devid, d->generation, queued);
  }
  /* Resubmit in submission order; requests the new backend cannot take fail. */
  for (uint32_t done = 0; done < queued; done++) {
    uint32_t pick = BLK_QUEUE;
    for (uint32_t i = 0; i < BLK_QUEUE; i++) {
      struct shadow *s = &d->shadow[i];
      if (s->state != SH_QUEUED) continue;
      if (pick == BLK_QUEUE || (int32_t)(s->seq - d->shadow[pick].seq) < 0) pick = i;
    }
    struct shadow *s = &d->shadow[pick];
    if (is_indirect(s) && s->nsegs > d->max_indirect) {
      end_grants(s);
      s->status = ERR(EIO);
      s->state = SH_DONE;
      continue;
    }
    put_on_ring(d, pick);
  }
  push(d);
  notify(d);
  waitq_wake_all(&d->io_wq);
}

static void step(struct blkfront *d) {
  uint32_t be = xenbus_read_state(d->backend);
  d->backend_state = be;
  switch (be) {
    case XenbusStateInitWait:
      if (d->state == XenbusStateInitialised || d->state == XenbusStateConnected) {
        /* The backend started over without closing first: so do we. */
        teardown(d, "the backend restarted");
        switch_state(d, XenbusStateClosed);
      }
      if (d->state == XenbusStateInitialising || d->state == XenbusStateClosed) talk(d);
      break;
    case XenbusStateConnected:
      if (d->state == XenbusStateInitialised) connect(d);
      break;
    case XenbusStateClosing:
    case XenbusStateClosed:
    case XenbusStateUnknown:
      if (d->state == XenbusStateInitialised || d->state == XenbusStateConnected) {
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

static void blkfront_thread(void *arg) {
  struct blkfront *d = arg;
  char path[XS_PATH_MAX + 8];
  format(path, sizeof(path), "%s/state", d->backend);
  switch_state(d, XenbusStateInitialising);
  int rc = xs_watch_add(&d->watch, path, &d->state_wq);
  if (rc != 0) {
    printk("pvkernel: blkfront %u: watching %s failed: %d\n", d->devid, path, rc);
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

static int probe(void) {
  if (probed) return probe_rc;
  probed = true;
  probe_rc = xenbus_init();
  if (probe_rc != 0) return probe_rc;
  char list[128];
  uint32_t count = 0;
  int rc = xs_directory(XS_TX_NONE, "device/vbd", list, sizeof(list), &count);
  if (rc == ERR(ENOENT)) return 0;
  if (rc < 0) {
    printk("pvkernel: blkfront: listing device/vbd failed: %d\n", rc);
    probe_rc = rc;
    return rc;
  }
  const char *name = list;
  for (uint32_t i = 0; i < count && ndevs < BLK_MAX_DEVS; i++, name += strlen(name) + 1) {
    struct blkfront *d = &devs[ndevs];
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
    d->ring_gref = -1;
    d->ring_pfn = PFN_NONE;
    d->state = XenbusStateUnknown;
    for (uint32_t s = 0; s < BLK_QUEUE; s++) {
      d->shadow[s].indirect_pfn = PFN_NONE;
      d->shadow[s].indirect_gref = -1;
    }
    format(d->dir, sizeof(d->dir), "device/vbd/%u", devid);
    char path[64];
    format(path, sizeof(path), "%s/backend", d->dir);
    rc = xs_read(XS_TX_NONE, path, d->backend, sizeof(d->backend));
    if (rc < 0 || rc >= (int)sizeof(d->backend)) {
      printk("pvkernel: blkfront %u: no usable %s (%d)\n", devid, path, rc);
      continue;
    }
    uint64_t backend_id = 0;
    format(path, sizeof(path), "%s/backend-id", d->dir);
    rc = xs_read_u64(XS_TX_NONE, path, &backend_id);
    if (rc != 0 && rc != ERR(ENOENT)) continue;
    d->backend_id = (uint32_t)backend_id;
    if (thread_create("blkfront", blkfront_thread, d, NULL) == NULL) {
      printk("pvkernel: blkfront %u: no thread\n", devid);
      continue;
    }
    ndevs++;
  }
  return 0;
}

int blkfront_wait_connected(struct blkfront *d, uint64_t deadline) {
  while (!d->connected) {
    if (d->failed) return ERR(EIO);
    if (!waitq_wait(&d->io_wq, deadline) && now_ns() >= deadline) return ERR(ETIMEDOUT);
  }
  return 0;
}

struct blkfront *blkfront_get(uint32_t index, int *rc) {
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
  struct blkfront *d = &devs[index];
  if (d->generation == 0) {
    *rc = blkfront_wait_connected(d, now_ns() + BLK_CONNECT_TIMEOUT_NS);
    if (*rc != 0) {
      printk("pvkernel: blkfront %u: did not connect (%d; backend %s is %s)\n", d->devid, *rc,
             d->backend, xenbus_state_name(d->backend_state));
      return NULL;
    }
  }
  return d;
}

static uint32_t blkfront_max_bytes(const struct blkfront *d) {
  uint32_t segs = d->max_indirect ? d->max_indirect : BLKIF_MAX_SEGMENTS_PER_REQUEST;
  return segs * PAGE_SIZE;
}

void blkfront_info(struct blkfront *d, struct pvk_blk_info *out) {
  memset(out, 0, sizeof(*out));
  out->sectors = d->sectors;
  out->sector_size = d->sector_size;
  out->max_bytes = blkfront_max_bytes(d);
  out->queue_depth = BLK_QUEUE;
  out->features = (d->flush ? PVK_BLK_F_FLUSH : 0) | (d->barrier ? PVK_BLK_F_BARRIER : 0) |
                  (d->discard ? PVK_BLK_F_DISCARD : 0) | (d->max_indirect ? PVK_BLK_F_INDIRECT : 0) |
                  (d->info & VDISK_READONLY ? PVK_BLK_F_READONLY : 0);
  out->devid = d->devid;
  out->reconnects = d->reconnects;
  out->bad_responses = d->bad_responses;
}

/* ---- requests ---- */

static bool any_in_flight(const struct blkfront *d, const struct process *owner) {
  for (uint32_t i = 0; i < BLK_QUEUE; i++) {
    const struct shadow *s = &d->shadow[i];
    if ((s->state == SH_QUEUED || s->state == SH_INFLIGHT) && (owner == NULL || s->owner == owner)) {
      return true;
    }
  }
  return false;
}

/* A free shadow slot, waiting for one while requests are in flight; -EBUSY if none ever frees. */
static int take_slot(struct blkfront *d) {
  for (;;) {
    poll(d);
    for (uint32_t i = 0; i < BLK_QUEUE; i++) {
      if (d->shadow[i].state == SH_FREE) return (int)i;
    }
    /* Every slot is completed and unreaped, or raw: waiting would never end. */
    if (!any_in_flight(d, NULL)) return ERR(EBUSY);
    waitq_wait(&d->io_wq, 0);
  }
}

int blkfront_submit(struct blkfront *d, struct process *p, const struct pvk_blk_req *req) {
  uint8_t op;
  bool data = true;
  bool writes = true;
  switch (req->op) {
    case PVK_BLK_READ:
      op = BLKIF_OP_READ;
      writes = false;
      break;
    case PVK_BLK_WRITE:
      op = BLKIF_OP_WRITE;
      break;
    case PVK_BLK_BARRIER:
      if (!d->barrier) return ERR(EOPNOTSUPP);
      op = BLKIF_OP_WRITE_BARRIER;
      break;
    case PVK_BLK_FLUSH:
      if (!d->flush) return ERR(EOPNOTSUPP);
      op = BLKIF_OP_FLUSH_DISKCACHE;
      data = false;
      break;
    case PVK_BLK_DISCARD:
      if (!d->discard) return ERR(EOPNOTSUPP);
      op = BLKIF_OP_DISCARD;
      data = false;
      break;
    default:
      return ERR(EINVAL);
  }
  if (writes && (d->info & VDISK_READONLY)) return ERR(EACCES);
  uint64_t end = req->sector + req->count;
  if (op == BLKIF_OP_FLUSH_DISKCACHE) {
    if (req->count != 0 || req->buf != 0) return ERR(EINVAL);
  } else if (req->count == 0 || end < req->sector || end > d->sectors) {
    return ERR(EINVAL);
  }
  if (!data && req->buf != 0) return ERR(EINVAL);
  uint32_t bytes = 0;
  uint32_t nsegs = 0;
  if (data) {
    if (req->count > blkfront_max_bytes(d) / BLKIF_SECTOR_SIZE) return ERR(EINVAL);
    bytes = req->count * BLKIF_SECTOR_SIZE;
    if ((req->buf & (BLKIF_SECTOR_SIZE - 1)) != 0) return ERR(EINVAL);
    if (!user_range_ok(p, req->buf, bytes, !writes)) return ERR(EFAULT);
    uint32_t first = req->buf & ~(PAGE_SIZE - 1);
    uint32_t last = (req->buf + bytes - 1) & ~(PAGE_SIZE - 1);
    nsegs = (last - first) / PAGE_SIZE + 1;
    uint32_t max = d->max_indirect ? d->max_indirect : BLKIF_MAX_SEGMENTS_PER_REQUEST;
    /* An indirect request carries only reads and writes (io/blkif.h): a barrier must fit. */
    if (op == BLKIF_OP_WRITE_BARRIER) max = BLKIF_MAX_SEGMENTS_PER_REQUEST;
    if (nsegs > max) return ERR(EINVAL);
  }
  int slot = take_slot(d);
  if (slot < 0) return slot;
  struct shadow *s = &d->shadow[slot];
  s->op = op;
  s->tag = req->tag;
  s->owner = p;
  s->sector = req->sector;
  s->nr_sectors = req->count;
  s->status = 0;
  s->abandoned = false;
  s->nsegs = 0;
  uint32_t va = req->buf;
  uint32_t left = bytes;
  for (uint32_t i = 0; i < nsegs; i++) {
    uint32_t off = va & (PAGE_SIZE - 1);
    uint32_t n = PAGE_SIZE - off < left ? PAGE_SIZE - off : left;
    mfn_t mfn = as_lookup(&p->as, va & ~(PAGE_SIZE - 1)) >> PTE_PPN_SHIFT;
    int gref = gnttab_grant(d->backend_id, mfn, writes);
    if (gref < 0) {
      end_grants(s);
      s->state = SH_FREE;
      return gref;
    }
    s->seg[i].gref = (uint32_t)gref;
    s->seg[i].first_sect = (uint8_t)(off / BLKIF_SECTOR_SIZE);
    s->seg[i].last_sect = (uint8_t)((off + n) / BLKIF_SECTOR_SIZE - 1);
    s->mfn[i] = mfn;
    s->nsegs = (uint16_t)(i + 1);
    va += n;
    left -= n;
  }
  if (is_indirect(s)) {
    if (s->indirect_pfn == PFN_NONE) s->indirect_pfn = frame_alloc();
    int gref = s->indirect_pfn == PFN_NONE
                   ? ERR(ENOMEM)
                   : gnttab_grant(d->backend_id, pv->pfn_to_mfn(s->indirect_pfn), true);
    if (gref < 0) {
      end_grants(s);
      s->state = SH_FREE;
      return gref;
    }
    struct blkif_request_segment *page = pfn_to_va(s->indirect_pfn);
    for (uint32_t i = 0; i < s->nsegs; i++) page[i] = s->seg[i];
    s->indirect_gref = gref;
  }
  s->seq = d->seq++;
  s->state = SH_QUEUED;
  if (d->connected) {
    put_on_ring(d, (uint32_t)slot);
    push(d);
  }
  return 0;
}

int blkfront_reap(struct blkfront *d, struct process *p, struct pvk_blk_done *out, uint32_t max,
                  uint32_t min) {
  if (min > max) min = max;
  for (;;) {
    poll(d);
    uint32_t done = 0;
    for (uint32_t i = 0; i < BLK_QUEUE; i++) {
      if (d->shadow[i].state == SH_DONE && d->shadow[i].owner == p) done++;
    }
    if ((done >= min && (done > 0 || min == 0)) || !any_in_flight(d, p)) {
      uint32_t n = 0;
      for (uint32_t i = 0; i < BLK_QUEUE && n < max; i++) {
        struct shadow *s = &d->shadow[i];
        if (s->state != SH_DONE || s->owner != p) continue;
        out[n].tag = s->tag;
        out[n].status = s->status;
        s->state = SH_FREE;
        s->owner = NULL;
        n++;
      }
      if (n > 0) waitq_wake_all(&d->io_wq); /* submitters waiting for a slot */
      return (int)n;
    }
    waitq_wait(&d->io_wq, 0);
  }
}

void blkfront_process_exit(struct process *p) {
  for (uint32_t k = 0; k < ndevs; k++) {
    struct blkfront *d = &devs[k];
    while (any_in_flight(d, p)) {
      poll(d);
      if (any_in_flight(d, p)) waitq_wait(&d->io_wq, 0);
    }
    bool freed = false;
    for (uint32_t i = 0; i < BLK_QUEUE; i++) {
      struct shadow *s = &d->shadow[i];
      if (s->state == SH_DONE && s->owner == p) {
        s->state = SH_FREE;
        s->owner = NULL;
        freed = true;
      }
    }
    if (freed) waitq_wake_all(&d->io_wq);
  }
}

bool blkfront_frame_busy(mfn_t mfn) {
  for (uint32_t k = 0; k < ndevs; k++) {
    struct blkfront *d = &devs[k];
    for (uint32_t i = 0; i < BLK_QUEUE; i++) {
      const struct shadow *s = &d->shadow[i];
      if (s->state != SH_QUEUED && s->state != SH_INFLIGHT) continue;
      for (uint32_t j = 0; j < s->nsegs; j++) {
        if (s->mfn[j] == mfn) return true;
      }
    }
  }
  return false;
}

/* ---- raw access (the hostile job) ---- */

int blkfront_raw_submit(struct blkfront *d, const void *req, uint32_t size) {
  if (size > BLKIF_RING_SLOT_SIZE || size < 16) return ERR(EINVAL);
  if (!d->connected) return ERR(ENXIO);
  int slot = -1;
  for (uint32_t i = 0; i < BLK_QUEUE; i++) {
    if (d->shadow[i].state == SH_FREE) {
      slot = (int)i;
      break;
    }
  }
  if (slot < 0) return ERR(EBUSY);
  struct shadow *s = &d->shadow[slot];
  s->state = SH_RAW;
  s->abandoned = false;
  s->owner = NULL;
  s->nsegs = 0;
  uint8_t bytes[BLKIF_RING_SLOT_SIZE];
  memset(bytes, 0, sizeof(bytes));
  memcpy(bytes, req, size);
  uint64_t id = (uint64_t)slot;
  memcpy(bytes + 8, &id, sizeof(id)); /* every request format has its id at offset 8 */
  memcpy(front_ring_req_slot(&d->ring, d->ring.req_prod_pvt++), bytes, sizeof(bytes));
  push(d);
  return slot;
}

int blkfront_raw_wait(struct blkfront *d, int id, uint64_t deadline, int *status) {
  if (id < 0 || (uint32_t)id >= BLK_QUEUE) return ERR(EINVAL);
  struct shadow *s = &d->shadow[id];
  for (;;) {
    poll(d);
    if (s->state == SH_RAW_DONE) {
      s->state = SH_FREE;
      waitq_wake_all(&d->io_wq);
      if (s->status == STATUS_DISCONNECTED) return ERR(ENXIO);
      *status = s->status;
      return 0;
    }
    if (s->state != SH_RAW) return ERR(EINVAL);
    if (!waitq_wait(&d->io_wq, deadline) && now_ns() >= deadline) {
      poll(d);
      if (s->state == SH_RAW) {
        s->abandoned = true;
        return ERR(ETIMEDOUT);
      }
    }
  }
}

void blkfront_raw_bump_req_prod(struct blkfront *d, uint32_t delta) {
  if (!d->connected) return;
  __asm__ volatile("fence w, w" ::: "memory");
  d->ring.sring->req_prod = d->ring.req_prod_pvt + delta;
  notify(d);
}

bool blkfront_connected(struct blkfront *d) { return d->connected; }

uint32_t blkfront_generation(struct blkfront *d) { return d->generation; }

uint32_t blkfront_backend_domid(struct blkfront *d) { return d->backend_id; }

uint32_t blkfront_backend_state(struct blkfront *d) { return d->backend_state; }
