/*
 * ringgarbage.c — the hostile block frontend (app=ringgarbage): it connects to block device
 * dev= (default 0) like any guest, then writes malformed requests straight into the shared ring
 * and reports how the backend answered each. Shared memory is hostile in this direction too; the
 * backend must answer every bad request with an error or disconnect us, and must never do one.
 *
 * Rules of use: PV only. Output, stable for tests:
 *   "ringgarbage: <attempt>: status=<n> <verdict>"   verdicts:
 *       error         an error response (BLKIF_RSP_ERROR or BLKIF_RSP_EOPNOTSUPP): refused
 *       disconnected  the backend dropped the connection instead: refused
 *       silent        no answer within 3 s (not a hole, but reported)
 *       skipped       the device was not connected again after an earlier disconnect
 *       FAIL          the request succeeded: a hole in the backend
 *   "ringgarbage: summary attempts=N errors=E disconnects=D silent=S skipped=K failed=F"
 *   "app ringgarbage: done checksum=0x........" (FNV-1a of the attempts' names) when F = 0 and
 *   the baseline request (a good one, first) succeeded.
 * The last attempt corrupts the request producer index (more than a ring ahead); afterwards we
 * wait up to 20 s for the backend to come back and check that a good request works again.
 */
#include "ringgarbage.h"

#include "args.h"
#include "blkfront.h"
#include "console.h"
#include "frame.h"
#include "gnttab.h"
#include "pvops.h"
#include "string.h"
#include "timer.h"

#define ANSWER_NS 3000000000ull
#define RECONNECT_NS 20000000000ull

struct tally {
  uint32_t attempts, errors, disconnects, silent, skipped, failed;
  uint32_t checksum;
};

static struct tally tally;
static struct blkfront *dev;
static uint32_t backend;
static uint64_t disk_sectors;
static mfn_t data_mfn;
static int data_gref = -1;

static void count_name(const char *name) {
  tally.attempts++;
  for (const char *c = name; *c != '\0'; c++) {
    tally.checksum = (tally.checksum ^ (uint8_t)*c) * 16777619u;
  }
}

/* Sends one raw request and records the verdict; returns the response status (or 1 when none). */
static int attempt(const char *name, const void *req, uint32_t size, bool should_fail) {
  count_name(name);
  if (!blkfront_connected(dev) && blkfront_wait_connected(dev, now_ns() + RECONNECT_NS) != 0) {
    tally.skipped++;
    printk("ringgarbage: %s: status=none skipped\n", name);
    return 1;
  }
  int id = blkfront_raw_submit(dev, req, size);
  if (id < 0) {
    tally.skipped++;
    printk("ringgarbage: %s: status=%d skipped\n", name, id);
    return 1;
  }
  int status = 0;
  int rc = blkfront_raw_wait(dev, id, now_ns() + ANSWER_NS, &status);
  const char *verdict;
  if (rc == ERR(ENXIO)) {
    tally.disconnects++;
    verdict = "disconnected";
    status = 1;
  } else if (rc == ERR(ETIMEDOUT)) {
    tally.silent++;
    verdict = "silent";
    status = 1;
  } else if (status != BLKIF_RSP_OKAY) {
    tally.errors++;
    verdict = should_fail ? "error" : "FAIL";
    if (!should_fail) tally.failed++;
  } else {
    verdict = should_fail ? "FAIL" : "ok";
    if (should_fail) tally.failed++;
  }
  printk("ringgarbage: %s: status=%d %s\n", name, status, verdict);
  return status;
}

static struct blkif_request read_req(uint64_t sector, uint32_t gref) {
  struct blkif_request r;
  memset(&r, 0, sizeof(r));
  r.operation = BLKIF_OP_READ;
  r.nr_segments = 1;
  r.sector_number = sector;
  r.seg[0].gref = gref;
  r.seg[0].first_sect = 0;
  r.seg[0].last_sect = 7;
  return r;
}

