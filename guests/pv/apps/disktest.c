/*
 * disktest.c — the disk exerciser: writes a pattern across the disk, reads it back and verifies
 * it, and measures the block path (PV only: the block frontend needs the hypervisor).
 *
 *   app=disktest [mode=verify|write|read|bench|exit] [dev=0] [sectors=N] [chunk=BYTES] [qd=N]
 *                [seed=N] [bench_mb=N] [bench_ops=N] [progress=N] [discard=1]
 *
 * Rules of use:
 *   - verify (default): write the pattern over sectors 0..N-1 (N = sectors=, default the whole
 *     disk) in requests of `chunk` bytes (default 65536, at most what the device takes) with `qd`
 *     (default 8, at most 32) in flight (the last one a write barrier if the backend offers
 *     them and it fits 11 pages), flush if the backend offers it, then read everything back and compare; with
 *     discard=1 (and the backend's feature-discard) the range is discarded at the end
 *     ("disktest: discarded sectors=N"). write: only the first half; read: only the second (a disk written
 *     earlier, by this or another guest). The pattern word w of sector s is
 *     pattern(seed, s, w) below; `tests/frontends` computes the same.
 *   - progress=N: during the writes, every N completions print
 *     "disktest: progress acked_sectors=S": sectors 0..S-1 have all been acknowledged (a test
 *     that kills the backend checks the image holds at least those).
 *   - exit: submits qd reads and, without reaping them, checks that their pages cannot be
 *     unmapped (-EBUSY) and exits: "disktest: exiting with N request(s) in flight" (the kernel
 *     waits for them before freeing the pages); checksum N.
 *   - bench: sequential writes and reads with 4 KiB and 64 KiB requests (qd in flight, bench_mb
 *     MiB each, default 4), then bench_ops (default 2048) random 4 KiB reads at queue depth 32,
 *     timed with the time CSR (10 MHz), with the guest instructions (U and S mode, instret) per
 *     request. It overwrites the start of the disk.
 *   - Output: "disktest: disk sectors=N sector_size=S max_bytes=M features=0x.. queue=Q",
 *     per phase "disktest: <phase> ... mbps=X.YY" (or iops=), and the protocol line; the
 *     checksum is the sum over the sectors written or read of (first pattern word ^ sector) *
 *     16777619, mod 2^32 (the same for write, read and verify of the same range, in whatever
 *     order requests complete), 0 for bench. Last, before the protocol line:
 *     "disktest: reconnects=R bad_responses=B" (times the backend went away and came back;
 *     responses the frontend ignored).
 */
#include "ulib.h"

#define BASE USER_HEAP_BASE
#define SECTOR 512u
#define WORDS_PER_SECTOR (SECTOR / 4)
#define TICKS_PER_SEC 10000000ull

static uint32_t dev;
static uint32_t seed;
static uint32_t hash;

static uint32_t pattern(uint32_t salt, uint64_t sector, uint32_t word) {
  uint32_t x = (uint32_t)sector * 0x9E3779B1u ^ (uint32_t)(sector >> 32) * 0x85EBCA77u ^
               word * 0xC2B2AE3Du ^ salt * 0x27D4EB2Fu;
  x ^= x >> 15;
  x *= 0x2C1B3C6Du;
  x ^= x >> 12;
  return x;
}

/* The checksum adds one term per sector, so it does not depend on the order requests
 * complete in. */
static void account(uint64_t sector, uint32_t first_word) {
  hash += (first_word ^ (uint32_t)sector) * 16777619u;
}

static void fill(uint32_t *buf, uint64_t sector, uint32_t count) {
  for (uint32_t s = 0; s < count; s++) {
    for (uint32_t w = 0; w < WORDS_PER_SECTOR; w++) {
      buf[s * WORDS_PER_SECTOR + w] = pattern(seed, sector + s, w);
    }
    account(sector + s, buf[s * WORDS_PER_SECTOR]);
  }
}

