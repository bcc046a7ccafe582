/*
 * xenbus.h — the xenstore client (io/xs_wire.h over the ring page named in start-info) and the
 * xenbus helpers frontends use for their handshake (io/xenbus.h states).
 *
 * Rules of use (PV only; natively xenbus_init answers -ENOSYS):
 *   - xenbus_init starts the client on first use: it checks the ring page, starts the "xenbus"
 *     kernel thread that reads replies and watch events, and is idempotent. Nothing touches the
 *     store before a frontend or a job asks for it, so a guest without xenstored boots as before.
 *   - Requests are synchronous for the calling thread (other threads run meanwhile) and may be
 *     issued by several threads at once; each message is written whole before the next. A
 *     request not answered in time (XS_TIMEOUT_NS, or xs_timeout_ms= on the command line) fails
 *     with -ETIMEDOUT and its late reply is dropped; if by then xenstored has not read a single
 *     byte of the ring, nobody serves it, and every later request fails at once with -EIO. Errors come back as negated Xen errno values mapped from xenstored's error names.
 *   - Paths are relative to our home /local/domain/<domid> unless they start with '/'.
 *   - Values read are NUL-terminated (truncated to the buffer); the return value is the value's
 *     full length.
 *   - A watch fires once when set and again on every change at or below its path; each firing
 *     bumps `fired` and wakes the wait queue given to xs_watch_add (a device waits on one queue
 *     for its watch and its event channel alike). The xenbus thread never runs watch code itself, so a waiter
 *     may issue requests when it wakes.
 *   - tx is XS_TX_NONE or an id from xs_transaction_start; xs_transaction_end with commit
 *     returns -EAGAIN when the transaction conflicted (then redo it).
 */
#ifndef PVK_XENBUS_H
#define PVK_XENBUS_H
#include "thread.h"
#include "types.h"

#define XS_TX_NONE 0u
#define XS_TIMEOUT_NS 20000000000ull
#define XS_PATH_MAX 128u

struct xs_watch {
  char path[XS_PATH_MAX];
  char token[16];
  uint32_t fired;
  struct waitq *wq; /* woken on every firing */
  bool active;
};

int xenbus_init(void);
/* Our domain id (read from xenstore's "domid" if the toolstack wrote it, else from the home
 * path); -errno if unknown. */
int xenbus_domid(void);

int xs_read(uint32_t tx, const char *path, char *buf, uint32_t size);
int xs_write(uint32_t tx, const char *path, const char *value);
int xs_printf(uint32_t tx, const char *path, const char *fmt, ...);
int xs_mkdir(uint32_t tx, const char *path);
int xs_rm(uint32_t tx, const char *path);
/* The children's names, each NUL-terminated, one after the other; *count receives how many. */
int xs_directory(uint32_t tx, const char *path, char *buf, uint32_t size, uint32_t *count);
int xs_transaction_start(uint32_t *tx);
int xs_transaction_end(uint32_t tx, bool commit);
int xs_watch_add(struct xs_watch *w, const char *path, struct waitq *wq);
int xs_watch_remove(struct xs_watch *w);
/* Reads a decimal number; -ENOENT if absent, -EINVAL if malformed. */
int xs_read_u64(uint32_t tx, const char *path, uint64_t *out);

/* `<dir>/state` as a XenbusState (XenbusStateUnknown if absent or unreadable). */
uint32_t xenbus_read_state(const char *dir);
int xenbus_switch_state(uint32_t tx, const char *dir, uint32_t state);
const char *xenbus_state_name(uint32_t state);

/* Counters, for the self-test and the console. */
struct xenbus_stats {
  uint32_t requests, replies, watch_events, dropped, timeouts;
};
void xenbus_stats(struct xenbus_stats *out);

#endif
