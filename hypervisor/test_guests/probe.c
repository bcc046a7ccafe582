/*
 * The hypervisor's test guest: one PV kernel, many tests, chosen by "test=<name>" on the command
 * line. Each check prints "ok <name>" or "FAIL <name> (rc=<n>)"; the guest ends with
 * "result: <failures> failed" and powers off (crashes when something failed).
 */
#include "pv.h"

#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_A 0x40
#define PTE_D 0x80

static int failures;

static void check(const char *name, int ok, long rc) {
  if (ok) {
    printf_lite("ok %s\n", name);
  } else {
    printf_lite("FAIL %s (rc=%d)\n", name, rc);
    failures++;
  }
}

static int finish(void) {
  printf_lite("result: %d failed\n", (long)failures);
  return failures != 0;
}

/* ---- memory helpers: the builder's linear map is mfn = first mfn + pfn ---- */

static uint32_t *p2m(void) { return (uint32_t *)start->mfn_list; }
static unsigned long first_mfn(void) { return p2m()[0]; }
static unsigned long va_to_mfn(void *va) {
  return p2m()[((unsigned long)va - 0xC0000000ul) >> 12];
}
static unsigned long root_mfn(void) { return va_to_mfn((void *)start->pt_base); }
/* Machine address of the leaf PTE that maps va (through the linear map of the leaf table). */
static uint64_t pte_maddr(unsigned long va) {
  uint32_t *root = (uint32_t *)start->pt_base;
  unsigned long leaf = root[va >> 22] >> 10;
  return ((uint64_t)leaf << 12) + ((va >> 12) & 0x3ff) * 4;
}
static uint32_t pte_value(unsigned long mfn, uint32_t flags) { return (uint32_t)(mfn << 10) | flags; }

static long mmu_update1(uint64_t ptr, uint32_t val) {
  struct mmu_update req = {ptr, val};
  return hypercall(__HYPERVISOR_mmu_update, (unsigned long)&req, 1, 0, DOMID_SELF, 0);
}
static long mmuext(unsigned cmd, unsigned long mfn) {
  struct mmuext_op op = {cmd, mfn, 0};
  return hypercall(__HYPERVISOR_mmuext_op, (unsigned long)&op, 1, 0, DOMID_SELF, 0);
}
static long set_va(void *va, uint32_t pte) {
  return hypercall(__HYPERVISOR_update_va_mapping, (unsigned long)va, pte, 0, UVMF_INVLPG, 0);
}

/* Pages for tests, taken from the end of the domain's memory (never touched by the builder). */
static void *scratch_page(unsigned n) {
  return (void *)(0xC0000000ul + ((start->nr_pages - 1 - n) << 12));
}

/* ---- tests ---- */

static int test_hello(void) {
  printf_lite("hello from a PV test guest: %s\n", (const char *)start->cmd_line);
  long version = hypercall(__HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0);
  check("xen_version is 4.17", version == ((4 << 16) | 17), version);
  struct sbiret probe = sbi_call(0x10, 3, HYPERCALL_EXTENSION, 0);
  check("SBI probe finds the hypercall extension", probe.error == 0 && probe.value == 1,
        probe.value);
  check("wall clock is set", shared->wc_sec > 1600000000u, shared->wc_sec);
  uint64_t t0 = system_time_ns();
  for (volatile int i = 0; i < 100000; i++) {}
  uint64_t t1 = system_time_ns();
  check("system time advances", t1 > t0, (long)(t1 - t0));
  check("start-info magic", start->magic[0] == 'x' && start->magic[4] == '3', start->magic[0]);
  return finish();
}

static int test_spin(void) {
  long n = arg_value("n", 1000000);
  uint32_t x = 1;
  for (long i = 0; i < n; i++) x = x * 1664525u + 1013904223u;
  printf_lite("spin done checksum=%x\n", (unsigned long)x);
  return 0;
}

static volatile unsigned timer_events;
static unsigned timer_port;
static void on_timer(unsigned port) {
  if (port == timer_port) timer_events++;
}

static void enable_events(void) {
  event_handler = on_timer;
  shared->vcpu0_evtchn_upcall_mask = 0;
  csr_set(sie, 1 << 9);
  csr_set(sstatus, 2);
}

