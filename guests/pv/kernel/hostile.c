/*
 * hostile.c — the hostile guest of hostile.h: every attempt breaks one rule of the PV contract
 * (public/README.md) and must be refused, after which the guest carries on.
 *
 * Rules of use: see hostile.h for the output. The expected answers are the hypervisor's
 * documented ones (hypervisor/paging.ts, hypercalls/): -EPERM for a frame the domain does not
 * own and for a privileged operation, -EINVAL for an entry or table that does not validate, a
 * malformed address and a batch count above the batch maximum, -ENOSYS for an unknown hypercall
 * or sub-operation, -EFAULT for a guest pointer that does not translate (or a batch that runs
 * into an unmapped page), -ESRCH for a domain that does not exist, -ENOENT for a vCPU that does
 * not exist; a memory_op on bad input must do nothing (0 extents or an error) and leave the
 * reservation as it was. Targets:
 *   - victim_mfn=N (command line): a machine frame of another domain; default: the frame after
 *     the highest one in our P2M (not ours either way, checked).
 *   - victim_dom=N: another domain (default 0, the control domain).
 * Addresses that are never mapped: UNMAPPED_VA (in the fixmap, shared by every address space)
 * and the page after FIXMAP_SCRATCH, where a frame of ours is mapped for boundary tests.
 */
#include "hostile.h"

#include "args.h"
#include "boot.h"
#include "console.h"
#include "events.h"
#include "fixup.h"
#include "frame.h"
#include "hypercall.h"
#include "paging.h"
#include "pvops.h"
#include "string.h"

#define UNMAPPED_VA (FIXMAP_BASE + 0x00200000u)
#define WRAPPING_VA 0xFFFFFFF0u
#define SCRATCH_END (FIXMAP_SCRATCH + PAGE_SIZE)
/* Where the mapping attempts aim (never the page after the scratch page, which stays unmapped). */
#define PROBE_VA (FIXMAP_BASE + 3 * PAGE_SIZE)

enum expect_kind { EXPECT_ERRNO, EXPECT_TRAP, EXPECT_NONE_DONE };

struct tally {
  uint32_t attempts, ok, denied, failed;
  uint32_t checksum;
};

static struct tally tally;

static const char *errno_name(uint32_t e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case E2BIG: return "E2BIG";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "E?";
  }
}

static void record(const char *name, long rc, const char *expected, const char *verdict) {
  tally.attempts++;
  tally.checksum = (tally.checksum ^ (uint32_t)rc) * 16777619u;
  printk("hostile: %s: rc=%ld expected=%s %s\n", name, rc, expected, verdict);
}

/* A hypercall that must fail with -errno. */
static void expect_errno(const char *name, long rc, uint32_t errno_value) {
  const char *verdict;
  if (rc == ERR(errno_value)) {
    verdict = "ok";
    tally.ok++;
  } else if (rc < 0) {
    verdict = "denied";
    tally.denied++;
  } else {
    verdict = "FAIL";
    tally.failed++;
  }
  record(name, rc, errno_name(errno_value), verdict);
}

/* An instruction that must trap with `cause` (the probe returns the scause it got). */
static void expect_trap(const char *name, uint32_t got, uint32_t cause, const char *cause_name) {
  char expected[40];
  format(expected, sizeof(expected), "trap:%s", cause_name);
  const char *verdict;
  if (got == cause) {
    verdict = "ok";
    tally.ok++;
  } else if (got != PROBE_NO_TRAP) {
    verdict = "denied";
    tally.denied++;
  } else {
    verdict = "FAIL";
    tally.failed++;
  }
  record(name, got == PROBE_NO_TRAP ? 0 : (long)got, expected, verdict);
}

/* A memory_op that must do nothing: 0 extents (or an error) and the reservation unchanged. */
static void expect_none_done(const char *name, long rc, long held_before) {
  long held_after = pv->frames_held();
  const char *verdict;
  if (held_after != held_before || rc > 0) {
    verdict = "FAIL";
    tally.failed++;
  } else {
    verdict = "ok";
    tally.ok++;
  }
  record(name, rc, "none-done", verdict);
}

static uint32_t max_own_mfn(void) {
  uint32_t max = 0;
  for (pfn_t p = 0; p < boot.nr_pages; p++) {
    if (boot.p2m[p] > max) max = boot.p2m[p];
  }
  return max;
}