static void garbage(void) {
  struct blkif_request r;

  r = read_req(0, (uint32_t)data_gref);
  r.operation = 99;
  attempt("unknown operation", &r, sizeof(r), true);

  r = read_req(0, (uint32_t)data_gref);
  r.nr_segments = 0;
  attempt("read with no segments", &r, sizeof(r), true);

  r = read_req(0, (uint32_t)data_gref);
  r.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
  for (uint32_t i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) r.seg[i] = r.seg[0];
  attempt("12 segments", &r, sizeof(r), true);

  r = read_req(0, 0xFFFFFFu);
  attempt("gref past the table", &r, sizeof(r), true);

  r = read_req(0, 3);
  attempt("gref never granted", &r, sizeof(r), true);

  int other = gnttab_grant(backend + 7, data_mfn, false);
  if (other >= 0) {
    r = read_req(0, (uint32_t)other);
    attempt("gref granted to another domain", &r, sizeof(r), true);
    gnttab_end((uint32_t)other);
  }

  int readonly = gnttab_grant(backend, data_mfn, true);
  if (readonly >= 0) {
    r = read_req(0, (uint32_t)readonly);
    attempt("read into a read-only grant", &r, sizeof(r), true);
    gnttab_end((uint32_t)readonly);
  }

  r = read_req(0, (uint32_t)data_gref);
  r.seg[0].first_sect = 5;
  r.seg[0].last_sect = 2;
  attempt("first_sect after last_sect", &r, sizeof(r), true);

  r = read_req(0, (uint32_t)data_gref);
  r.seg[0].last_sect = 8;
  attempt("last_sect past the page", &r, sizeof(r), true);

  r = read_req(disk_sectors, (uint32_t)data_gref);
  attempt("sector past the end", &r, sizeof(r), true);

  r = read_req(disk_sectors - 4, (uint32_t)data_gref);
  attempt("range running past the end", &r, sizeof(r), true);

  r = read_req(0x8000000000000000ull, (uint32_t)data_gref);
  attempt("sector 2^63", &r, sizeof(r), true);

  struct blkif_request_indirect ind;
  memset(&ind, 0, sizeof(ind));
  ind.operation = BLKIF_OP_INDIRECT;
  ind.indirect_op = BLKIF_OP_READ;
  ind.nr_segments = 4096;
  ind.indirect_grefs[0] = (uint32_t)data_gref;
  attempt("indirect with 4096 segments", &ind, sizeof(ind), true);

  ind.nr_segments = 2;
  ind.indirect_grefs[0] = 0xFFFFFFu;
  attempt("indirect page not granted", &ind, sizeof(ind), true);

  struct blkif_request_discard disc;
  memset(&disc, 0, sizeof(disc));
  disc.operation = BLKIF_OP_DISCARD;
  disc.sector_number = disk_sectors - 1;
  disc.nr_sectors = 0xFFFFFFFFull;
  attempt("discard past the end", &disc, sizeof(disc), true);

  r = read_req(0, (uint32_t)data_gref);
  r.operation = BLKIF_OP_WRITE;
  r.seg[0].gref = 0xFFFFFFu;
  attempt("write from a bad gref", &r, sizeof(r), true);
}

static void corrupt_index(void) {
  count_name("producer index a ring ahead");
  uint32_t generation = blkfront_generation(dev);
  blkfront_raw_bump_req_prod(dev, 1000);
  uint64_t deadline = now_ns() + ANSWER_NS;
  while (blkfront_connected(dev) && blkfront_generation(dev) == generation &&
         now_ns() < deadline) {
    thread_sleep_until(now_ns() + 10000000ull);
  }
  if (!blkfront_connected(dev) || blkfront_generation(dev) != generation) {
    tally.disconnects++;
    printk("ringgarbage: producer index a ring ahead: status=1 disconnected\n");
  } else {
    tally.silent++;
    printk("ringgarbage: producer index a ring ahead: status=1 silent\n");
  }
}

int ringgarbage_run(const char *cmdline) {
  int ok;
  uint32_t index = arg_u32(cmdline, "dev", 0, &ok);
  int rc;
  tally.checksum = 2166136261u;
  dev = blkfront_get(index, &rc);
  if (dev == NULL) {
    printk("app ringgarbage: FAIL block device %u: error %d%s\n", index, rc,
           rc == ERR(ENOSYS) ? " (running natively: no frontends)" : "");
    return 1;
  }
  struct pvk_blk_info info;
  blkfront_info(dev, &info);
  disk_sectors = info.sectors;
  backend = blkfront_backend_domid(dev);
  pfn_t pfn = frame_alloc_zeroed();
  if (pfn == PFN_NONE || disk_sectors < 16) {
    printk("app ringgarbage: FAIL no memory or a disk smaller than 16 sectors\n");
    return 1;
  }
  data_mfn = pv->pfn_to_mfn(pfn);
  data_gref = gnttab_grant(backend, data_mfn, false);
  if (data_gref < 0) {
    printk("app ringgarbage: FAIL granting a page: %d\n", data_gref);
    return 1;
  }
  printk("ringgarbage: start dev=%u sectors=%llu backend=%u\n", index, disk_sectors, backend);
  struct blkif_request good = read_req(0, (uint32_t)data_gref);
  bool baseline = attempt("baseline good read", &good, sizeof(good), false) == BLKIF_RSP_OKAY;
  garbage();
  corrupt_index();
  bool again = blkfront_wait_connected(dev, now_ns() + RECONNECT_NS) == 0 &&
               attempt("good read afterwards", &good, sizeof(good), false) == BLKIF_RSP_OKAY;
  if (!again) printk("ringgarbage: the device did not work again after the corrupt index\n");
  gnttab_end((uint32_t)data_gref);
  printk("ringgarbage: summary attempts=%u errors=%u disconnects=%u silent=%u skipped=%u "
         "failed=%u\n",
         tally.attempts, tally.errors, tally.disconnects, tally.silent, tally.skipped,
         tally.failed);
  if (tally.failed != 0 || !baseline) {
    printk("app ringgarbage: FAIL %s\n",
           !baseline ? "the baseline request did not succeed" : "a bad request succeeded");
    return 1;
  }
  printk("app ringgarbage: done checksum=0x%08x\n", tally.checksum);
  return 0;
}