static int test_timer(void) {
  struct evtchn_bind_virq bind = {VIRQ_TIMER, 0, 0};
  long rc = hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, (unsigned long)&bind, 0, 0, 0);
  check("bind VIRQ_TIMER", rc == 0 && bind.port > 0, rc);
  timer_port = bind.port;
  rc = hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, (unsigned long)&bind, 0, 0, 0);
  check("binding VIRQ_TIMER twice is EEXIST", rc == -EEXIST, rc);
  enable_events();
  long rounds = arg_value("rounds", 5);
  uint64_t begin = system_time_ns();
  for (long i = 0; i < rounds; i++) {
    uint64_t deadline = system_time_ns() + 2000000;
    unsigned before = timer_events;
    hypercall(__HYPERVISOR_set_timer_op, (uint32_t)deadline, (uint32_t)(deadline >> 32), 0, 0, 0);
    while (timer_events == before) hypercall(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, 0, 0);
    if (system_time_ns() < deadline) {
      check("timer fired no earlier than asked", 0, i);
      break;
    }
  }
  uint64_t elapsed = system_time_ns() - begin;
  check("every timer round blocked until its deadline", elapsed >= (uint64_t)rounds * 2000000,
        (long)(elapsed / 1000));
  printf_lite("timer: %d rounds in %d us\n", rounds, (long)(elapsed / 1000));
  /* wfi with the SBI timer: the supervisor timer interrupt ends it. */
  csr_set(sie, 1 << 5);
  unsigned long before = irq_count[5];
  uint64_t ticks = ((uint64_t)csr_read(timeh) << 32) | csr_read(time);
  sbi_call(0x54494D45, 0, (uint32_t)(ticks + 20000), (uint32_t)((ticks + 20000) >> 32));
  while (irq_count[5] == before) asm volatile("wfi");
  check("SBI timer ends wfi", irq_count[5] == before + 1, irq_count[5]);
  return finish();
}

