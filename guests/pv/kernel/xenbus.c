/*
 * xenbus.c — the xenstore client and xenbus helpers of xenbus.h.
 *
 * Rules of use: see xenbus.h. The ring page is the pfn after the console ring (boot_pv.c checks
 * the layout), already in the linear map. Shared memory is hostile here too: the indices are
 * read once per step, a producer more than a ring ahead or a header announcing more than
 * XENSTORE_PAYLOAD_MAX bytes marks the connection broken (every waiter gets -EIO) instead of
 * being followed. Replies stream through a staging buffer, since a message (up to 16 + 4096
 * bytes) may be larger than the 1024-byte ring.
 */
#include "xenbus.h"

#include <stdarg.h>

#include "args.h"
#include "boot.h"
#include "console.h"
#include "events.h"
#include "pvops.h"
#include "string.h"
#include "timer.h"

#define RING_MASK (XENSTORE_RING_SIZE - 1)
#define MAX_PENDING 8u
#define MAX_WATCHES 16u
#define HEADER_SIZE ((uint32_t)sizeof(struct xsd_sockmsg))

/* Errno values xenstored may name that the ABI header does not define (Xen's numbers). */
#ifndef EISDIR
#define EISDIR 21u
#endif
#ifndef ENOTEMPTY
#define ENOTEMPTY 39u
#endif
#ifndef EROFS
#define EROFS 30u
#endif
#ifndef EISCONN
#define EISCONN 106u
#endif

struct pending {
  bool busy, done, abandoned;
  uint32_t req_id;
  uint32_t type;
  char *buf;
  uint32_t size;
  uint32_t len;
  char error[12];
  struct waitq wq;
};

