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

static volatile unsigned ipi_events;
static unsigned ipi_port;
static void on_ipi(unsigned port) {
  if (port == ipi_port) ipi_events++;
}

/* IPIs, masking, status, poll timeouts and multicalls. */
static int test_events2(void) {
  struct evtchn_bind_ipi ipi = {0, 0};
  long rc = hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, (unsigned long)&ipi, 0, 0, 0);
  check("bind an IPI", rc == 0 && ipi.port > 0, rc);
  ipi_port = ipi.port;
  event_handler = on_ipi;
  shared->vcpu0_evtchn_upcall_mask = 0;
  csr_set(sie, 1 << 9);
  csr_set(sstatus, 2);
  struct evtchn_port_op op = {ipi.port};
  hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&op, 0, 0, 0);
  check("an IPI to ourselves arrives as an upcall", ipi_events == 1, ipi_events);
  /* Mask the port: the event pends without an upcall; unmasking delivers it. */
  __atomic_fetch_or((volatile uint32_t *)shared->evtchn_mask + ipi.port / 32, 1u << (ipi.port % 32),
                    __ATOMIC_SEQ_CST);
  hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&op, 0, 0, 0);
  check("a masked port holds its event", ipi_events == 1, ipi_events);
  /* EVTCHNOP_unmask clears the mask bit itself (a guest that clears it by hand must deliver
     what is pending itself, as Linux does). */
  hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_unmask, (unsigned long)&op, 0, 0, 0);
  check("unmask delivers it", ipi_events == 2, ipi_events);
  struct evtchn_status status = {DOMID_SELF, ipi.port, 0, 0, 0, 0};
  rc = hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_status, (unsigned long)&status, 0, 0, 0);
  check("status says IPI", rc == 0 && status.status == EVTCHNSTAT_ipi, status.status);
  status.port = start->store_evtchn;
  rc = hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_status, (unsigned long)&status, 0, 0, 0);
  check("the store port is unbound, for dom0", rc == 0 && status.status == EVTCHNSTAT_unbound && status.u_dom == 0, status.status);
  /* Poll: a timeout in the future returns after it. */
  uint32_t port = start->console_evtchn;
  uint64_t t0 = system_time_ns();
  struct sched_poll poll = {(unsigned long)&port, 1, t0 + 3000000};
  rc = hypercall(__HYPERVISOR_sched_op, SCHEDOP_poll, (unsigned long)&poll, 0, 0, 0);
  uint64_t waited = system_time_ns() - t0;
  check("poll waits for its timeout", rc == 0 && waited >= 3000000, (long)(waited / 1000));
  /* Multicall: results land in the entries; a nested multicall is refused. */
  static struct multicall_entry calls[3];
  calls[0].op = __HYPERVISOR_xen_version;
  calls[0].args[0] = XENVER_pagesize;
  calls[1].op = 77;
  calls[2].op = __HYPERVISOR_multicall;
  rc = hypercall(__HYPERVISOR_multicall, (unsigned long)calls, 3, 0, 0, 0);
  check("multicall runs every entry", rc == 0 && calls[0].result == 4096 && calls[1].result == -(int64_t)ENOSYS &&
        calls[2].result == -(int64_t)EINVAL, (long)calls[0].result);
  rc = hypercall(__HYPERVISOR_multicall, (unsigned long)calls, 100000, 0, 0, 0);
  check("a huge multicall: EINVAL", rc == -EINVAL, rc);
  return finish();
}

