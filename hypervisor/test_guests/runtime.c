/* Runtime of the hypervisor's test guests: console, arguments, time, traps, events. */
#include <stdarg.h>
#include "pv.h"

struct start_info *start;
volatile struct shared_info *shared;
volatile unsigned long trap_count[32];
volatile unsigned long irq_count[16];
volatile unsigned long last_scause, last_stval;
volatile int skip_faults;
void (*volatile event_handler)(unsigned port);

/* The shared-info page is mapped over this page of .bss (as Mini-OS does). */
static uint8_t shared_page[4096] __attribute__((aligned(4096)));

int test_main(void);

void print(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, n, (unsigned long)s, 0, 0);
}

static void put_digits(unsigned long v, unsigned base, int negative) {
  char buf[24];
  int i = 23;
  buf[i] = 0;
  do {
    unsigned d = v % base;
    buf[--i] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    v /= base;
  } while (v);
  if (negative) buf[--i] = '-';
  print(&buf[i]);
}

void print_dec(long v) { put_digits(v < 0 ? (unsigned long)-v : (unsigned long)v, 10, v < 0); }
void print_hex(unsigned long v) { print("0x"); put_digits(v, 16, 0); }

void printf_lite(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char chunk[2] = {0, 0};
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      chunk[0] = *fmt;
      print(chunk);
      continue;
    }
    fmt++;
    if (*fmt == 'd') print_dec(va_arg(ap, long));
    else if (*fmt == 'x') print_hex(va_arg(ap, unsigned long));
    else if (*fmt == 's') print(va_arg(ap, const char *));
    else if (*fmt == 'u') put_digits(va_arg(ap, unsigned long), 10, 0);
  }
  va_end(ap);
}

void shutdown(unsigned reason) {
  struct sched_shutdown request = {reason};
  hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (unsigned long)&request, 0, 0, 0);
  for (;;) {}
}

void guest_exit(int rc) { shutdown(rc == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash); }

/* The value of "key=<number>" on the command line, or fallback. */
long arg_value(const char *key, long fallback) {
  const char *p = (const char *)start->cmd_line;
  while (*p) {
    const char *k = key;
    const char *q = p;
    while (*k && *q == *k) q++, k++;
    if (!*k && *q == '=') {
      q++;
      long v = 0;
      int neg = *q == '-';
      if (neg) q++;
      while (*q >= '0' && *q <= '9') v = v * 10 + (*q++ - '0');
      return neg ? -v : v;
    }
    while (*p && *p != ' ') p++;
    while (*p == ' ') p++;
  }
  return fallback;
}

/* Whether the command line holds "key=value". */
int arg_is(const char *key, const char *value) {
  const char *p = (const char *)start->cmd_line;
  while (*p) {
    const char *k = key;
    const char *q = p;
    while (*k && *q == *k) q++, k++;
    if (!*k && *q == '=') {
      q++;
      const char *v = value;
      while (*v && *q == *v) q++, v++;
      if (!*v && (*q == ' ' || *q == 0)) return 1;
    }
    while (*p && *p != ' ') p++;
    while (*p == ' ') p++;
  }
  return 0;
}

uint64_t system_time_ns(void) {
  for (;;) {
    uint32_t version = shared->vcpu0_time[0];
    asm volatile("fence r, r");
    uint32_t ts_lo = shared->vcpu0_time[2], ts_hi = shared->vcpu0_time[3];
    uint32_t st_lo = shared->vcpu0_time[4], st_hi = shared->vcpu0_time[5];
    asm volatile("fence r, r");
    if ((version & 1) || version != shared->vcpu0_time[0]) continue;
    uint64_t ticks = ((uint64_t)csr_read(timeh) << 32) | csr_read(time);
    uint64_t stamp = ((uint64_t)ts_hi << 32) | ts_lo;
    return (((uint64_t)st_hi << 32) | st_lo) + (ticks - stamp) * 100;
  }
}

void memset_words(void *p, uint32_t v, size_t words) {
  uint32_t *w = p;
  while (words--) *w++ = v;
}

static void handle_events(void) {
  shared->vcpu0_evtchn_upcall_pending = 0;
  uint32_t sel = __atomic_exchange_n((volatile uint32_t *)&shared->vcpu0_evtchn_pending_sel, 0,
                                     __ATOMIC_SEQ_CST);
  for (unsigned w64 = 0; w64 < 32; w64++) {
    if (!(sel & (1u << w64))) continue;
    for (unsigned half = 0; half < 2; half++) {
      unsigned word = w64 * 2 + half;
      volatile uint32_t *pending = (volatile uint32_t *)shared->evtchn_pending + word;
      volatile uint32_t *mask = (volatile uint32_t *)shared->evtchn_mask + word;
      uint32_t ready = *pending & ~*mask;
      if (!ready) continue;
      __atomic_fetch_and(pending, ~ready, __ATOMIC_SEQ_CST);
      while (ready) {
        unsigned bit = __builtin_ctz(ready);
        ready &= ready - 1;
        if (event_handler) event_handler(word * 32 + bit);
      }
    }
  }
}

void trap(unsigned long *frame) {
  unsigned long cause = csr_read(scause);
  if (cause >> 31) {
    unsigned irq = cause & 15;
    irq_count[irq]++;
    if (irq == 9) handle_events();
    if (irq == 5) sbi_call(0x54494D45, 0, ~0ul, ~0ul); /* disarm the SBI timer */
    return;
  }
  trap_count[cause & 31]++;
  last_scause = cause;
  last_stval = csr_read(stval);
  if (cause == 8 && frame[11] == (unsigned long)-1) {
    /* The U-mode test code is done: return to S-mode where it was started from. */
    csr_write(sepc, csr_read(sscratch));
    csr_set(sstatus, 1 << 8);
    return;
  }
  if (skip_faults) {
    csr_write(sepc, csr_read(sepc) + 4);
    return;
  }
  printf_lite("test guest: unexpected trap cause %d stval %x sepc %x\n", cause, last_stval,
              csr_read(sepc));
  shutdown(SHUTDOWN_crash);
}

uint64_t main_time_ns;

int guest_main(struct start_info *si) {
  start = si;
  uint64_t pte = ((uint64_t)(si->shared_info >> 12) << 10) | 0xc7; /* V R W A D */
  long rc = hypercall(__HYPERVISOR_update_va_mapping, (unsigned long)shared_page,
                      (unsigned long)pte, 0, UVMF_INVLPG, 0);
  if (rc != 0) {
    print("test guest: cannot map shared info\n");
    return 1;
  }
  shared = (volatile struct shared_info *)shared_page;
  main_time_ns = system_time_ns();
  return test_main();
}