static bool own_mfn(uint32_t mfn) {
  for (pfn_t p = 0; p < boot.nr_pages; p++) {
    if (boot.p2m[p] == mfn) return true;
  }
  return false;
}

static uint32_t root_checksum(void) {
  const uint32_t *root = pfn_to_va(boot.root_pfn);
  uint32_t sum = 0;
  for (uint32_t i = 0; i < PT_ENTRIES; i++) sum = (sum ^ root[i]) * 16777619u;
  return sum;
}

static long mmu1(uint64_t ptr, uint64_t val) {
  struct mmu_update req = {.ptr = ptr, .val = val};
  uint32_t done = 0;
  return hyp_mmu_update(&req, 1, &done);
}

static long mmuext1(uint32_t cmd, uint32_t arg1) {
  struct mmuext_op op = {.cmd = cmd, .arg1 = arg1, .arg2 = 0};
  return hyp_mmuext_op(&op, 1, NULL);
}

static long evtchn_send_at(uint32_t va) {
  return hypercall5(__HYPERVISOR_event_channel_op, EVTCHNOP_send, va, 0, 0, 0);
}

/* The machine address of the linear-map PTE that maps pfn (the builder's leaf tables follow
 * the root, in order). */
static uint64_t linear_pte_ma(pfn_t pfn) {
  pfn_t leaf = boot.root_pfn + 1 + pfn / PT_ENTRIES;
  return ((uint64_t)boot.p2m[leaf] << PAGE_SHIFT) + (pfn % PT_ENTRIES) * 4;
}

static void paging_attempts(uint32_t victim_mfn, pfn_t garbage, pfn_t scratch) {
  mfn_t root_mfn = boot.p2m[boot.root_pfn];
  mfn_t garbage_mfn = boot.p2m[garbage];
  uint32_t rw = PTE_R | PTE_W | PTE_A | PTE_D | PTE_V;

  expect_errno("map_foreign_frame",
               hyp_update_va_mapping(PROBE_VA, (victim_mfn << 10) | rw, UVMF_INVLPG), EPERM);
  expect_errno("map_foreign_frame_readonly",
               hyp_update_va_mapping(PROBE_VA,
                                     (victim_mfn << 10) | PTE_R | PTE_A | PTE_V, UVMF_INVLPG),
               EPERM);
  expect_errno("map_foreign_frame_mmu_update",
               mmu1(linear_pte_ma(garbage), (victim_mfn << 10) | rw), EPERM);
  expect_errno("map_frame_zero", hyp_update_va_mapping(PROBE_VA, rw, UVMF_INVLPG), EPERM);
  expect_errno("map_frame_beyond_machine_memory",
               hyp_update_va_mapping(PROBE_VA, (0x3FFFFFu << 10) | rw, UVMF_INVLPG), EPERM);
  expect_errno("map_page_table_writable",
               hyp_update_va_mapping((uint32_t)(uintptr_t)pfn_to_va(boot.root_pfn),
                                     (root_mfn << 10) | rw | PTE_G, UVMF_INVLPG),
               EINVAL);
  expect_errno("map_page_table_writable_mmu_update",
               mmu1(linear_pte_ma(boot.root_pfn), (root_mfn << 10) | rw | PTE_G), EINVAL);
  expect_errno("write_without_read",
               hyp_update_va_mapping(PROBE_VA,
                                     (boot.p2m[scratch] << 10) | PTE_W | PTE_A | PTE_D | PTE_V,
                                     UVMF_INVLPG),
               EINVAL);
  expect_errno("superpage_root_entry",
               mmu1(((uint64_t)root_mfn << PAGE_SHIFT) + 0,
                    ((boot.p2m[0] & ~0x3FFu) << 10) | rw | PTE_X),
               EINVAL);
  expect_errno("root_entry_to_unvalidated_table",
               mmu1(((uint64_t)root_mfn << PAGE_SHIFT) + 0, (garbage_mfn << 10) | PTE_V), EINVAL);
  expect_errno("mmu_update_ptr_foreign_frame", mmu1((uint64_t)victim_mfn << PAGE_SHIFT, 0),
               EPERM);
  expect_errno("mmu_update_ptr_above_4g", mmu1(linear_pte_ma(garbage) | (1ull << 32), 0),
               EPERM);
  expect_errno("mmu_update_ptr_beyond_34_bits", mmu1(linear_pte_ma(garbage) | (1ull << 40), 0),
               EINVAL);
  expect_errno("mmu_update_unknown_command", mmu1(linear_pte_ma(garbage) | 3, 0), ENOSYS);
  expect_errno("update_va_mapping_no_leaf_table",
               hyp_update_va_mapping(0x40000000u, (boot.p2m[scratch] << 10) | rw, UVMF_INVLPG),
               EINVAL);
  expect_trap("store_to_page_table",
              probe_store32((uint32_t)(uintptr_t)pfn_to_va(boot.root_pfn) + 4, 0xFFFFFFFFu),
              CAUSE_STORE_PAGE_FAULT, "store-page-fault");

  expect_errno("pin_foreign_frame", mmuext1(MMUEXT_PIN_L1_TABLE, victim_mfn), EPERM);
  expect_errno("pin_writable_frame", mmuext1(MMUEXT_PIN_L2_TABLE, garbage_mfn), EINVAL);
  expect_errno("unpin_unpinned_frame", mmuext1(MMUEXT_UNPIN_TABLE, garbage_mfn), EINVAL);
  expect_errno("new_baseptr_unvalidated", mmuext1(MMUEXT_NEW_BASEPTR, garbage_mfn), EINVAL);
  expect_errno("new_baseptr_foreign", mmuext1(MMUEXT_NEW_BASEPTR, victim_mfn), EPERM);
  expect_errno("mmuext_unknown_command", mmuext1(99, 0), ENOSYS);
  expect_trap("csrw_satp_unvalidated", probe_csrw_satp(SATP_SV32 | garbage_mfn),
              CAUSE_ILLEGAL_INSTRUCTION, "illegal-instruction");
  expect_trap("csrw_satp_foreign", probe_csrw_satp(SATP_SV32 | victim_mfn),
              CAUSE_ILLEGAL_INSTRUCTION, "illegal-instruction");
  expect_trap("csrw_satp_paging_off", probe_csrw_satp(0), CAUSE_ILLEGAL_INSTRUCTION,
              "illegal-instruction");
}