/* Grant-table frames and the SBI calls besides the timer. */
static int test_grants_sbi(void) {
  uint64_t frames[4] = {0, 0, 0, 0};
  struct gnttab_setup_table setup = {DOMID_SELF, 4, 0, (unsigned long)frames};
  long rc = hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, (unsigned long)&setup, 1, 0, 0);
  check("setup_table gives 4 frames", rc == 0 && setup.status == GNTST_okay && frames[3] != 0, setup.status);
  rc = set_va(scratch_page(7), pte_value(frames[0], PTE_V | PTE_R | PTE_W | PTE_A | PTE_D));
  check("the first grant frame maps writable", rc == 0, rc);
  volatile struct grant_entry_v1 *table = scratch_page(7);
  table[1].frame = va_to_mfn(scratch_page(8));
  table[1].domid = 0;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  table[1].flags = GTF_permit_access;
  check("a grant entry is written", table[1].flags == GTF_permit_access, 0);
  rc = mmuext(MMUEXT_PIN_L1_TABLE, frames[0]);
  check("a grant frame can never become a page table", rc == -EINVAL, rc);
  setup.nr_frames = 99;
  hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, (unsigned long)&setup, 1, 0, 0);
  check("too many frames: general error", setup.status == GNTST_general_error, setup.status);
  setup.dom = 5;
  setup.nr_frames = 1;
  hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, (unsigned long)&setup, 1, 0, 0);
  check("another domain's table: bad domain", setup.status == GNTST_bad_domain, setup.status);
  struct gnttab_query_size query = {DOMID_SELF, 0, 0, 0};
  rc = hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, (unsigned long)&query, 1, 0, 0);
  check("query_size", rc == 0 && query.nr_frames == 4 && query.max_nr_frames == 4, query.nr_frames);
  rc = hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, (unsigned long)&query, 2, 0, 0);
  check("a count other than 1: EINVAL", rc == -EINVAL, rc);
  rc = hypercall(__HYPERVISOR_grant_table_op, 42, (unsigned long)&query, 1, 0, 0);
  check("an unknown grant op: ENOSYS", rc == -ENOSYS, rc);

  struct sbiret r = sbi_call(0x10, 0, 0, 0);
  check("SBI spec version 2.0", r.error == 0 && r.value == 0x2000000, r.value);
  r = sbi_call(0x10, 1, 0, 0);
  check("SBI implementation id", r.error == 0 && r.value == 0x7061, r.value);
  r = sbi_call(0x10, 3, 0x12345678, 0);
  check("probing an absent extension gives 0", r.error == 0 && r.value == 0, r.value);
  r = sbi_call(0x10, 99, 0, 0);
  check("an unknown base function: not supported", r.error == -2, r.error);
  r = sbi_call(0x735049, 0, 0, 0);
  check("an unknown extension: not supported", r.error == -2, r.error);
  r = sbi_call(0x53525354, 0, 7, 0);
  check("SRST with a bad type: invalid parameter", r.error == -3, r.error);
  sbi_call(0x01, 0, '!', 0);
  sbi_call(0x01, 0, '\n', 0);
  r = sbi_call(0x02, 0, 0, 0);
  check("legacy getchar with no input gives -1", r.error == -1, r.error);
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
void fast_trap(void);
extern void trap_entry(void);
extern volatile uint32_t user_count;
static int test_nullcall(void) {
  long n = arg_value("n", 100000);
  uint64_t t0 = system_time_ns();
  for (long i = 0; i < n; i++) hypercall(__HYPERVISOR_xen_version, XENVER_pagesize, 0, 0, 0, 0);
  uint64_t t1 = system_time_ns();
  user_count = n;
  long rc = set_va((void *)user_loop, pte_value(va_to_mfn((void *)user_loop), PTE_V | PTE_R | PTE_X | 0x10 | PTE_A));
  check("map the user page for U-mode", rc == 0, rc);
  /* The reference: the cheapest handler (fast_trap, five instructions and sret). */
  csr_write(stvec, (unsigned long)fast_trap);
  csr_clear(sstatus, 1 << 8); /* SPP = U */
  csr_write(sepc, (unsigned long)user_loop);
  asm volatile(
    "la t0, 1f\n"
    "csrw sscratch, t0\n"
    "sret\n"
    "1:\n" ::: "t0", "a6", "a7", "memory");
  uint64_t t2 = system_time_ns();
  csr_write(stvec, (unsigned long)trap_entry);
  check("the U-mode loop ran and came back", 1, 0);
  printf_lite("nullcall: hypercall %d ns, guest ecall %d ns (n=%d)\n", (long)((t1 - t0) / n),
              (long)((t2 - t1) / n), n);
  return finish();
}