static volatile struct xenstore_domain_interface *ring;
static uint32_t port;
static bool started, broken;
static struct pending pending[MAX_PENDING];
static struct xs_watch *watches[MAX_WATCHES];
static uint32_t next_req_id = 1;
static bool writing;
static struct waitq write_wq, space_wq;
static uint8_t stage[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
static uint32_t staged;
static struct xenbus_stats stats;
static uint64_t timeout_ns = XS_TIMEOUT_NS;

static void notify(void) { pv->evtchn_send(port); }

static void fail_all(const char *why) {
  if (!broken) printk("pvkernel: xenbus: %s; the xenstore connection is broken\n", why);
  broken = true;
  for (uint32_t i = 0; i < MAX_PENDING; i++) waitq_wake_all(&pending[i].wq);
  waitq_wake_all(&write_wq);
  waitq_wake_all(&space_wq);
}

static void dispatch(void) {
  struct xsd_sockmsg hdr;
  memcpy(&hdr, stage, HEADER_SIZE);
  const char *body = (const char *)stage + HEADER_SIZE;
  if (hdr.type == XS_WATCH_EVENT) {
    stats.watch_events++;
    /* "<path>\0<token>\0": find the token after the first NUL. */
    uint32_t at = 0;
    while (at < hdr.len && body[at] != '\0') at++;
    const char *token = body + at + 1;
    uint32_t left = at + 1 < hdr.len ? hdr.len - at - 1 : 0;
    for (uint32_t i = 0; i < MAX_WATCHES; i++) {
      struct xs_watch *w = watches[i];
      if (w == NULL || !w->active) continue;
      uint32_t n = (uint32_t)strlen(w->token);
      if (n + 1 <= left && memcmp(token, w->token, n) == 0 && token[n] == '\0') {
        w->fired++;
        waitq_wake_all(w->wq);
        return;
      }
    }
    stats.dropped++;
    return;
  }
  for (uint32_t i = 0; i < MAX_PENDING; i++) {
    struct pending *p = &pending[i];
    if (!p->busy || p->done || p->req_id != hdr.req_id) continue;
    stats.replies++;
    if (p->abandoned) {
      p->busy = false;
      return;
    }
    p->type = hdr.type;
    p->len = hdr.len;
    if (hdr.type == XS_ERROR) {
      uint32_t n = hdr.len < sizeof(p->error) - 1 ? hdr.len : (uint32_t)sizeof(p->error) - 1;
      memcpy(p->error, body, n);
      p->error[n] = '\0';
    } else if (p->buf != NULL && p->size > 0) {
      uint32_t n = hdr.len < p->size - 1 ? hdr.len : p->size - 1;
      memcpy(p->buf, body, n);
      p->buf[n] = '\0';
    }
    p->done = true;
    waitq_wake_all(&p->wq);
    return;
  }
  stats.dropped++;
}

/* Consumes what the server produced; returns whether anything was read. */
static bool pump(void) {
  bool consumed = false;
  while (!broken) {
    uint32_t cons = ring->rsp_cons;
    uint32_t prod = ring->rsp_prod;
    __asm__ volatile("fence r, rw" ::: "memory");
    if ((uint32_t)(prod - cons) > XENSTORE_RING_SIZE) {
      fail_all("xenstored's response producer ran more than a ring ahead");
      break;
    }
    if (prod == cons) break;
    uint32_t want;
    if (staged < HEADER_SIZE) {
      want = HEADER_SIZE - staged;
    } else {
      struct xsd_sockmsg hdr;
      memcpy(&hdr, stage, HEADER_SIZE);
      want = HEADER_SIZE + hdr.len - staged;
    }
    uint32_t n = prod - cons;
    if (n > want) n = want;
    uint32_t contiguous = XENSTORE_RING_SIZE - (cons & RING_MASK);
    if (n > contiguous) n = contiguous;
    for (uint32_t i = 0; i < n; i++) stage[staged + i] = ring->rsp[(cons + i) & RING_MASK];
    __asm__ volatile("fence rw, w" ::: "memory");
    ring->rsp_cons = cons + n;
    staged += n;
    consumed = true;
    if (staged == HEADER_SIZE) {
      struct xsd_sockmsg hdr;
      memcpy(&hdr, stage, HEADER_SIZE);
      if (hdr.len > XENSTORE_PAYLOAD_MAX) {
        fail_all("xenstored sent a message longer than XENSTORE_PAYLOAD_MAX");
        break;
      }
    }
    if (staged >= HEADER_SIZE) {
      struct xsd_sockmsg hdr;
      memcpy(&hdr, stage, HEADER_SIZE);
      if (staged == HEADER_SIZE + hdr.len) {
        dispatch();
        staged = 0;
      }
    }
  }
  if (consumed) notify();
  return consumed;
}

static void xenbus_thread(void *arg) {
  (void)arg;
  for (;;) {
    pump();
    /* The server may have consumed requests: writers waiting for room look again. */
    waitq_wake_all(&space_wq);
    if (broken) {
      thread_block(); /* nothing more to do, ever */
      continue;
    }
    evtchn_wait(port);
  }
}

int xenbus_init(void) {
  if (started) return broken ? ERR(EIO) : 0;
  if (!pv->paravirtualized) return ERR(ENOSYS);
  pfn_t store_pfn = boot.root_pfn + boot.nr_pt_frames + 1;
  ring = pfn_to_va(store_pfn);
  port = boot.store_evtchn;
  if (port == 0 || port >= EVTCHN_TRACKED) {
    printk("pvkernel: xenbus: start-info names no usable store event channel (%u)\n", port);
    return ERR(ENODEV);
  }
  int ok;
  uint32_t ms = arg_u32(boot.cmdline, "xs_timeout_ms", 0, &ok);
  if (ok && ms != 0) timeout_ns = (uint64_t)ms * 1000000u;
  if (thread_create("xenbus", xenbus_thread, NULL, NULL) == NULL) return ERR(ENOMEM);
  started = true;
  return 0;
}

static int errno_of(const char *name) {
  static const struct {
    const char *name;
    uint32_t value;
  } names[] = {
      {"EINVAL", EINVAL}, {"EACCES", EACCES},       {"EEXIST", EEXIST}, {"EISDIR", EISDIR},
      {"ENOENT", ENOENT}, {"ENOMEM", ENOMEM},       {"ENOSPC", ENOSPC}, {"EIO", EIO},
      {"ENOTEMPTY", ENOTEMPTY}, {"ENOSYS", ENOSYS}, {"EROFS", EROFS},   {"EBUSY", EBUSY},
      {"EAGAIN", EAGAIN}, {"EISCONN", EISCONN},     {"E2BIG", E2BIG},   {"EPERM", EPERM},
  };
  for (uint32_t i = 0; i < ARRAY_SIZE(names); i++) {
    if (strcmp(names[i].name, name) == 0) return ERR(names[i].value);
  }
  return ERR(EIO);
}

/* Writes `len` bytes into the request ring, waiting for room; 0 or -errno. */
static int ring_put(const void *data, uint32_t len, uint64_t deadline) {
  const uint8_t *bytes = data;
  while (len > 0) {
    if (broken) return ERR(EIO);
    uint32_t prod = ring->req_prod;
    uint32_t cons = ring->req_cons;
    __asm__ volatile("fence r, rw" ::: "memory");
    uint32_t used = prod - cons;
    if (used > XENSTORE_RING_SIZE) {
      fail_all("xenstored's request consumer is past our producer");
      return ERR(EIO);
    }
    uint32_t space = XENSTORE_RING_SIZE - used;
    if (space == 0) {
      notify();
      if (!waitq_wait(&space_wq, deadline) && now_ns() >= deadline) return ERR(ETIMEDOUT);
      continue;
    }
    uint32_t n = len < space ? len : space;
    uint32_t contiguous = XENSTORE_RING_SIZE - (prod & RING_MASK);
    if (n > contiguous) n = contiguous;
    for (uint32_t i = 0; i < n; i++) ring->req[(prod + i) & RING_MASK] = bytes[i];
    /* Publish point: the bytes before the producer index. */
    __asm__ volatile("fence w, w" ::: "memory");
    ring->req_prod = prod + n;
    bytes += n;
    len -= n;
  }
  return 0;
}

/*
 * Sends one request made of `n` parts (each sent with its NUL when `nul[i]`) and waits for its
 * reply. Returns the reply's type, or -errno (an XS_ERROR reply maps to its errno).
 */
static int talk(uint32_t type, uint32_t tx, const char *const parts[], const bool nul[],
                uint32_t n, char *reply, uint32_t size, uint32_t *reply_len) {
  int rc = xenbus_init();
  if (rc != 0) return rc;
  uint64_t deadline = now_ns() + timeout_ns;
  struct pending *p = NULL;
  while (p == NULL) {
    if (broken) return ERR(EIO);
    for (uint32_t i = 0; i < MAX_PENDING; i++) {
      if (!pending[i].busy) {
        p = &pending[i];
        break;
      }
    }
    if (p == NULL) {
      /* All slots wait for replies: wait for one (any reply wakes its own queue, so poll). */
      thread_sleep_until(now_ns() + 1000000);
      if (now_ns() >= deadline) return ERR(ETIMEDOUT);
    }
  }
  uint32_t total = 0;
  for (uint32_t i = 0; i < n; i++) total += (uint32_t)strlen(parts[i]) + (nul[i] ? 1 : 0);
  if (total > XENSTORE_PAYLOAD_MAX) return ERR(E2BIG);
  p->busy = true;
  p->done = false;
  p->abandoned = false;
  p->req_id = next_req_id++;
  if (next_req_id == 0) next_req_id = 1;
  p->buf = reply;
  p->size = size;
  p->len = 0;
  p->error[0] = '\0';
  struct xsd_sockmsg hdr = {.type = type, .req_id = p->req_id, .tx_id = tx, .len = total};

  while (writing) {
    if (!waitq_wait(&write_wq, deadline) && now_ns() >= deadline) {
      p->busy = false;
      return ERR(ETIMEDOUT);
    }
    if (broken) {
      p->busy = false;
      return ERR(EIO);
    }
  }
  writing = true;
  rc = ring_put(&hdr, HEADER_SIZE, deadline);
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    rc = ring_put(parts[i], (uint32_t)strlen(parts[i]) + (nul[i] ? 1 : 0), deadline);
  }
  writing = false;
  waitq_wake_all(&write_wq);
  if (rc != 0) {
    /* A half-written message cannot be taken back: the connection is unusable. */
    fail_all("a request could not be written whole");
    p->busy = false;
    return rc;
  }
  stats.requests++;
  notify();
  while (!p->done && !broken) {
    if (!waitq_wait(&p->wq, deadline) && now_ns() >= deadline && !p->done) {
      p->abandoned = true; /* the slot is freed when (if) the reply comes */
      stats.timeouts++;
      /* Nobody has read a byte we wrote: no xenstored serves the ring, and none will answer
       * the next request either. */
      if (ring->req_cons == 0) fail_all("xenstored does not read our ring");
      return ERR(ETIMEDOUT);
    }
  }
  if (!p->done) {
    p->busy = false;
    return ERR(EIO);
  }
  uint32_t got = p->type;
  if (reply_len != NULL) *reply_len = p->len;
  int result = got == XS_ERROR ? errno_of(p->error) : (int)got;
  if (got != XS_ERROR && got != type) result = ERR(EIO);
  p->busy = false;
  return result;
}