static void batch_attempts(pfn_t garbage) {
  /* One harmless request (rewrite the garbage frame's linear PTE with its current value) in
   * the last slot of the scratch page; the next page is unmapped. */
  struct mmu_update *req = (struct mmu_update *)(uintptr_t)(SCRATCH_END - sizeof(*req));
  req->ptr = linear_pte_ma(garbage);
  req->val = (boot.p2m[garbage] << 10) | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G | PTE_V;
  uint32_t done = 0;
  expect_errno("mmu_update_huge_count", hyp_mmu_update(req, 0x40000000u, &done), EINVAL);
  expect_errno("mmu_update_negative_count", hyp_mmu_update(req, 0xFFFFFFFFu, &done), EINVAL);
  expect_errno("mmu_update_count_past_list", hyp_mmu_update(req, 2, &done), EFAULT);
  expect_errno("mmu_update_wrapping_list",
               hyp_mmu_update((const struct mmu_update *)(uintptr_t)WRAPPING_VA, 2, &done),
               EFAULT);
  expect_errno("mmu_update_unmapped_list",
               hyp_mmu_update((const struct mmu_update *)(uintptr_t)UNMAPPED_VA, 1, &done),
               EFAULT);
  struct mmuext_op *op = (struct mmuext_op *)(uintptr_t)(SCRATCH_END - sizeof(*op));
  op->cmd = MMUEXT_TLB_FLUSH_LOCAL;
  op->arg1 = 0;
  op->arg2 = 0;
  expect_errno("mmuext_op_huge_count", hyp_mmuext_op(op, 0x7FFFFFFFu, NULL), EINVAL);
  expect_errno("mmuext_op_negative_count", hyp_mmuext_op(op, 0xFFFFFFFFu, NULL), EINVAL);
  expect_errno("mmuext_op_count_past_list", hyp_mmuext_op(op, 2, NULL), EFAULT);
  expect_errno("multicall_unmapped_list",
               hypercall5(__HYPERVISOR_multicall, UNMAPPED_VA, 1, 0, 0, 0), EFAULT);
  expect_errno("multicall_negative_count",
               hypercall5(__HYPERVISOR_multicall, UNMAPPED_VA, 0xFFFFFFFFu, 0, 0, 0), EINVAL);
}

