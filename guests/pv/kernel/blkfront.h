/*
 * blkfront.h — the block frontend (io/blkif.h): virtual disks served by a backend in domain 0,
 * found in xenstore under device/vbd/<devid>.
 *
 * Rules of use (PV only; natively every entry point answers -ENOSYS):
 *   - blkfront_get(index) finds the devices on first use (xenstore directory device/vbd), starts
 *     one kernel thread per device that runs the xenbus handshake, and waits (up to
 *     BLK_CONNECT_TIMEOUT_NS) for the device to connect.
 *   - Handshake (the frontend's side, as Linux's blkfront): when the backend is InitWait, we
 *     make a ring page, grant it, allocate an event channel, write ring-ref, event-channel and
 *     protocol and switch to Initialised (one transaction); when the backend is Connected, we
 *     read sectors, sector-size, info and the feature-* keys and switch to Connected.
 *   - Reconnection: when the backend goes to Closing or Closed (or back to InitWait) while we are
 *     connected, we close the event channel, revoke the ring's grant (deferred if a dead backend
 *     still maps it; that page is never reused) and switch to Closed; when it comes back to
 *     InitWait we run the handshake again with a fresh ring, and once it is Connected we put every
 *     request that had not completed back on the new ring, grants unchanged. A request is
 *     reported complete only when the backend answered it, so no acknowledged write is lost.
 *   - Requests carry their data in the caller's pages, granted to the backend (read-only for
 *     writes) until the response; more than BLKIF_MAX_SEGMENTS_PER_REQUEST pages go as an
 *     indirect request when the backend offers feature-max-indirect-segments. Completions are
 *     matched by id (the shadow slot) and may come in any order; a response with an id we did
 *     not send, or a producer index ahead of our requests, is counted and ignored, or (the
 *     latter) treated as a broken backend: we disconnect and wait for it to come back.
 *   - Shadow slots are the queue: BLK_QUEUE slots per device, each holding one request from
 *     submission until its owner reaps it.
 */
#ifndef PVK_BLKFRONT_H
#define PVK_BLKFRONT_H
#include "pvk_syscall.h"
#include "thread.h"
#include "types.h"

#define BLK_MAX_DEVS 4u
#define BLK_QUEUE PVK_BLK_QUEUE_MAX
/* Most pages one request may carry (with indirect segments; 11 without). */
#define BLK_MAX_SEGS 32u
#define BLK_CONNECT_TIMEOUT_NS 30000000000ull

struct process;
struct blkfront;

/* Device `index` (0..), connected; NULL with *rc = -errno if there is none or it does not connect. */
struct blkfront *blkfront_get(uint32_t index, int *rc);
void blkfront_info(struct blkfront *d, struct pvk_blk_info *out);
/* Queues one request for process `p` (see pvk_syscall.h); 0 or -errno. */
int blkfront_submit(struct blkfront *d, struct process *p, const struct pvk_blk_req *req);
/* Waits until `min` of p's requests completed; fills up to `max`; returns how many. */
int blkfront_reap(struct blkfront *d, struct process *p, struct pvk_blk_done *out, uint32_t max,
                  uint32_t min);
/* Process exit: waits for p's requests in flight, then forgets its completions. */
void blkfront_process_exit(struct process *p);
/* Whether machine frame `mfn` carries a request that has not completed (it must stay mapped). */
bool blkfront_frame_busy(mfn_t mfn);

/* ---- raw access to a device's ring, for the hostile job (app=ringgarbage) ---- */
/* Takes a free slot and returns its id, or -errno; the request in `req` is copied into the ring
 * as it is (any operation, segment count, grefs) with its id replaced, published and notified. */
int blkfront_raw_submit(struct blkfront *d, const void *req, uint32_t size);
/* Waits until raw request `id` is answered (returns 0, *status = the response's status), the
 * backend disconnects us (-ENXIO), or the deadline passes (-ETIMEDOUT; the slot stays taken
 * until an answer or a disconnect, so a late answer cannot complete someone else's request). */
int blkfront_raw_wait(struct blkfront *d, int id, uint64_t deadline, int *status);
/* Publishes a request producer `delta` ahead of what we wrote (a corrupt index) and notifies. */
void blkfront_raw_bump_req_prod(struct blkfront *d, uint32_t delta);
/* Waits until the device is connected (again); 0, or -ETIMEDOUT at the deadline. */
int blkfront_wait_connected(struct blkfront *d, uint64_t deadline);
/* Whether the device is connected now, and how many times it has connected. */
bool blkfront_connected(struct blkfront *d);
uint32_t blkfront_generation(struct blkfront *d);
/* The backend's domain id (whom grants for this device go to). */
uint32_t blkfront_backend_domid(struct blkfront *d);
/* The backend's xenbus state as last read. */
uint32_t blkfront_backend_state(struct blkfront *d);

#endif
