/*
 * pvops_xen.c — the pv-ops of a paravirtualized guest: every privileged operation is a
 * hypercall (hypercall.h), page-table updates are validated by the hypervisor in batches.
 *
 * Rules of use: only reached through `pv` when the SBI probe said "paravirtualized". Machine
 * frames come from the P2M list in start-info. System time is computed from the vcpu_time_info
 * in the shared-info page with Xen's version protocol; it reads 0 until events_init has mapped
 * that page.
 */
#include "boot.h"
#include "console.h"
#include "csr.h"
#include "events.h"
#include "hypercall.h"
#include "pvops.h"

static mfn_t xen_pfn_to_mfn(pfn_t pfn) { return boot.p2m[pfn]; }

static void xen_console_write(const char *buf, size_t len) {
  while (len > 0) {
    uint32_t chunk = len > CONSOLEIO_MAX ? CONSOLEIO_MAX : (uint32_t)len;
    long rc = hyp_console_write(buf, chunk);
    if (rc < 0) return; /* Nowhere left to report it. */
    buf += chunk;
    len -= chunk;
  }
}

static int xen_mmu_update(const struct mmu_update *req, uint32_t count, uint32_t *done) {
  return (int)hyp_mmu_update(req, count, done);
}

static int xen_update_va_mapping(uint32_t va, pte_t pte, uint32_t flags) {
  return (int)hyp_update_va_mapping(va, pte, flags);
}

static int mmuext1(uint32_t cmd, uint32_t arg1) {
  struct mmuext_op op = {.cmd = cmd, .arg1 = arg1, .arg2 = 0};
  return (int)hyp_mmuext_op(&op, 1, NULL);
}

static int xen_pin_table(mfn_t mfn, uint32_t level) {
  return mmuext1(level == 2 ? MMUEXT_PIN_L2_TABLE : MMUEXT_PIN_L1_TABLE, mfn);
}

static int xen_unpin_table(mfn_t mfn) { return mmuext1(MMUEXT_UNPIN_TABLE, mfn); }

static int xen_new_baseptr(mfn_t root) { return mmuext1(MMUEXT_NEW_BASEPTR, root); }

static void xen_flush_tlb(void) { mmuext1(MMUEXT_TLB_FLUSH_LOCAL, 0); }

static void xen_invlpg(uint32_t va) { mmuext1(MMUEXT_INVLPG_LOCAL, va); }

/* (delta * mul) >> 32 for a 64-bit delta and a 32-bit multiplier, without 128-bit types. */
static uint64_t scale(uint64_t delta, uint32_t mul) {
  uint64_t lo = (uint64_t)(uint32_t)delta * mul;
  uint64_t hi = (delta >> 32) * mul;
  return hi + (lo >> 32);
}

static uint64_t xen_system_time(void) {
  const volatile struct vcpu_time_info *t = vcpu_time();
  if (t == NULL) return 0;
  uint32_t version;
  uint64_t tsc, system, delta;
  uint32_t mul;
  int8_t shift;
  do {
    version = t->version;
    __asm__ volatile("fence r, r" ::: "memory");
    tsc = t->tsc_timestamp;
    system = t->system_time;
    mul = t->tsc_to_system_mul;
    shift = t->tsc_shift;
    __asm__ volatile("fence r, r" ::: "memory");
  } while ((version & 1) != 0 || version != t->version);
  delta = rdtime64() - tsc;
  delta = shift >= 0 ? delta << shift : delta >> -shift;
  return system + scale(delta, mul);
}

static void xen_set_timer(uint64_t deadline_ns) {
  long rc = hyp_set_timer_op(deadline_ns);
  if (rc < 0) panic("set_timer_op(%llu) failed: rc=%ld", deadline_ns, rc);
}

static void xen_block(void) { hyp_sched_op(SCHEDOP_block, NULL); }

static void xen_yield_cpu(void) { hyp_sched_op(SCHEDOP_yield, NULL); }

__attribute__((noreturn)) static void xen_shutdown(uint32_t reason) {
  struct sched_shutdown arg = {.reason = reason};
  for (;;) hyp_sched_op(SCHEDOP_shutdown, &arg);
}

static int reservation(uint32_t cmd, uint64_t *list, uint32_t count) {
  struct xen_memory_reservation r = {
      .extent_start = (uint32_t)(uintptr_t)list,
      .nr_extents = count,
      .extent_order = 0,
      .mem_flags = 0,
      .domid = DOMID_SELF,
  };
  return (int)hyp_memory_op(cmd, &r);
}

/* Lists of machine frames travel as arrays of 64-bit xen_pfn_t. */
#define RESERVATION_CHUNK 64

static int xen_alloc_frames(mfn_t *mfns, uint32_t count) {
  uint64_t list[RESERVATION_CHUNK];
  uint32_t done = 0;
  while (done < count) {
    uint32_t n = count - done > RESERVATION_CHUNK ? RESERVATION_CHUNK : count - done;
    int rc = reservation(XENMEM_increase_reservation, list, n);
    if (rc < 0) return done > 0 ? (int)done : rc;
    for (int i = 0; i < rc; i++) mfns[done + (uint32_t)i] = (mfn_t)list[i];
    done += (uint32_t)rc;
    if ((uint32_t)rc < n) break;
  }
  return done == 0 && count > 0 ? ERR(ENOMEM) : (int)done;
}

static int xen_free_frames(const mfn_t *mfns, uint32_t count) {
  uint64_t list[RESERVATION_CHUNK];
  uint32_t done = 0;
  while (done < count) {
    uint32_t n = count - done > RESERVATION_CHUNK ? RESERVATION_CHUNK : count - done;
    for (uint32_t i = 0; i < n; i++) list[i] = mfns[done + i];
    int rc = reservation(XENMEM_decrease_reservation, list, n);
    if (rc < 0) return done > 0 ? (int)done : rc;
    done += (uint32_t)rc;
    if ((uint32_t)rc < n) break;
  }
  return (int)done;
}

static long xen_frames_held(void) {
  uint16_t domid = DOMID_SELF;
  return hyp_memory_op(XENMEM_current_reservation, &domid);
}

static int xen_evtchn_send(uint32_t port) {
  struct evtchn_port_op op = {.port = port};
  return (int)hyp_event_channel_op(EVTCHNOP_send, &op);
}

const struct pv_ops pv_ops_xen = {
    .name = "xen",
    .paravirtualized = true,
    .pfn_to_mfn = xen_pfn_to_mfn,
    .console_write = xen_console_write,
    .mmu_update = xen_mmu_update,
    .update_va_mapping = xen_update_va_mapping,
    .pin_table = xen_pin_table,
    .unpin_table = xen_unpin_table,
    .new_baseptr = xen_new_baseptr,
    .flush_tlb = xen_flush_tlb,
    .invlpg = xen_invlpg,
    .system_time = xen_system_time,
    .set_timer = xen_set_timer,
    .block = xen_block,
    .yield_cpu = xen_yield_cpu,
    .shutdown = xen_shutdown,
    .alloc_frames = xen_alloc_frames,
    .free_frames = xen_free_frames,
    .frames_held = xen_frames_held,
    .evtchn_send = xen_evtchn_send,
};