/* Returns the first bad sector, or ~0 if all match. */
static uint64_t check(const uint32_t *buf, uint64_t sector, uint32_t count, uint32_t *word,
                      uint32_t *got) {
  for (uint32_t s = 0; s < count; s++) {
    for (uint32_t w = 0; w < WORDS_PER_SECTOR; w++) {
      uint32_t want = pattern(seed, sector + s, w);
      if (buf[s * WORDS_PER_SECTOR + w] != want) {
        *word = w;
        *got = buf[s * WORDS_PER_SECTOR + w];
        return sector + s;
      }
    }
    account(sector + s, buf[s * WORDS_PER_SECTOR]);
  }
  return ~0ull;
}

enum { FILL_NONE, FILL_PATTERN, CHECK_PATTERN, RANDOM };

struct pass {
  uint32_t op;           /* PVK_BLK_READ / WRITE */
  uint64_t first, total; /* sectors */
  uint32_t chunk;        /* sectors per request */
  uint32_t qd;
  uint32_t data; /* FILL_* / CHECK_PATTERN / RANDOM (random chunk-aligned sectors, `total` ops) */
  uint64_t disk_sectors;
};

static char why[120];
/* progress=N: every N write completions, print how many leading sectors are acknowledged. */
static uint32_t progress_every;

