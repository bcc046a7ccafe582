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
#include "pvops.h"
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
