/*
 * console.c — printk and panic of console.h.
 *
 * Rules of use: see console.h. Before pvops_select has run (pv == NULL) output goes straight
 * to the SBI legacy console, which both the board's firmware and the hypervisor serve. With
 * console=ring (consfront.h) output goes to the console ring once it is up, and back to the
 * pv-ops console if the ring fails.
 */
#include "console.h"

#include "consfront.h"
#include "events.h"
#include "hypercall.h"
#include "pvops.h"
#include "thread.h"
#include "timer.h"
#include "sbi.h"

void console_write(const char *buf, size_t len) {
  if (consfront_active() && consfront_write(buf, len)) return;
  if (pv != NULL) {
    pv->console_write(buf, len);
    return;
  }
  for (size_t i = 0; i < len; i++) sbi_putchar(buf[i]);
}

void printk(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vformat(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  console_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void panic(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vformat(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  printk("pvkernel: panic: ");
  console_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
  printk("\n");
  if (pv != NULL) pv->shutdown(SHUTDOWN_crash);
  sbi_system_reset(SBI_SRST_SHUTDOWN, SBI_SRST_REASON_FAILURE);
  for (;;) __asm__ volatile("wfi");
}

static struct waitq io_input_wq;
static bool virq_bound;

static void console_virq(uint32_t port) {
  (void)port;
  waitq_wake_all(&io_input_wq);
}

uint32_t console_read(char *buf, uint32_t len) {
  if (len == 0) return 0;
  if (consfront_active()) return consfront_read(buf, len);
  if (pv != NULL && pv->paravirtualized) {
    /* Bound before the first look, so input that arrives after it always wakes the reader. */
    if (!virq_bound) virq_bound = evtchn_bind_virq(VIRQ_CONSOLE, console_virq) >= 0;
    long n = hypercall5(__HYPERVISOR_console_io, CONSOLEIO_read, len, HYPERCALL_PTR(buf), 0, 0);
    return n > 0 ? (uint32_t)n : 0;
  }
  uint32_t n = 0;
  while (n < len) {
    struct sbiret r = sbi_call(SBI_LEGACY_GETCHAR, 0, 0, 0, 0);
    if (r.error < 0) break;
    buf[n++] = (char)r.error;
  }
  return n;
}

void console_wait_input(uint64_t deadline_ns) {
  if (consfront_active()) {
    waitq_wait(consfront_waitq(), deadline_ns);
  } else if (pv != NULL && pv->paravirtualized) {
    waitq_wait(&io_input_wq, deadline_ns);
  } else {
    uint64_t soon = now_ns() + 10000000ull;
    thread_sleep_until(deadline_ns != 0 && deadline_ns < soon ? deadline_ns : soon);
  }
}