/* ---- a minimal xenstore client on the ring page (io/xs_wire.h) ---- */

static volatile struct xenstore_domain_interface *xs;

static void xs_kick(void) {
  struct evtchn_port_op send = {start->store_evtchn};
  hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&send, 0, 0, 0);
}

static void xs_wait(void) {
  uint32_t port = start->store_evtchn;
  struct sched_poll poll = {(unsigned long)&port, 1, system_time_ns() + 10000000};
  hypercall(__HYPERVISOR_sched_op, SCHEDOP_poll, (unsigned long)&poll, 0, 0, 0);
  /* Clear the port's pending bit so the next poll waits again. */
  __atomic_fetch_and((volatile uint32_t *)shared->evtchn_pending + port / 32, ~(1u << (port % 32)),
                     __ATOMIC_SEQ_CST);
}

static void xs_put(const void *data, uint32_t len) {
  const uint8_t *p = data;
  while (len) {
    uint32_t prod = xs->req_prod;
    uint32_t space = XENSTORE_RING_SIZE - (prod - xs->req_cons);
    if (space == 0) {
      xs_kick();
      xs_wait();
      continue;
    }
    uint32_t chunk = XENSTORE_RING_SIZE - (prod % XENSTORE_RING_SIZE);
    if (chunk > space) chunk = space;
    if (chunk > len) chunk = len;
    for (uint32_t i = 0; i < chunk; i++) xs->req[(prod + i) % XENSTORE_RING_SIZE] = p[i];
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    xs->req_prod = prod + chunk;
    p += chunk;
    len -= chunk;
  }
  xs_kick();
}