static int test_paging(void) {
  skip_faults = 1;
  unsigned long root = root_mfn();
  uint32_t *page = scratch_page(0);
  unsigned long page_mfn = va_to_mfn(page);
  uint64_t page_pte = pte_maddr((unsigned long)page);

  /* Mapping: own frames yes, others no. */
  long rc = set_va(scratch_page(1), pte_value(page_mfn, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D));
  check("alias an own frame writable", rc == 0, rc);
  ((volatile uint32_t *)scratch_page(1))[0] = 0x1234;
  check("the alias writes the frame", page[0] == 0x1234, page[0]);
  long victim = arg_value("victim_mfn", 0);
  if (victim) {
    rc = set_va(scratch_page(1), pte_value(victim, PTE_V | PTE_R | PTE_A));
    check("map another domain's frame: EPERM", rc == -EPERM, rc);
  }
  rc = set_va(scratch_page(1), pte_value(first_mfn() - 1, PTE_V | PTE_R | PTE_A));
  check("map a frame below our region: EPERM", rc == -EPERM, rc);
  rc = set_va(scratch_page(1), pte_value(0x3fffff, PTE_V | PTE_R | PTE_A));
  check("map a frame that is not RAM: EPERM", rc == -EPERM, rc);
  rc = set_va(scratch_page(1), pte_value(start->shared_info >> 12, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D));
  check("map the shared-info page again", rc == 0, rc);
  rc = set_va(scratch_page(1), pte_value(page_mfn, PTE_V | PTE_W | PTE_A));
  check("W without R: EINVAL", rc == -EINVAL, rc);

  /* Page-table frames are never writable. */
  rc = set_va(scratch_page(1), pte_value(root, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D));
  check("map the root table writable: EINVAL", rc == -EINVAL, rc);
  rc = set_va(scratch_page(1), pte_value(root, PTE_V | PTE_R | PTE_A));
  check("map the root table read-only", rc == 0, rc);
  rc = mmu_update1(pte_maddr((unsigned long)start->pt_base),
                   pte_value(root, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D));
  check("make the root's own mapping writable: EINVAL", rc == -EINVAL, rc);

  /* A new leaf table: writable mappings must go first. */
  memset_words(page, 0, 1024);
  rc = mmuext(MMUEXT_PIN_L1_TABLE, page_mfn);
  check("pin a frame still mapped writable: EINVAL", rc == -EINVAL, rc);
  set_va(scratch_page(1), 0);
  rc = mmu_update1(page_pte, pte_value(page_mfn, PTE_V | PTE_R | PTE_A));
  check("remap the frame read-only", rc == 0, rc);
  rc = mmuext(MMUEXT_PIN_L1_TABLE, page_mfn);
  check("pin it as a leaf table", rc == 0, rc);
  rc = mmuext(MMUEXT_PIN_L1_TABLE, page_mfn);
  check("pin it twice: EINVAL", rc == -EINVAL, rc);
  rc = mmu_update1(page_pte, pte_value(page_mfn, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D));
  check("map a pinned table writable: EINVAL", rc == -EINVAL, rc);
  rc = mmu_update1(((uint64_t)page_mfn << 12) + 4, pte_value(va_to_mfn(scratch_page(2)), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D));
  check("write an entry of the pinned table through mmu_update", rc == 0 && page[1] != 0, rc);
  rc = mmu_update1(((uint64_t)page_mfn << 12) + 8, pte_value(first_mfn() - 5, PTE_V | PTE_R));
  check("an entry naming a foreign frame: EPERM", rc == -EPERM, rc);
  rc = mmu_update1(((uint64_t)page_mfn << 12) + 8, pte_value(root, PTE_V));
  check("a pointer entry in a leaf table: EINVAL", rc == -EINVAL, rc);
  rc = mmu_update1(((uint64_t)page_mfn << 12) + 8, pte_value(root, PTE_V | PTE_R | PTE_W));
  check("a writable entry for a table frame: EINVAL", rc == -EINVAL, rc);

  /* Base pointers: only validated roots. */
  rc = mmuext(MMUEXT_NEW_BASEPTR, va_to_mfn(scratch_page(3)));
  check("new_baseptr to a writable data frame: EINVAL", rc == -EINVAL, rc);
  rc = mmuext(MMUEXT_NEW_BASEPTR, page_mfn);
  check("new_baseptr to a leaf table: EINVAL", rc == -EINVAL, rc);
  rc = mmuext(MMUEXT_NEW_BASEPTR, first_mfn() - 1);
  check("new_baseptr to a foreign frame: EPERM", rc == -EPERM, rc);

  /* A second root sharing the kernel's leaf tables: pin, switch, switch back. */
  uint32_t *root2 = scratch_page(4);
  unsigned long root2_mfn = va_to_mfn(root2);
  uint32_t *root1 = (uint32_t *)start->pt_base;
  for (int i = 0; i < 1024; i++) root2[i] = root1[i];
  root2[0] = pte_value(page_mfn, PTE_V); /* and our new leaf table for va 0..4 MiB */
  mmu_update1(pte_maddr((unsigned long)root2), pte_value(root2_mfn, PTE_V | PTE_R | PTE_A));
  rc = mmuext(MMUEXT_PIN_L2_TABLE, root2_mfn);
  check("pin a second root", rc == 0, rc);
  ((volatile uint32_t *)scratch_page(2))[0] = 0xfeedf00d;
  rc = mmuext(MMUEXT_NEW_BASEPTR, root2_mfn);
  check("switch to it", rc == 0, rc);
  uint32_t seen = *(volatile uint32_t *)0x1000;
  check("the new leaf table maps va 0x1000", seen == 0xfeedf00d, seen);
  rc = mmuext(MMUEXT_NEW_BASEPTR, root);
  check("switch back", rc == 0, rc);
  rc = mmuext(MMUEXT_UNPIN_TABLE, root2_mfn);
  check("unpin the second root", rc == 0, rc);
  rc = mmuext(MMUEXT_UNPIN_TABLE, root2_mfn);
  check("unpin it again: EINVAL", rc == -EINVAL, rc);
  rc = mmu_update1(pte_maddr((unsigned long)root2), pte_value(root2_mfn, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D));
  check("an unpinned root may be writable again", rc == 0, rc);
  root2[1] = pte_value(root2_mfn, PTE_V | PTE_R | PTE_X); /* a superpage */
  mmu_update1(pte_maddr((unsigned long)root2), pte_value(root2_mfn, PTE_V | PTE_R | PTE_A));
  rc = mmuext(MMUEXT_PIN_L2_TABLE, root2_mfn);
  check("a root with a superpage: EINVAL", rc == -EINVAL, rc);
  root2[1] = pte_value(root2_mfn, PTE_V);
  rc = mmuext(MMUEXT_PIN_L2_TABLE, root2_mfn);
  check("a root pointing at itself: EINVAL", rc == -EINVAL, rc);

  /* satp through csrw: emulated like new_baseptr, never paging off. */
  unsigned long satp = csr_read(satp);
  check("satp reads the current root", (satp & 0x3fffff) == root && (satp >> 31), satp);
  unsigned long traps = trap_count[2];
  csr_write(satp, 0);
  check("csrw satp, 0 traps (paging stays on)", trap_count[2] == traps + 1, trap_count[2]);
  csr_write(satp, 0x80000000ul | va_to_mfn(scratch_page(3)));
  check("csrw satp to a data frame traps", trap_count[2] == traps + 2, trap_count[2]);
  csr_write(satp, satp);
  check("csrw satp to the current root works", trap_count[2] == traps + 2, trap_count[2]);
  asm volatile("sfence.vma" ::: "memory");
  check("sfence.vma is emulated", trap_count[2] == traps + 2, trap_count[2]);

  /* Batches. */
  struct mmu_update reqs[3] = {
    {pte_maddr((unsigned long)scratch_page(5)), pte_value(va_to_mfn(scratch_page(5)), PTE_V | PTE_R | PTE_A)},
    {pte_maddr((unsigned long)scratch_page(5)), pte_value(root, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)},
    {pte_maddr((unsigned long)scratch_page(5)), 0},
  };
  unsigned done = 99;
  rc = hypercall(__HYPERVISOR_mmu_update, (unsigned long)reqs, 3, (unsigned long)&done, DOMID_SELF, 0);
  check("a batch stops at its first bad entry", rc == -EINVAL && done == 1, (long)done);
  rc = hypercall(__HYPERVISOR_mmu_update, (unsigned long)reqs, 0x7fffffff, (unsigned long)&done, DOMID_SELF, 0);
  check("a huge batch count: EINVAL", rc == -EINVAL, rc);
  rc = hypercall(__HYPERVISOR_mmu_update, (unsigned long)reqs, (unsigned long)-1, 0, DOMID_SELF, 0);
  check("a negative batch count: EINVAL", rc == -EINVAL, rc);
  rc = hypercall(__HYPERVISOR_mmu_update, 0x1000, 1, 0, DOMID_SELF, 0);
  check("a batch at an unmapped address: EFAULT", rc == -EFAULT, rc);
  rc = hypercall(__HYPERVISOR_mmu_update, 0xfffffff8, 1, 0, DOMID_SELF, 0);
  check("a batch wrapping the address space: EFAULT", rc == -EFAULT, rc);
  rc = mmu_update1(pte_maddr((unsigned long)scratch_page(5)) + 3, 0);
  check("an unknown mmu_update command: ENOSYS", rc == -ENOSYS, rc);
  /* A request list at a misaligned address is read byte by byte, correctly. */
  static uint8_t unaligned[1 + sizeof(struct mmu_update)];
  struct mmu_update one = {pte_maddr((unsigned long)scratch_page(5)), pte_value(va_to_mfn(scratch_page(5)), PTE_V | PTE_R | PTE_A)};
  for (unsigned i = 0; i < sizeof one; i++) unaligned[1 + i] = ((uint8_t *)&one)[i];
  rc = hypercall(__HYPERVISOR_mmu_update, (unsigned long)&unaligned[1], 1, 0, DOMID_SELF, 0);
  check("a misaligned request list is read correctly", rc == 0, rc);
  volatile uint32_t probe_read = *(volatile uint32_t *)scratch_page(5);
  (void)probe_read;
  unsigned long faults = trap_count[15];
  *(volatile uint32_t *)scratch_page(5) = 1;
  check("...and made the page read-only", trap_count[15] == faults + 1, trap_count[15]);
  rc = mmu_update1(((uint64_t)first_mfn() - 1) << 12, 0);
  check("an update of a foreign frame: EPERM", rc == -EPERM, rc);
  rc = mmu_update1(0x400000000ull, 0);
  check("an update beyond the 34-bit space: EINVAL", rc == -EINVAL, rc);
  rc = hypercall(__HYPERVISOR_mmu_update, (unsigned long)reqs, 1, 0, 7, 0);
  check("a foreign domain without privilege: EPERM", rc == -EPERM, rc);
  rc = hypercall(99, 0, 0, 0, 0, 0);
  check("an unknown hypercall: ENOSYS", rc == -ENOSYS, rc);
  rc = hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, 16, 0xC0000000ul + (start->nr_pages << 12), 0, 0);
  check("console_io from unmapped memory: EFAULT", rc == -EFAULT, rc);
  rc = hypercall(__HYPERVISOR_xen_version, XENVER_extraversion, (unsigned long)start->pt_base, 0, 0, 0);
  check("xen_version writing into a page table: EFAULT", rc == -EFAULT, rc);
  return finish();
}

