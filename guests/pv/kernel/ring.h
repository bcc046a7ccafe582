/*
 * ring.h — the frontend end of a Xen shared ring (io/ring.h) in one 4 KiB page: a 64-byte
 * header (req_prod, req_event, rsp_prod, rsp_event, padding) and a power-of-two number of slots,
 * each as large as the larger of the request and the response.
 *
 * Rules of use:
 *   - front_ring_init zeroes the page (it must be ours and not yet granted) and sets the event
 *     thresholds to 1, as SHARED_RING_INIT does; front_ring_attach views an existing page.
 *   - Requests are written into front_ring_req_slot(r, r->req_prod_pvt++) and published with
 *     front_ring_push_requests, which stores req_prod after the slots (a write barrier: the
 *     publish point) and says whether the backend asked to be notified (req_event), as
 *     RING_PUSH_REQUESTS_AND_CHECK_NOTIFY does.
 *   - Responses are read from front_ring_rsp_slot(r, r->rsp_cons) for every index below
 *     front_ring_rsp_prod (which reads rsp_prod and then fences, so the slots are read after
 *     it), copied out before use; then front_ring_final_check sets rsp_event and looks again
 *     (RING_FINAL_CHECK_FOR_RESPONSES), so an event is asked for exactly when none is pending.
 *   - The backend is not trusted: front_ring_rsp_prod returns -1 when rsp_prod claims more
 *     responses than requests we published (the caller treats the backend as broken).
 */
#ifndef PVK_RING_H
#define PVK_RING_H
#include "string.h"
#include "types.h"

#define RING_HEADER_SIZE 64u

struct ring_header {
  volatile uint32_t req_prod;
  volatile uint32_t req_event;
  volatile uint32_t rsp_prod;
  volatile uint32_t rsp_event;
  uint8_t pad[48];
};
_Static_assert(sizeof(struct ring_header) == RING_HEADER_SIZE, "io/ring.h header");

struct front_ring {
  struct ring_header *sring;
  uint32_t size;      /* slots, a power of two */
  uint32_t slot_size; /* bytes per slot */
  uint32_t req_prod_pvt;
  uint32_t rsp_cons;
};

/* Slots a ring of `slot_size`-byte slots holds in one page (__CONST_RING_SIZE). */
static inline uint32_t ring_slots(uint32_t slot_size) {
  uint32_t fit = (PAGE_SIZE - RING_HEADER_SIZE) / slot_size;
  uint32_t n = 1;
  while (n * 2 <= fit) n *= 2;
  return n;
}

static inline void front_ring_attach(struct front_ring *r, void *page, uint32_t slot_size) {
  r->sring = page;
  r->slot_size = slot_size;
  r->size = ring_slots(slot_size);
  r->req_prod_pvt = 0;
  r->rsp_cons = 0;
}

static inline void front_ring_init(struct front_ring *r, void *page, uint32_t slot_size) {
  memset(page, 0, PAGE_SIZE);
  front_ring_attach(r, page, slot_size);
  r->sring->req_event = 1;
  r->sring->rsp_event = 1;
}

static inline void *front_ring_req_slot(struct front_ring *r, uint32_t index) {
  return (uint8_t *)r->sring + RING_HEADER_SIZE + (index & (r->size - 1)) * r->slot_size;
}

static inline const volatile void *front_ring_rsp_slot(const struct front_ring *r, uint32_t index) {
  return (const uint8_t *)r->sring + RING_HEADER_SIZE + (index & (r->size - 1)) * r->slot_size;
}

/* Slots free for new requests. */
static inline uint32_t front_ring_free(const struct front_ring *r) {
  return r->size - (r->req_prod_pvt - r->rsp_cons);
}

/* Publishes the requests written so far; true if the backend must be notified. */
static inline bool front_ring_push_requests(struct front_ring *r) {
  uint32_t old = r->sring->req_prod;
  uint32_t now = r->req_prod_pvt;
  /* Publish point: the request slots before the producer index. */
  __asm__ volatile("fence w, w" ::: "memory");
  r->sring->req_prod = now;
  /* The backend's req_event is read after our index is visible. */
  __asm__ volatile("fence rw, rw" ::: "memory");
  uint32_t event = r->sring->req_event;
  return (uint32_t)(now - event) < (uint32_t)(now - old);
}

/* The backend's response producer, or -1 if it claims responses to requests never published. */
static inline int64_t front_ring_rsp_prod(const struct front_ring *r) {
  uint32_t prod = r->sring->rsp_prod;
  /* The slots are read after the index that published them. */
  __asm__ volatile("fence r, rw" ::: "memory");
  if ((uint32_t)(prod - r->rsp_cons) > (uint32_t)(r->req_prod_pvt - r->rsp_cons)) return -1;
  return prod;
}

/* After consuming everything: asks for an event on the next response and says whether one
 * arrived meanwhile (then the caller consumes again). */
static inline bool front_ring_final_check(struct front_ring *r) {
  if (r->sring->rsp_prod != r->rsp_cons) return true;
  r->sring->rsp_event = r->rsp_cons + 1;
  __asm__ volatile("fence rw, rw" ::: "memory");
  return r->sring->rsp_prod != r->rsp_cons;
}

#endif
