/*
 * hypercall.h — the paravirt hypercall instruction sequence (public/hypercall.ts): ecall from
 * S-mode with a7 = HYPERCALL_EXTENSION, a6 = the __HYPERVISOR_* number, a0-a4 = arguments;
 * the result (a negated Xen errno on failure) comes back in a0.
 *
 * Rules of use: only the hypervisor pv-ops (pvops_xen.c), the event code and the hostile
 * tests call these; everything else goes through the pv-ops table. Pointer arguments are
 * kernel virtual addresses.
 */
#ifndef PVK_HYPERCALL_H
#define PVK_HYPERCALL_H
#include <stdint.h>

#include "paravirt_abi.h"

static inline long hypercall5(uint32_t nr, uint32_t arg0, uint32_t arg1, uint32_t arg2,
                              uint32_t arg3, uint32_t arg4) {
  register uint32_t a0 __asm__("a0") = arg0;
  register uint32_t a1 __asm__("a1") = arg1;
  register uint32_t a2 __asm__("a2") = arg2;
  register uint32_t a3 __asm__("a3") = arg3;
  register uint32_t a4 __asm__("a4") = arg4;
  register uint32_t a6 __asm__("a6") = nr;
  register uint32_t a7 __asm__("a7") = HYPERCALL_EXTENSION;
  __asm__ volatile("ecall"
                   : "+r"(a0)
                   : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a6), "r"(a7)
                   : "memory");
  return (long)a0;
}

#define HYPERCALL_PTR(p) ((uint32_t)(uintptr_t)(p))

static inline long hyp_console_write(const char *buf, uint32_t len) {
  return hypercall5(__HYPERVISOR_console_io, CONSOLEIO_write, len, HYPERCALL_PTR(buf), 0, 0);
}

static inline long hyp_mmu_update(const struct mmu_update *req, uint32_t count, uint32_t *done) {
  return hypercall5(__HYPERVISOR_mmu_update, HYPERCALL_PTR(req), count, HYPERCALL_PTR(done),
                    DOMID_SELF, 0);
}

static inline long hyp_mmuext_op(const struct mmuext_op *op, uint32_t count, uint32_t *done) {
  return hypercall5(__HYPERVISOR_mmuext_op, HYPERCALL_PTR(op), count, HYPERCALL_PTR(done),
                    DOMID_SELF, 0);
}

static inline long hyp_update_va_mapping(uint32_t va, uint32_t pte, uint32_t flags) {
  return hypercall5(__HYPERVISOR_update_va_mapping, va, pte, 0, flags, 0);
}

static inline long hyp_sched_op(uint32_t cmd, void *arg) {
  return hypercall5(__HYPERVISOR_sched_op, cmd, HYPERCALL_PTR(arg), 0, 0, 0);
}

static inline long hyp_event_channel_op(uint32_t cmd, void *arg) {
  return hypercall5(__HYPERVISOR_event_channel_op, cmd, HYPERCALL_PTR(arg), 0, 0, 0);
}

static inline long hyp_memory_op(uint32_t cmd, void *arg) {
  return hypercall5(__HYPERVISOR_memory_op, cmd, HYPERCALL_PTR(arg), 0, 0, 0);
}

static inline long hyp_set_timer_op(uint64_t deadline_ns) {
  return hypercall5(__HYPERVISOR_set_timer_op, (uint32_t)deadline_ns,
                    (uint32_t)(deadline_ns >> 32), 0, 0, 0);
}

#endif