static int test_memory(void) {
  long current = hypercall(__HYPERVISOR_memory_op, XENMEM_current_reservation, (unsigned long)&(uint16_t){DOMID_SELF}, 0, 0, 0);
  long maximum = hypercall(__HYPERVISOR_memory_op, XENMEM_maximum_reservation, (unsigned long)&(uint16_t){DOMID_SELF}, 0, 0, 0);
  check("current reservation is nr_pages", current == (long)start->nr_pages, current);
  check("maximum reservation is at least that", maximum >= current, maximum);
  uint64_t frames[16];
  struct xen_memory_reservation res = {(unsigned long)frames, 16, 0, 0, DOMID_SELF};
  long got = hypercall(__HYPERVISOR_memory_op, XENMEM_increase_reservation, (unsigned long)&res, 0, 0, 0);
  long want = maximum - current < 16 ? maximum - current : 16;
  check("increase_reservation gives what the maximum allows", got == want, got);
  /* Map each new frame over a scratch page, write it, read it back. */
  int good = 1;
  for (long i = 0; i < got; i++) {
    if (set_va(scratch_page(6), pte_value(frames[i], PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)) != 0) good = 0;
    volatile uint32_t *w = scratch_page(6);
    if (w[0] != 0) good = 0; /* fresh frames are zero */
    for (int j = 0; j < 1024; j++) w[j] = (uint32_t)(i * 7919 + j);
    for (int j = 0; j < 1024; j++) if (w[j] != (uint32_t)(i * 7919 + j)) good = 0;
  }
  check("new frames map, start zeroed and hold data", good, 0);
  res.nr_extents = got;
  long back = hypercall(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, (unsigned long)&res, 0, 0, 0);
  check("unmapped frames go back, a mapped one stops the batch", got > 0 && back == got - 1, back);
  set_va(scratch_page(6), pte_value(va_to_mfn(scratch_page(6)), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D));
  res.extent_start = (unsigned long)&frames[back];
  res.nr_extents = got - back;
  long rest = hypercall(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, (unsigned long)&res, 0, 0, 0);
  check("once unmapped it goes back too", rest == got - back, rest);
  long rc = set_va(scratch_page(6), pte_value(frames[0], PTE_V | PTE_R | PTE_A));
  check("a returned frame cannot be mapped", got == 0 || rc == -EPERM, rc);
  res.nr_extents = 100000;
  rc = hypercall(__HYPERVISOR_memory_op, XENMEM_increase_reservation, (unsigned long)&res, 0, 0, 0);
  check("an oversized reservation request: EINVAL", rc == -EINVAL, rc);
  return finish();
}