static uint32_t rng = 0x12345678u;
static uint32_t next_random(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

/* Whether the last write of a pattern pass goes as a write barrier. */
static bool barrier_last;
/* Guest instructions (U and S mode) the last pass retired. */
static uint64_t last_instructions;

/* Runs one pass; returns the ticks it took, or 0 with `why` set. */
static uint64_t run(const struct pass *p) {
  uint64_t slot_sector[PVK_BLK_QUEUE_MAX];
  uint32_t slot_count[PVK_BLK_QUEUE_MAX];
  bool busy[PVK_BLK_QUEUE_MAX] = {0};
  /* Acknowledged chunks past the acknowledged prefix (chunks complete in any order). */
  bool acked[64] = {0};
  uint64_t prefix_chunk = 0, prefix_sectors = p->first;
  uint32_t since_progress = 0;
  uint32_t slot_bytes = ((p->chunk * SECTOR + 4095u) & ~4095u);
  uint64_t next = p->first;
  uint64_t end = p->first + p->total;
  uint64_t issued = 0;
  uint32_t inflight = 0;
  uint64_t i0 = rdinstret();
  uint64_t t0 = rdtime();
  while ((p->data == RANDOM ? issued < p->total : next < end) || inflight > 0) {
    while (inflight < p->qd && (p->data == RANDOM ? issued < p->total : next < end)) {
      uint32_t slot = 0;
      while (busy[slot]) slot++;
      uint64_t sector;
      uint32_t count;
      if (p->data == RANDOM) {
        uint64_t chunks = p->disk_sectors / p->chunk;
        sector = (uint64_t)(next_random() % (uint32_t)chunks) * p->chunk;
        count = p->chunk;
      } else {
        sector = next;
        count = end - next < p->chunk ? (uint32_t)(end - next) : p->chunk;
        next += count;
      }
      uint32_t buf = BASE + slot * slot_bytes;
      if (p->data == FILL_PATTERN) fill((uint32_t *)(uintptr_t)buf, sector, count);
      /* The last write of a pattern pass is a barrier when the backend offers one. */
      uint32_t op = p->op;
      if (barrier_last && op == PVK_BLK_WRITE && p->data == FILL_PATTERN && next == end &&
          count <= 11 * 4096 / SECTOR) {
        op = PVK_BLK_BARRIER;
      }
      struct pvk_blk_req req = {.op = op, .tag = slot, .sector = sector, .count = count, .buf = buf};
      long rc = sys_blk_submit(dev, &req);
      if (rc != 0) {
        format(why, sizeof(why), "submitting %u sectors at %llu returned %ld", count, sector, rc);
        return 0;
      }
      busy[slot] = true;
      slot_sector[slot] = sector;
      slot_count[slot] = count;
      inflight++;
      issued++;
    }
    struct pvk_blk_done done[PVK_BLK_QUEUE_MAX];
    long n = sys_blk_reap(dev, done, PVK_BLK_QUEUE_MAX, 1);
    if (n <= 0) {
      format(why, sizeof(why), "reaping returned %ld with %u in flight", n, inflight);
      return 0;
    }
    for (long i = 0; i < n; i++) {
      uint32_t slot = done[i].tag;
      if (slot >= PVK_BLK_QUEUE_MAX || !busy[slot]) {
        format(why, sizeof(why), "a completion carries tag %u, which is not in flight", slot);
        return 0;
      }
      if (done[i].status != 0) {
        format(why, sizeof(why), "%s of %u sectors at %llu failed: %d",
               p->op == PVK_BLK_READ ? "reading" : "writing", slot_count[slot],
               slot_sector[slot], done[i].status);
        return 0;
      }
      if (p->data == CHECK_PATTERN) {
        uint32_t word = 0, got = 0;
        uint64_t bad = check((const uint32_t *)(uintptr_t)(BASE + slot * slot_bytes),
                             slot_sector[slot], slot_count[slot], &word, &got);
        if (bad != ~0ull) {
          format(why, sizeof(why), "sector %llu word %u reads 0x%08x, wrote 0x%08x", bad, word,
                 got, pattern(seed, bad, word));
          return 0;
        }
      }
      busy[slot] = false;
      inflight--;
      if (progress_every != 0 && p->op == PVK_BLK_WRITE && p->data == FILL_PATTERN) {
        uint64_t chunk = (slot_sector[slot] - p->first) / p->chunk;
        acked[chunk % 64] = true;
        while (acked[prefix_chunk % 64]) {
          acked[prefix_chunk % 64] = false;
          prefix_chunk++;
          prefix_sectors += p->chunk;
        }
        if (++since_progress >= progress_every) {
          since_progress = 0;
          printf("disktest: progress acked_sectors=%llu\n", prefix_sectors < end ? prefix_sectors : end);
        }
      }
    }
  }
  uint64_t ticks = rdtime() - t0;
  last_instructions = rdinstret() - i0;
  return ticks == 0 ? 1 : ticks;
}

static uint64_t mbps100(uint64_t bytes, uint64_t ticks) {
  /* bytes / (ticks / 10^7 s) / 10^6, in hundredths. */
  return bytes * 1000u / ticks;
}

static int flush(const struct pvk_blk_info *info) {
  if ((info->features & PVK_BLK_F_FLUSH) == 0) return 0;
  struct pvk_blk_req req = {.op = PVK_BLK_FLUSH, .tag = 0, .sector = 0, .count = 0, .buf = 0};
  long rc = sys_blk_submit(dev, &req);
  if (rc != 0) return (int)rc;
  struct pvk_blk_done done;
  rc = sys_blk_reap(dev, &done, 1, 1);
  if (rc != 1) return rc < 0 ? (int)rc : -(int)EIO;
  return done.status;
}

static int bench(const struct pvk_blk_info *info, uint32_t qd, uint32_t mb, uint32_t ops) {
  static const uint32_t sizes[2] = {4096, 65536};
  char a[24];
  for (uint32_t op = PVK_BLK_WRITE;; op = PVK_BLK_READ) {
    for (uint32_t k = 0; k < 2; k++) {
      uint32_t req = sizes[k] <= info->max_bytes ? sizes[k] : info->max_bytes & ~4095u;
      uint64_t total = (uint64_t)mb * 2048u;
      if (total > info->sectors) total = info->sectors - info->sectors % (req / SECTOR);
      struct pass p = {op, 0, total, req / SECTOR, qd, FILL_NONE, info->sectors};
      uint64_t ticks = run(&p);
      if (ticks == 0) return app_fail("disktest", "%s", why);
      printf("disktest: bench seq_%s req=%u qd=%u bytes=%llu mbps=%s insns_per_req=%llu\n",
             op == PVK_BLK_WRITE ? "write" : "read", req, qd, total * SECTOR,
             fixed2(a, sizeof(a), mbps100(total * SECTOR, ticks)),
             last_instructions / (total * SECTOR / req));
    }
    if (op == PVK_BLK_READ) break;
  }
  struct pass p = {PVK_BLK_READ, 0, ops, 8, 32, RANDOM, info->sectors};
  uint64_t ticks = run(&p);
  if (ticks == 0) return app_fail("disktest", "%s", why);
  printf("disktest: bench rand_read req=4096 qd=32 ops=%u iops=%llu mbps=%s insns_per_req=%llu\n",
         ops, (uint64_t)ops * TICKS_PER_SEC / ticks,
         fixed2(a, sizeof(a), mbps100((uint64_t)ops * 4096u, ticks)), last_instructions / ops);
  return 0;
}

/* mode=exit: requests' pages cannot be unmapped while in flight, and exiting with requests in
 * flight is safe (the kernel waits for them before it frees the pages). */
static int exit_in_flight(uint32_t qd, uint32_t chunk_sectors) {
  uint32_t slot_bytes = (chunk_sectors * SECTOR + 4095u) & ~4095u;
  for (uint32_t i = 0; i < qd; i++) {
    struct pvk_blk_req req = {.op = PVK_BLK_READ,
                              .tag = i,
                              .sector = (uint64_t)i * chunk_sectors,
                              .count = chunk_sectors,
                              .buf = BASE + i * slot_bytes};
    long rc = sys_blk_submit(dev, &req);
    if (rc != 0) return app_fail("disktest", "submitting request %u returned %ld", i, rc);
  }
  long rc = sys_mem_unmap(BASE, 1);
  if (rc != -(long)EBUSY) {
    return app_fail("disktest", "unmapping a page under a request returned %ld, not -EBUSY", rc);
  }
  printf("disktest: exiting with %u request(s) in flight\n", qd);
  return app_done("disktest", qd);
}

int main(const char *cmdline) {
  char mode[8];
  int ok_dev, ok_sectors, ok_chunk, ok_qd, ok_seed, ok_mb, ok_ops, ok_progress, ok_discard;
  if (!arg_str(cmdline, "mode", mode, sizeof(mode))) strlcpy(mode, "verify", sizeof(mode));
  dev = arg_u32(cmdline, "dev", 0, &ok_dev);
  uint32_t limit = arg_u32(cmdline, "sectors", 0, &ok_sectors);
  uint32_t chunk = arg_u32(cmdline, "chunk", 65536, &ok_chunk);
  uint32_t qd = arg_u32(cmdline, "qd", 8, &ok_qd);
  seed = arg_u32(cmdline, "seed", 1, &ok_seed);
  uint32_t mb = arg_u32(cmdline, "bench_mb", 4, &ok_mb);
  uint32_t ops = arg_u32(cmdline, "bench_ops", 2048, &ok_ops);
  progress_every = arg_u32(cmdline, "progress", 0, &ok_progress);
  bool discard = arg_u32(cmdline, "discard", 0, &ok_discard) != 0;
  bool verify = strcmp(mode, "verify") == 0, write_only = strcmp(mode, "write") == 0,
       read_only = strcmp(mode, "read") == 0, bench_mode = strcmp(mode, "bench") == 0,
       exit_mode = strcmp(mode, "exit") == 0;
  if (!verify && !write_only && !read_only && !bench_mode && !exit_mode) {
    return app_fail("disktest", "mode= must be verify, write, read, bench or exit");
  }
  if (!ok_dev || !ok_sectors || !ok_chunk || !ok_qd || !ok_seed || !ok_mb || !ok_ops ||
      !ok_progress || !ok_discard) {
    return app_fail("disktest", "a number on the command line is malformed");
  }
  if (qd == 0 || qd > PVK_BLK_QUEUE_MAX) return app_fail("disktest", "qd= must be 1..32");
  if (chunk == 0 || chunk % SECTOR != 0) return app_fail("disktest", "chunk= must be n * 512");

  struct pvk_blk_info info;
  long rc = sys_blk_info(dev, &info);
  if (rc == -(long)ENOSYS) {
    return app_fail("disktest", "no block device: the kernel runs natively (block frontends "
                                "need the hypervisor and xenstore)");
  }
  if (rc != 0) return app_fail("disktest", "device %u: error %ld", dev, rc);
  printf("disktest: disk dev=%u devid=%u sectors=%llu sector_size=%u max_bytes=%u "
         "features=0x%x queue=%u\n",
         dev, info.devid, info.sectors, info.sector_size, info.max_bytes, info.features,
         info.queue_depth);
  if (chunk > info.max_bytes) chunk = info.max_bytes & ~(SECTOR - 1);
  uint32_t chunk_sectors = chunk / SECTOR;
  uint32_t slot_bytes = (chunk + 4095u) & ~4095u;
  uint32_t need = bench_mode ? (qd > 32 ? qd : 32) * 65536u : qd * slot_bytes;
  if (bench_mode && need < qd * 65536u) need = qd * 65536u;
  rc = map_pages(BASE, need / 4096u);
  if (rc != 0) return app_fail("disktest", "mapping %u buffer pages: error %ld", need / 4096u, rc);

  if (exit_mode) return exit_in_flight(qd, chunk_sectors);
  if (bench_mode) {
    int r = bench(&info, qd, mb, ops);
    if (r != 0) return r;
    sys_blk_info(dev, &info);
    printf("disktest: reconnects=%u bad_responses=%u\n", info.reconnects, info.bad_responses);
    return app_done("disktest", 0);
  }

  uint64_t total = info.sectors;
  if (ok_sectors && limit != 0 && limit < total) total = limit;
  barrier_last = (info.features & PVK_BLK_F_BARRIER) != 0;
  char a[24];
  if (!read_only) {
    struct pass p = {PVK_BLK_WRITE, 0, total, chunk_sectors, qd, FILL_PATTERN, info.sectors};
    uint64_t ticks = run(&p);
    if (ticks == 0) return app_fail("disktest", "%s", why);
    rc = flush(&info);
    if (rc != 0) return app_fail("disktest", "flush failed: %ld", rc);
    printf("disktest: wrote sectors=%llu chunk=%u qd=%u mbps=%s\n", total, chunk, qd,
           fixed2(a, sizeof(a), mbps100(total * SECTOR, ticks)));
  }
  if (!write_only) {
    if (verify) hash = 0; /* the checksum covers what was read back */
    struct pass p = {PVK_BLK_READ, 0, total, chunk_sectors, qd, CHECK_PATTERN, info.sectors};
    uint64_t ticks = run(&p);
    if (ticks == 0) return app_fail("disktest", "%s", why);
    printf("disktest: verified sectors=%llu chunk=%u qd=%u mbps=%s\n", total, chunk, qd,
           fixed2(a, sizeof(a), mbps100(total * SECTOR, ticks)));
  }
  if (discard && (info.features & PVK_BLK_F_DISCARD) != 0) {
    struct pvk_blk_req req = {.op = PVK_BLK_DISCARD, .tag = 0, .sector = 0, .count = (uint32_t)total,
                              .buf = 0};
    struct pvk_blk_done done;
    rc = sys_blk_submit(dev, &req);
    if (rc == 0) rc = sys_blk_reap(dev, &done, 1, 1) == 1 ? done.status : -(long)EIO;
    if (rc != 0) return app_fail("disktest", "discarding returned %ld", rc);
    printf("disktest: discarded sectors=%llu\n", total);
  }
  sys_blk_info(dev, &info);
  printf("disktest: reconnects=%u bad_responses=%u\n", info.reconnects, info.bad_responses);
  return app_done("disktest", hash);
}
