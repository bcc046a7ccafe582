/*
 * xstest.c — the xenstore client and grant table self-test (app=xstest), a kernel job: it drives
 * xenbus.c and gnttab.c the way the frontends do and checks every answer.
 *
 * Rules of use: PV only, with xenstored serving our ring (natively it fails at once, saying
 * why). Everything lives under data/xs-test (relative to our home path). Output, stable for
 * tests: one "xstest: <check> ok" or "xstest: <check> FAIL <why>" per check, then
 * "xstest: summary checks=N failed=F" and "app xstest: done checksum=0x........" (FNV-1a of the
 * checks' names) when F = 0. Checks:
 *   read/write/directory/rm, a missing node (-ENOENT), a node outside our home (-EACCES),
 *   a 2000-byte value (several ring-fulls each way), a transaction that commits, one that is
 *   discarded, one that conflicts (-EAGAIN), a watch that fires when set and again when dom0
 *   writes data/xs-test/poke (we write data/xs-test/ready first and wait up to 20 s), the grant
 *   table's setup, grant and revoke.
 * With peer=1 dom0 takes part in the grant checks: we grant a page and publish its reference in
 * data/xs-test/gref and wait for data/xs-test/mapped; revoking must fail with -EBUSY while dom0
 * maps it and must see the bytes dom0 wrote ("written by dom0"); we write revoke-busy and wait for
 * unmapped; then revoking must succeed.
 */
#include "xstest.h"

#include "args.h"
#include "console.h"
#include "frame.h"
#include "gnttab.h"
#include "pvops.h"
#include "string.h"
#include "timer.h"
#include "xenbus.h"

static uint32_t checks, failed, checksum = 2166136261u;

static void result(const char *name, bool ok, const char *fmt, long a, long b) {
  checks++;
  for (const char *c = name; *c != '\0'; c++) checksum = (checksum ^ (uint8_t)*c) * 16777619u;
  if (ok) {
    printk("xstest: %s ok\n", name);
    return;
  }
  failed++;
  char why[96];
  format(why, sizeof(why), fmt, a, b);
  printk("xstest: %s FAIL %s\n", name, why);
}

static void expect_rc(const char *name, long rc, long want) {
  result(name, rc == want, "rc=%ld, expected %ld", rc, want);
}

/* Waits until watch `w` has fired more than `seen` times; false at the deadline. */
static bool wait_fired(struct xs_watch *w, struct waitq *wq, uint32_t seen, uint64_t deadline) {
  while (w->fired <= seen) {
    if (!waitq_wait(wq, deadline) && now_ns() >= deadline) return false;
  }
  return true;
}

static void basic(void) {
  char buf[64];
  expect_rc("write", xs_write(XS_TX_NONE, "data/xs-test/a", "alpha"), 0);
  int rc = xs_read(XS_TX_NONE, "data/xs-test/a", buf, sizeof(buf));
  result("read", rc == 5 && strcmp(buf, "alpha") == 0, "rc=%ld value differs (%ld)", rc, 0);
  expect_rc("write second", xs_write(XS_TX_NONE, "data/xs-test/b", "beta"), 0);
  uint32_t count = 0;
  rc = xs_directory(XS_TX_NONE, "data/xs-test", buf, sizeof(buf), &count);
  bool has_a = false, has_b = false;
  for (const char *n = buf; rc > 0 && n < buf + rc; n += strlen(n) + 1) {
    if (strcmp(n, "a") == 0) has_a = true;
    if (strcmp(n, "b") == 0) has_b = true;
  }
  result("directory", rc > 0 && has_a && has_b, "rc=%ld count=%ld", rc, count);
  expect_rc("rm", xs_rm(XS_TX_NONE, "data/xs-test/b"), 0);
  expect_rc("read missing", xs_read(XS_TX_NONE, "data/xs-test/b", buf, sizeof(buf)), ERR(ENOENT));
  expect_rc("write outside home", xs_write(XS_TX_NONE, "/local/domain/0/xs-test", "x"),
            ERR(EACCES));
  uint64_t n = 0;
  expect_rc("write number", xs_printf(XS_TX_NONE, "data/xs-test/n", "%u", 123456789u), 0);
  rc = xs_read_u64(XS_TX_NONE, "data/xs-test/n", &n);
  result("read number", rc == 0 && n == 123456789u, "rc=%ld n=%ld", rc, (long)n);
}

static void large(void) {
  static char value[2001], back[2100];
  for (uint32_t i = 0; i < 2000; i++) value[i] = (char)('a' + (i * 7) % 26);
  value[2000] = '\0';
  expect_rc("write 2000 bytes", xs_write(XS_TX_NONE, "data/xs-test/big", value), 0);
  int rc = xs_read(XS_TX_NONE, "data/xs-test/big", back, sizeof(back));
  result("read 2000 bytes", rc == 2000 && memcmp(value, back, 2000) == 0, "rc=%ld", rc, 0);
}