static volatile unsigned pings;
static unsigned ping_port;
static void on_ping(unsigned port) {
  if (port == ping_port) pings++;
}

static int test_pingpong(void) {
  ping_port = arg_value("port", 0);
  long rounds = arg_value("rounds", 100);
  int ping = arg_is("role", "ping");
  event_handler = on_ping;
  shared->vcpu0_evtchn_upcall_mask = 0;
  csr_set(sie, 1 << 9);
  csr_set(sstatus, 2);
  struct evtchn_port_op send = {ping_port};
  uint64_t t0 = system_time_ns();
  for (long i = 0; i < rounds; i++) {
    if (ping) hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&send, 0, 0, 0);
    while (pings <= (unsigned)i) hypercall(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, 0, 0);
    if (!ping) hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&send, 0, 0, 0);
  }
  uint64_t t1 = system_time_ns();
  printf_lite("%s: %d rounds, %d ns per round trip\n", ping ? "ping" : "pong", rounds,
              (long)((t1 - t0) / (uint64_t)rounds));
  return 0;
}

static int test_evtchn(void) {
  struct evtchn_port_op send = {77};
  long rc = hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&send, 0, 0, 0);
  check("send on a closed port: EINVAL", rc == -EINVAL, rc);
  send.port = 100000;
  rc = hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&send, 0, 0, 0);
  check("send on a port beyond the table: EINVAL", rc == -EINVAL, rc);
  long victim = arg_value("victim_dom", 0);
  long victim_port = arg_value("victim_port", 1);
  if (victim) {
    struct evtchn_bind_interdomain bind = {victim, victim_port, 0};
    rc = hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, (unsigned long)&bind, 0, 0, 0);
    check("bind another domain's port without permission: EPERM", rc == -EPERM, rc);
    struct evtchn_alloc_unbound alloc = {victim, 0, 0};
    rc = hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, (unsigned long)&alloc, 0, 0, 0);
    check("allocate a port in another domain: EPERM", rc == -EPERM, rc);
  }
  struct evtchn_alloc_unbound mine = {DOMID_SELF, DOMID_SELF, 0};
  rc = hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, (unsigned long)&mine, 0, 0, 0);
  check("alloc_unbound for ourselves", rc == 0 && mine.port > 0, rc);
  struct evtchn_bind_interdomain loop = {DOMID_SELF, mine.port, 0};
  rc = hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, (unsigned long)&loop, 0, 0, 0);
  check("bind it (loopback)", rc == 0 && loop.local_port > 0, rc);
  struct evtchn_port_op close = {loop.local_port};
  rc = hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_close, (unsigned long)&close, 0, 0, 0);
  check("close it", rc == 0, rc);
  rc = hypercall(__HYPERVISOR_event_channel_op, 1234, (unsigned long)&close, 0, 0, 0);
  check("an unknown event channel op: ENOSYS", rc == -ENOSYS, rc);
  rc = hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_close, 0xfffff000, 0, 0, 0);
  check("an argument pointer into nothing: EFAULT", rc == -EFAULT, rc);
  struct sched_poll poll = {0, 500, 0};
  rc = hypercall(__HYPERVISOR_sched_op, SCHEDOP_poll, (unsigned long)&poll, 0, 0, 0);
  check("poll with too many ports: EINVAL", rc == -EINVAL, rc);
  return finish();
}