static void pointer_attempts(void) {
  expect_errno("console_io_unmapped_buffer",
               hypercall5(__HYPERVISOR_console_io, CONSOLEIO_write, 16, UNMAPPED_VA, 0, 0),
               EFAULT);
  expect_errno("console_io_wrapping_buffer",
               hypercall5(__HYPERVISOR_console_io, CONSOLEIO_write, 0x20, WRAPPING_VA, 0, 0),
               EFAULT);
  expect_errno("console_io_buffer_into_unmapped_page",
               hypercall5(__HYPERVISOR_console_io, CONSOLEIO_write, 32, SCRATCH_END - 16, 0, 0),
               EFAULT);
  expect_errno("misaligned_arg_across_unmapped_page", evtchn_send_at(SCRATCH_END - 2), EFAULT);
  expect_errno("sched_shutdown_unmapped_arg",
               hypercall5(__HYPERVISOR_sched_op, SCHEDOP_shutdown, UNMAPPED_VA, 0, 0, 0),
               EFAULT);
  /* The hypervisor must not write through a read-only guest mapping (here: our root table). */
  uint32_t before = root_checksum();
  long rc = hypercall5(__HYPERVISOR_xen_version, XENVER_extraversion,
                       (uint32_t)(uintptr_t)pfn_to_va(boot.root_pfn), 0, 0, 0);
  if (root_checksum() != before) rc = 1; /* it wrote: report as a success of the attack */
  expect_errno("xen_version_into_readonly_page", rc, EFAULT);
  expect_errno("xen_version_unmapped_buffer",
               hypercall5(__HYPERVISOR_xen_version, XENVER_extraversion, UNMAPPED_VA, 0, 0, 0),
               EFAULT);
}

static void event_attempts(uint32_t victim_dom) {
  struct evtchn_port_op send = {.port = 1000};
  expect_errno("send_unallocated_port", hyp_event_channel_op(EVTCHNOP_send, &send), EINVAL);
  send.port = 0xFFFFFFFFu;
  expect_errno("send_port_out_of_range", hyp_event_channel_op(EVTCHNOP_send, &send), EINVAL);
  struct evtchn_bind_interdomain bind = {
      .remote_dom = (uint16_t)victim_dom, .remote_port = 4095, .local_port = 0};
  expect_errno("bind_foreign_port_not_offered",
               hyp_event_channel_op(EVTCHNOP_bind_interdomain, &bind), EINVAL);
  bind.remote_dom = 0x7000;
  bind.remote_port = 1;
  expect_errno("bind_port_of_missing_domain",
               hyp_event_channel_op(EVTCHNOP_bind_interdomain, &bind), ESRCH);
  struct evtchn_alloc_unbound alloc = {
      .dom = (uint16_t)victim_dom, .remote_dom = DOMID_SELF, .port = 0};
  expect_errno("alloc_unbound_for_other_domain",
               hyp_event_channel_op(EVTCHNOP_alloc_unbound, &alloc), EPERM);
  struct evtchn_bind_virq virq = {.virq = 99, .vcpu = 0, .port = 0};
  expect_errno("bind_invalid_virq", hyp_event_channel_op(EVTCHNOP_bind_virq, &virq), EINVAL);
  struct evtchn_port_op close = {.port = 1000};
  expect_errno("close_unallocated_port", hyp_event_channel_op(EVTCHNOP_close, &close), EINVAL);
  expect_errno("event_channel_unknown_command", hyp_event_channel_op(99, &close), ENOSYS);
}