static void xs_get(void *out, uint32_t len) {
  uint8_t *p = out;
  while (len) {
    uint32_t cons = xs->rsp_cons;
    uint32_t avail = xs->rsp_prod - cons;
    if (avail == 0) {
      xs_wait();
      continue;
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t chunk = avail < len ? avail : len;
    for (uint32_t i = 0; i < chunk; i++) p[i] = xs->rsp[(cons + i) % XENSTORE_RING_SIZE];
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    xs->rsp_cons = cons + chunk;
    p += chunk;
    len -= chunk;
  }
  xs_kick();
}

/* One request and its reply; returns the reply's type and NUL-terminates its body. */
static uint32_t xs_request(uint32_t type, const char *a, uint32_t alen, const char *b, uint32_t blen,
                           char *reply, uint32_t max) {
  static uint32_t next_id = 1;
  struct xsd_sockmsg msg = {type, next_id++, 0, alen + blen};
  xs_put(&msg, sizeof msg);
  if (alen) xs_put(a, alen);
  if (blen) xs_put(b, blen);
  struct xsd_sockmsg answer;
  xs_get(&answer, sizeof answer);
  uint32_t keep = answer.len < max - 1 ? answer.len : max - 1;
  xs_get(reply, keep);
  char sink[64];
  for (uint32_t left = answer.len - keep; left;) {
    uint32_t n = left < sizeof sink ? left : sizeof sink;
    xs_get(sink, n);
    left -= n;
  }
  reply[keep] = 0;
  return answer.type;
}

static uint32_t slen(const char *s) {
  uint32_t n = 0;
  while (s[n]) n++;
  return n;
}

static int test_xenstore(void) {
  xs = (volatile struct xenstore_domain_interface *)(0xC0000000ul +
                                                      ((start->store_mfn - first_mfn()) << 12));
  char reply[256];
  const char *key = "data/greeting";
  const char *value = "hello from the ring";
  uint32_t type = xs_request(XS_WRITE, key, slen(key) + 1, value, slen(value), reply, sizeof reply);
  check("XS_WRITE of a relative path", type == XS_WRITE && reply[0] == 'O', type);
  type = xs_request(XS_READ, key, slen(key) + 1, 0, 0, reply, sizeof reply);
  int same = type == XS_READ;
  for (uint32_t i = 0; same && value[i]; i++) same = reply[i] == value[i];
  check("XS_READ gives it back", same, type);
  type = xs_request(XS_READ, "name", 5, 0, 0, reply, sizeof reply);
  if (type == XS_READ) printf_lite("my name in xenstore: %s\n", reply);
  check("the toolstack's name node is readable", type == XS_READ, type);
  type = xs_request(XS_WRITE, "/local/domain/0/evil", 21, "x", 1, reply, sizeof reply);
  check("writing dom0's directory: EACCES", type == XS_ERROR && reply[1] == 'A', type);
  return finish();
}

/* ---- a second vCPU ---- */

static volatile uint32_t smp_counter;
static uint8_t secondary_stack[4096] __attribute__((aligned(16)));

static void secondary(void) {
  for (int i = 0; i < 100000; i++) __atomic_fetch_add(&smp_counter, 1, __ATOMIC_SEQ_CST);
  hypercall(__HYPERVISOR_vcpu_op, VCPUOP_down, 1, 0, 0, 0);
  for (;;) {}
}

static int test_smp(void) {
  long rc = hypercall(__HYPERVISOR_vcpu_op, VCPUOP_up, 1, 0, 0, 0);
  check("up without a context: EINVAL", rc == -EINVAL, rc);
  static struct vcpu_guest_context ctx;
  ctx.x[2] = (unsigned long)secondary_stack + sizeof secondary_stack;
  ctx.pc = (unsigned long)secondary;
  ctx.stvec = (unsigned long)trap_entry;
  ctx.satp = 0;
  rc = hypercall(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, (unsigned long)&ctx, 0, 0);
  check("a context with paging off: EINVAL", rc == -EINVAL, rc);
  ctx.satp = 0x80000000ul | va_to_mfn(scratch_page(0));
  rc = hypercall(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, (unsigned long)&ctx, 0, 0);
  check("a context whose root does not validate: EINVAL", rc == -EINVAL, rc);
  ctx.satp = csr_read(satp);
  rc = hypercall(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, (unsigned long)&ctx, 0, 0);
  check("initialise vCPU 1", rc == 0, rc);
  rc = hypercall(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, (unsigned long)&ctx, 0, 0);
  check("initialise it twice: EEXIST", rc == -EEXIST, rc);
  rc = hypercall(__HYPERVISOR_vcpu_op, VCPUOP_up, 1, 0, 0, 0);
  check("bring it up", rc == 0, rc);
  for (int i = 0; i < 100000; i++) __atomic_fetch_add(&smp_counter, 1, __ATOMIC_SEQ_CST);
  while (hypercall(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 1, 0, 0, 0) == 1) {
    hypercall(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0, 0);
  }
  check("both vCPUs counted, atomically", smp_counter == 200000, smp_counter);
  struct vcpu_runstate_info info;
  rc = hypercall(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 1, (unsigned long)&info, 0, 0);
  check("vCPU 1 ran and is offline now", rc == 0 && info.time[0] > 0 && info.state == RUNSTATE_offline, info.state);
  rc = hypercall(__HYPERVISOR_vcpu_op, VCPUOP_up, 7, 0, 0, 0);
  check("a vCPU that does not exist: ENOENT", rc == -ENOENT, rc);
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
  if (arg_is("test", "smp")) return test_smp();
  if (arg_is("test", "events2")) return test_events2();
  if (arg_is("test", "grants")) return test_grants_sbi();
  if (arg_is("test", "xenstore")) return test_xenstore();
  if (arg_is("test", "idle")) {
    printf_lite("main at %d us\n", (long)(main_time_ns / 1000));
    for (;;) hypercall(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, 0, 0);
  }
  if (arg_is("test", "crash")) return 1;
  print("unknown test\n");
  return 1;
}