static int test_console(void) {
  print("echo ready\n");
  char buf[64];
  for (;;) {
    long n = hypercall(__HYPERVISOR_console_io, CONSOLEIO_read, sizeof buf, (unsigned long)buf, 0, 0);
    if (n > 0) {
      hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, n, (unsigned long)buf, 0, 0);
      for (long i = 0; i < n; i++) if (buf[i] == 'q') return 0;
    } else {
      hypercall(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0, 0);
    }
  }
}

/* Null-call costs: a hypercall round trip, and a plain ecall from U handled by this kernel. */
void user_loop(void);
extern volatile uint32_t user_count;
static int test_nullcall(void) {
  long n = arg_value("n", 100000);
  uint64_t t0 = system_time_ns();
  for (long i = 0; i < n; i++) hypercall(__HYPERVISOR_xen_version, XENVER_pagesize, 0, 0, 0, 0);
  uint64_t t1 = system_time_ns();
  user_count = n;
  long rc = set_va((void *)user_loop, pte_value(va_to_mfn((void *)user_loop), PTE_V | PTE_R | PTE_X | 0x10 | PTE_A));
  check("map the user page for U-mode", rc == 0, rc);
  skip_faults = 1; /* ecalls from U (cause 8) are skipped by the trap handler */
  unsigned long before = trap_count[8];
  csr_clear(sstatus, 1 << 8); /* SPP = U */
  csr_write(sepc, (unsigned long)user_loop);
  asm volatile(
    "la t0, 1f\n"
    "csrw sscratch, t0\n"
    "sret\n"
    "1:\n" ::: "t0", "memory");
  uint64_t t2 = system_time_ns();
  check("every U-mode ecall reached this kernel", trap_count[8] - before == (unsigned long)n + 1, trap_count[8] - before);
  printf_lite("nullcall: hypercall %d ns, guest ecall %d ns (n=%d)\n", (long)((t1 - t0) / n),
              (long)((t2 - t1) / n), n);
  return finish();
}

int test_main(void) {
  if (arg_is("test", "hello")) return test_hello();
  if (arg_is("test", "spin")) return test_spin();
  if (arg_is("test", "timer")) return test_timer();
  if (arg_is("test", "paging")) return test_paging();
  if (arg_is("test", "memory")) return test_memory();
  if (arg_is("test", "pingpong")) return test_pingpong();
  if (arg_is("test", "evtchn")) return test_evtchn();
  if (arg_is("test", "console")) return test_console();
  if (arg_is("test", "nullcall")) return test_nullcall();
  if (arg_is("test", "idle")) {
    printf_lite("main at %d us\n", (long)(main_time_ns / 1000));
    for (;;) hypercall(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, 0, 0);
  }
  if (arg_is("test", "crash")) return 1;
  print("unknown test\n");
  return 1;
}