static void transactions(void) {
  char buf[32];
  uint32_t tx = 0;
  int rc = xs_transaction_start(&tx);
  result("transaction start", rc == 0 && tx != 0, "rc=%ld tx=%ld", rc, tx);
  if (rc != 0) return;
  expect_rc("write in transaction", xs_write(tx, "data/xs-test/tx", "inside"), 0);
  expect_rc("invisible outside", xs_read(XS_TX_NONE, "data/xs-test/tx", buf, sizeof(buf)),
            ERR(ENOENT));
  expect_rc("commit", xs_transaction_end(tx, true), 0);
  rc = xs_read(XS_TX_NONE, "data/xs-test/tx", buf, sizeof(buf));
  result("visible after commit", rc == 6 && strcmp(buf, "inside") == 0, "rc=%ld", rc, 0);

  rc = xs_transaction_start(&tx);
  if (rc == 0) {
    xs_write(tx, "data/xs-test/discarded", "no");
    expect_rc("discard", xs_transaction_end(tx, false), 0);
  }
  expect_rc("discarded write", xs_read(XS_TX_NONE, "data/xs-test/discarded", buf, sizeof(buf)),
            ERR(ENOENT));

  rc = xs_transaction_start(&tx);
  if (rc == 0) {
    xs_read(tx, "data/xs-test/a", buf, sizeof(buf));
    xs_write(XS_TX_NONE, "data/xs-test/a", "changed meanwhile");
    xs_write(tx, "data/xs-test/a", "from the transaction");
    expect_rc("conflict", xs_transaction_end(tx, true), ERR(EAGAIN));
  }
  rc = xs_read(XS_TX_NONE, "data/xs-test/a", buf, sizeof(buf));
  result("conflict applied nothing", rc > 0 && strcmp(buf, "changed meanwhile") == 0, "rc=%ld",
         rc, 0);
}

static void watches(void) {
  static struct xs_watch w;
  static struct waitq wq;
  int rc = xs_watch_add(&w, "data/xs-test/poke", &wq);
  expect_rc("watch", rc, 0);
  if (rc != 0) return;
  uint64_t deadline = now_ns() + 20000000000ull;
  result("watch fires when set", wait_fired(&w, &wq, 0, deadline), "fired=%ld", w.fired, 0);
  uint32_t seen = w.fired;
  xs_write(XS_TX_NONE, "data/xs-test/ready", "1");
  bool fired = wait_fired(&w, &wq, seen, deadline);
  char buf[32] = "";
  if (fired) xs_read(XS_TX_NONE, "data/xs-test/poke", buf, sizeof(buf));
  result("watch fires on dom0's write", fired, "no event within 20 s (fired=%ld)", w.fired, 0);
  if (fired) printk("xstest: poke=%s\n", buf);
  expect_rc("unwatch", xs_watch_remove(&w), 0);
}

static void grants(bool peer) {
  int rc = gnttab_init();
  expect_rc("grant table setup", rc, 0);
  if (rc != 0) return;
  uint32_t free0 = gnttab_free_count();
  pfn_t pfn = frame_alloc_zeroed();
  if (pfn == PFN_NONE) {
    result("grant", false, "no memory", 0, 0);
    return;
  }
  int gref = gnttab_grant(0, pv->pfn_to_mfn(pfn), false);
  result("grant", gref >= (int)GNTTAB_RESERVED && gnttab_flags((uint32_t)gref) == GTF_permit_access,
         "gref=%ld flags=%ld", gref, gref >= 0 ? (long)gnttab_flags((uint32_t)gref) : 0);
  if (gref < 0) return;
  if (peer) {
    static struct xs_watch w;
    static struct waitq wq;
    uint64_t deadline = now_ns() + 20000000000ull;
    xs_watch_add(&w, "data/xs-test/mapped", &wq);
    wait_fired(&w, &wq, 0, deadline);
    uint32_t seen = w.fired;
    xs_printf(XS_TX_NONE, "data/xs-test/gref", "%u", (uint32_t)gref);
    bool mapped = wait_fired(&w, &wq, seen, deadline);
    result("dom0 maps the grant", mapped, "no word from dom0 within 20 s", 0, 0);
    xs_watch_remove(&w);
    if (mapped) {
      expect_rc("revoke while mapped", gnttab_try_end((uint32_t)gref), ERR(EBUSY));
      const char *text = pfn_to_va(pfn);
      result("dom0 wrote the page", strcmp(text, "written by dom0") == 0, "page differs", 0, 0);
      xs_watch_add(&w, "data/xs-test/unmapped", &wq);
      wait_fired(&w, &wq, 0, deadline);
      seen = w.fired;
      xs_write(XS_TX_NONE, "data/xs-test/revoke-busy", "1");
      bool unmapped = wait_fired(&w, &wq, seen, deadline);
      result("dom0 unmaps", unmapped, "no word from dom0 within 20 s", 0, 0);
      xs_watch_remove(&w);
    }
  }
  rc = gnttab_try_end((uint32_t)gref);
  expect_rc("revoke", rc, 0);
  result("revoked entry", gnttab_flags((uint32_t)gref) == 0, "flags=%ld",
         gnttab_flags((uint32_t)gref), 0);
  result("reference back on the free list", gnttab_free_count() == free0, "free=%ld, was %ld",
         gnttab_free_count(), free0);
  if (peer) xs_write(XS_TX_NONE, "data/xs-test/revoked", "1");
  if (rc == 0) frame_free(pfn);
}

int xstest_run(const char *cmdline) {
  int ok;
  bool peer = arg_u32(cmdline, "peer", 0, &ok) != 0;
  if (!pv->paravirtualized) {
    printk("app xstest: FAIL xenstore and grant tables need the hypervisor (running natively)\n");
    return 1;
  }
  int rc = xenbus_init();
  if (rc != 0) {
    printk("app xstest: FAIL xenbus: %d\n", rc);
    return 1;
  }
  basic();
  large();
  transactions();
  watches();
  grants(peer);
  struct xenbus_stats stats;
  xenbus_stats(&stats);
  printk("xstest: summary checks=%u failed=%u requests=%u watch_events=%u timeouts=%u\n", checks,
         failed, stats.requests, stats.watch_events, stats.timeouts);
  if (failed != 0) {
    printk("app xstest: FAIL %u check(s) failed\n", failed);
    return 1;
  }
  printk("app xstest: done checksum=0x%08x\n", checksum);
  return 0;
}