static int talk1(uint32_t type, uint32_t tx, const char *arg, char *reply, uint32_t size,
                 uint32_t *reply_len) {
  const char *parts[1] = {arg};
  const bool nul[1] = {true};
  return talk(type, tx, parts, nul, 1, reply, size, reply_len);
}

int xs_read(uint32_t tx, const char *path, char *buf, uint32_t size) {
  uint32_t len = 0;
  int rc = talk1(XS_READ, tx, path, buf, size, &len);
  if (rc < 0) return rc;
  return (int)len;
}

int xs_write(uint32_t tx, const char *path, const char *value) {
  const char *parts[2] = {path, value};
  const bool nul[2] = {true, false};
  int rc = talk(XS_WRITE, tx, parts, nul, 2, NULL, 0, NULL);
  return rc < 0 ? rc : 0;
}

int xs_printf(uint32_t tx, const char *path, const char *fmt, ...) {
  char value[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vformat(value, sizeof(value), fmt, ap);
  va_end(ap);
  if (n >= (int)sizeof(value)) return ERR(E2BIG);
  return xs_write(tx, path, value);
}

int xs_mkdir(uint32_t tx, const char *path) {
  int rc = talk1(XS_MKDIR, tx, path, NULL, 0, NULL);
  return rc < 0 ? rc : 0;
}

int xs_rm(uint32_t tx, const char *path) {
  int rc = talk1(XS_RM, tx, path, NULL, 0, NULL);
  return rc < 0 ? rc : 0;
}

int xs_directory(uint32_t tx, const char *path, char *buf, uint32_t size, uint32_t *count) {
  uint32_t len = 0;
  int rc = talk1(XS_DIRECTORY, tx, path, buf, size, &len);
  if (rc < 0) return rc;
  if (len >= size) return ERR(E2BIG);
  uint32_t names = 0;
  for (uint32_t i = 0; i < len; i++) {
    if (buf[i] == '\0') names++;
  }
  if (count != NULL) *count = names;
  return (int)len;
}

int xs_transaction_start(uint32_t *tx) {
  char reply[16];
  const char *parts[1] = {""};
  const bool nul[1] = {true};
  int rc = talk(XS_TRANSACTION_START, XS_TX_NONE, parts, nul, 1, reply, sizeof(reply), NULL);
  if (rc < 0) return rc;
  uint32_t id = 0;
  for (const char *c = reply; *c != '\0'; c++) {
    if (*c < '0' || *c > '9') return ERR(EIO);
    id = id * 10 + (uint32_t)(*c - '0');
  }
  if (id == 0) return ERR(EIO);
  *tx = id;
  return 0;
}

int xs_transaction_end(uint32_t tx, bool commit) {
  int rc = talk1(XS_TRANSACTION_END, tx, commit ? "T" : "F", NULL, 0, NULL);
  return rc < 0 ? rc : 0;
}

int xs_watch_add(struct xs_watch *w, const char *path, struct waitq *wq) {
  int rc = xenbus_init();
  if (rc != 0) return rc;
  uint32_t slot = MAX_WATCHES;
  for (uint32_t i = 0; i < MAX_WATCHES; i++) {
    if (watches[i] == NULL) {
      slot = i;
      break;
    }
  }
  if (slot == MAX_WATCHES) return ERR(ENOSPC);
  if (strlcpy(w->path, path, sizeof(w->path)) >= sizeof(w->path)) return ERR(E2BIG);
  format(w->token, sizeof(w->token), "pvk%u", slot);
  w->fired = 0;
  w->wq = wq;
  w->active = true;
  watches[slot] = w;
  const char *parts[2] = {w->path, w->token};
  const bool nul[2] = {true, true};
  rc = talk(XS_WATCH, XS_TX_NONE, parts, nul, 2, NULL, 0, NULL);
  if (rc < 0) {
    w->active = false;
    watches[slot] = NULL;
    return rc;
  }
  return 0;
}

int xs_watch_remove(struct xs_watch *w) {
  const char *parts[2] = {w->path, w->token};
  const bool nul[2] = {true, true};
  int rc = talk(XS_UNWATCH, XS_TX_NONE, parts, nul, 2, NULL, 0, NULL);
  w->active = false;
  for (uint32_t i = 0; i < MAX_WATCHES; i++) {
    if (watches[i] == w) watches[i] = NULL;
  }
  return rc < 0 ? rc : 0;
}

int xs_read_u64(uint32_t tx, const char *path, uint64_t *out) {
  char buf[24];
  int rc = xs_read(tx, path, buf, sizeof(buf));
  if (rc < 0) return rc;
  if (rc == 0 || rc >= (int)sizeof(buf)) return ERR(EINVAL);
  uint64_t value = 0;
  for (int i = 0; i < rc; i++) {
    if (buf[i] < '0' || buf[i] > '9') return ERR(EINVAL);
    uint64_t next = value * 10 + (uint64_t)(buf[i] - '0');
    if (next / 10 != value) return ERR(EINVAL);
    value = next;
  }
  *out = value;
  return 0;
}

int xenbus_domid(void) {
  uint64_t id;
  int rc = xs_read_u64(XS_TX_NONE, "domid", &id);
  if (rc < 0) return rc;
  return id < DOMID_FIRST_RESERVED ? (int)id : ERR(EINVAL);
}

uint32_t xenbus_read_state(const char *dir) {
  char path[XS_PATH_MAX + 8];
  format(path, sizeof(path), "%s/state", dir);
  uint64_t state;
  if (xs_read_u64(XS_TX_NONE, path, &state) < 0 || state > XenbusStateReconfigured) {
    return XenbusStateUnknown;
  }
  return (uint32_t)state;
}

int xenbus_switch_state(uint32_t tx, const char *dir, uint32_t state) {
  char path[XS_PATH_MAX + 8];
  format(path, sizeof(path), "%s/state", dir);
  return xs_printf(tx, path, "%u", state);
}

const char *xenbus_state_name(uint32_t state) {
  static const char *const names[] = {"Unknown",   "Initialising", "InitWait",
                                      "Initialised", "Connected",  "Closing",
                                      "Closed",    "Reconfiguring", "Reconfigured"};
  return state < ARRAY_SIZE(names) ? names[state] : "?";
}

void xenbus_stats(struct xenbus_stats *out) { *out = stats; }