static void memory_attempts(uint32_t victim_mfn) {
  /* The list sits at the end of the scratch page: reading past its one entry faults. */
  uint64_t *list = (uint64_t *)(uintptr_t)(SCRATCH_END - sizeof(uint64_t));
  list[0] = victim_mfn;
  struct xen_memory_reservation r = {
      .extent_start = (uint32_t)(uintptr_t)list,
      .nr_extents = 1,
      .extent_order = 0,
      .mem_flags = 0,
      .domid = DOMID_SELF,
  };
  long held = pv->frames_held();
  expect_none_done("decrease_reservation_foreign_frame",
                   hyp_memory_op(XENMEM_decrease_reservation, &r), held);
  r.extent_start = UNMAPPED_VA;
  held = pv->frames_held();
  /* Frames it would hand out have nowhere to go: it must keep them. */
  expect_none_done("increase_reservation_unmapped_list",
                   hyp_memory_op(XENMEM_increase_reservation, &r), held);
  r.extent_start = (uint32_t)(uintptr_t)list;
  r.nr_extents = 0xFFFFFFFFFFFFFFFFull;
  list[0] = victim_mfn;
  held = pv->frames_held();
  expect_none_done("decrease_reservation_huge_count",
                   hyp_memory_op(XENMEM_decrease_reservation, &r), held);
  r.nr_extents = 1;
  r.domid = 0;
  held = pv->frames_held();
  expect_errno("increase_reservation_for_other_domain",
               hyp_memory_op(XENMEM_increase_reservation, &r), EPERM);
  if (pv->frames_held() != held) printk("hostile: note: reservation changed\n");
  expect_errno("memory_op_unknown_command", hyp_memory_op(99, &r), ENOSYS);
}

static void call_attempts(void) {
  expect_errno("unknown_hypercall", hypercall5(63, 0, 0, 0, 0, 0), ENOSYS);
  expect_errno("huge_hypercall_number", hypercall5(0xFFFFFFFFu, 0, 0, 0, 0, 0), ENOSYS);
  expect_errno("sched_op_unknown_command",
               hypercall5(__HYPERVISOR_sched_op, 99, 0, 0, 0, 0), ENOSYS);
  expect_errno("vcpu_op_missing_vcpu", hypercall5(__HYPERVISOR_vcpu_op, VCPUOP_up, 7, 0, 0, 0),
               ENOENT);
}

int hostile_run(const char *name) {
  (void)name;
  if (!pv->paravirtualized) {
    printk("app hostile: error: needs the hypervisor (the board has nothing to attack)\n");
    return 1;
  }
  uint32_t victim_mfn = arg_u32(boot.cmdline, "victim_mfn", max_own_mfn() + 1, NULL);
  uint32_t victim_dom = arg_u32(boot.cmdline, "victim_dom", 0, NULL);
  if (own_mfn(victim_mfn)) {
    printk("app hostile: error: victim_mfn 0x%x is our own frame\n", victim_mfn);
    return 1;
  }
  printk("hostile: start victim_mfn=0x%x victim_dom=%u\n", victim_mfn, victim_dom);
  pfn_t garbage = frame_alloc();
  pfn_t scratch = frame_alloc_zeroed();
  if (garbage == PFN_NONE || scratch == PFN_NONE) panic("hostile: out of frames");
  /* A would-be root full of superpage entries onto the victim frame: it must never validate. */
  uint32_t *g = pfn_to_va(garbage);
  for (uint32_t i = 0; i < PT_ENTRIES; i++) g[i] = ((victim_mfn & ~0x3FFu) << 10) | 0xCF;
  if (fixmap_set(FIXMAP_SCRATCH, boot.p2m[scratch], PTE_R | PTE_W | PTE_A | PTE_D | PTE_G | PTE_V) != 0) {
    panic("hostile: cannot map the scratch page");
  }
  uint32_t root_before = root_checksum();
  uint64_t t0 = pv->system_time();

  call_attempts();
  paging_attempts(victim_mfn, garbage, scratch);
  batch_attempts(garbage);
  pointer_attempts();
  event_attempts(victim_dom);
  memory_attempts(victim_mfn);

  /* Still whole: the root table is as it was, time runs, the console works. */
  if (root_checksum() != root_before) {
    printk("hostile: integrity: the root table changed\n");
    tally.failed++;
  }
  if (pv->system_time() <= t0) {
    printk("hostile: integrity: system time stood still\n");
    tally.failed++;
  }
  fixmap_set(FIXMAP_SCRATCH, 0, 0);
  frame_free(scratch);
  frame_free(garbage);
  printk("hostile: summary attempts=%u ok=%u denied=%u failed=%u\n", tally.attempts, tally.ok,
         tally.denied, tally.failed);
  printk("app hostile: done checksum=0x%08x\n", tally.checksum);
  return tally.failed == 0 ? 0 : 1;
}
