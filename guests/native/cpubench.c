/*
 * cpubench.c — a CPU-bound benchmark in four parts: an integer loop, CRC32 over a buffer,
 * an integer matrix multiply and a heapsort of pseudo-random numbers; about 1.5 G RV32
 * instructions in all.
 *
 * Rules of use: the same source builds as the `cpubench` guest image and as a host
 * program (see cpubench.h), and both print the same checksum lines, one per part plus a
 * combined one, so that a benchmark run can check every machine did the same work. All
 * arithmetic is uint32_t with explicit wrap-around; nothing depends on int's width beyond
 * 32 bits. The guest also prints each part's instruction count and the exact total between
 * the start and the end of main ("instret N"). Exits 0, or 1 if a sort came out unsorted.
 * Change the work sizes and every recorded checksum and instret figure changes.
 */
#include <stdint.h>

#include "cpubench.h"

#define LOOP_ITERATIONS 22700000u
#define CRC_BUFFER_BYTES 16384u
#define CRC_ROUNDS 2290u
#define MATRIX_N 40u
#define MATRIX_ROUNDS 790u
#define SORT_ELEMENTS 8192u
#define SORT_ROUNDS 171u

static uint32_t crc_table[256];
static uint8_t crc_buffer[CRC_BUFFER_BYTES];
static uint32_t mat_a[MATRIX_N][MATRIX_N];
static uint32_t mat_b[MATRIX_N][MATRIX_N];
static uint32_t mat_c[MATRIX_N][MATRIX_N];
static uint32_t sort_array[SORT_ELEMENTS];

/* --- output: our own formatting, so every platform prints identical bytes --- */

static void write_hex(uint32_t value) {
  char buf[11];
  buf[0] = '0';
  buf[1] = 'x';
  for (int i = 0; i < 8; i++) {
    buf[2 + i] = "0123456789abcdef"[(value >> (28 - 4 * i)) & 0xFu];
  }
  buf[10] = '\0';
  plat_write(buf);
}

static void write_dec(uint64_t value) {
  char buf[21];
  int n = 20;
  buf[n] = '\0';
  do {
    buf[--n] = (char)('0' + (uint32_t)(value % 10u));
    value /= 10u;
  } while (value != 0);
  plat_write(&buf[n]);
}

static uint64_t part_start;

static void begin_part(void) {
  plat_instret(&part_start);
}

static void report(const char *name, uint32_t checksum) {
  uint64_t now;
  plat_write(name);
  plat_write(" checksum ");
  write_hex(checksum);
  plat_write("\n");
  if (plat_instret(&now)) {
    plat_write(name);
    plat_write(" instret ");
    write_dec(now - part_start);
    plat_write("\n");
  }
}

/* --- a small deterministic PRNG (xorshift32) --- */

static uint32_t rng_state = 0x2545F491u;

static uint32_t rng_next(void) {
  uint32_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng_state = x;
  return x;
}

/* --- part 1: integer loop: an LCG, rotates, a data-dependent branch --- */

static uint32_t part_loop(uint32_t iterations) {
  uint32_t a = 1u;
  uint32_t b = 0x9E3779B9u;
  uint32_t c = 0u;
  for (uint32_t i = 0; i < iterations; i++) {
    a = a * 1664525u + 1013904223u;
    b ^= a >> 7;
    b = (b << 3) | (b >> 29);
    c += (a ^ b) & (i | 0x55u);
    if (a & 0x100u) {
      c ^= b;
    } else {
      c -= a;
    }
  }
  return a ^ b ^ c;
}

/* --- part 2: table-driven CRC32 (reflected, polynomial 0xEDB88320) --- */

static void crc_init(void) {
  for (uint32_t i = 0; i < 256u; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) {
      c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    crc_table[i] = c;
  }
  for (uint32_t i = 0; i < CRC_BUFFER_BYTES; i++) {
    crc_buffer[i] = (uint8_t)rng_next();
  }
}

static uint32_t crc32(const uint8_t *data, uint32_t length) {
  uint32_t crc = 0xFFFFFFFFu;
  for (uint32_t i = 0; i < length; i++) {
    crc = crc_table[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

static uint32_t part_crc(uint32_t rounds) {
  uint32_t sum = 0;
  crc_init();
  for (uint32_t r = 0; r < rounds; r++) {
    uint32_t crc = crc32(crc_buffer, CRC_BUFFER_BYTES);
    sum = (sum << 1 | sum >> 31) ^ crc;
    crc_buffer[(r * 2654435761u) % CRC_BUFFER_BYTES] ^= (uint8_t)crc; /* next round differs */
  }
  return sum;
}

/* --- part 3: integer matrix multiply, each product feeding the next --- */

static uint32_t part_matmul(uint32_t rounds) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i < MATRIX_N; i++) {
    for (uint32_t j = 0; j < MATRIX_N; j++) {
      mat_a[i][j] = rng_next() & 0xFFFFu;
      mat_b[i][j] = rng_next() & 0xFFFFu;
    }
  }
  for (uint32_t r = 0; r < rounds; r++) {
    for (uint32_t i = 0; i < MATRIX_N; i++) {
      for (uint32_t j = 0; j < MATRIX_N; j++) {
        uint32_t acc = 0;
        for (uint32_t k = 0; k < MATRIX_N; k++) {
          acc += mat_a[i][k] * mat_b[k][j];
        }
        mat_c[i][j] = acc;
      }
    }
    for (uint32_t i = 0; i < MATRIX_N; i++) {
      sum += mat_c[i][i] ^ mat_c[i][MATRIX_N - 1 - i];
      for (uint32_t j = 0; j < MATRIX_N; j++) {
        mat_a[i][j] = (mat_c[i][j] >> 16) ^ (mat_c[i][j] & 0xFFFFu) ^ r;
      }
    }
  }
  return sum;
}

/* --- part 4: heapsort of pseudo-random words --- */

static void sift_down(uint32_t *a, uint32_t root, uint32_t end) {
  uint32_t value = a[root];
  for (;;) {
    uint32_t child = 2u * root + 1u;
    if (child >= end) {
      break;
    }
    if (child + 1u < end && a[child] < a[child + 1u]) {
      child++;
    }
    if (value >= a[child]) {
      break;
    }
    a[root] = a[child];
    root = child;
  }
  a[root] = value;
}

static void heap_sort(uint32_t *a, uint32_t n) {
  for (uint32_t i = n / 2u; i-- > 0;) {
    sift_down(a, i, n);
  }
  for (uint32_t end = n - 1u; end > 0; end--) {
    uint32_t top = a[0];
    a[0] = a[end];
    a[end] = top;
    sift_down(a, 0, end);
  }
}

static int sort_failed;

static uint32_t part_sort(uint32_t rounds) {
  uint32_t sum = 0;
  for (uint32_t r = 0; r < rounds; r++) {
    for (uint32_t i = 0; i < SORT_ELEMENTS; i++) {
      sort_array[i] = rng_next();
    }
    heap_sort(sort_array, SORT_ELEMENTS);
    for (uint32_t i = 0; i < SORT_ELEMENTS; i++) {
      if (i > 0 && sort_array[i - 1] > sort_array[i]) {
        sort_failed = 1;
      }
      sum = sum * 31u + (sort_array[i] ^ i);
    }
  }
  return sum;
}

int main(void) {
  uint64_t start;
  uint64_t end;
  int counted = plat_instret(&start);
  plat_write("cpubench: integer loop, CRC32, matrix multiply, heapsort\n");

  begin_part();
  uint32_t loop = part_loop(LOOP_ITERATIONS);
  report("loop", loop);
  begin_part();
  uint32_t crc = part_crc(CRC_ROUNDS);
  report("crc32", crc);
  begin_part();
  uint32_t matmul = part_matmul(MATRIX_ROUNDS);
  report("matmul", matmul);
  begin_part();
  uint32_t sorted = part_sort(SORT_ROUNDS);
  report("sort", sorted);

  uint32_t combined = loop;
  combined = (combined << 5 | combined >> 27) ^ crc;
  combined = (combined << 5 | combined >> 27) ^ matmul;
  combined = (combined << 5 | combined >> 27) ^ sorted;
  plat_write("combined checksum ");
  write_hex(combined);
  plat_write("\n");
  if (sort_failed) {
    plat_write("FAIL: a sorted array was out of order\n");
    return 1;
  }
  if (counted && plat_instret(&end)) {
    plat_write("instret ");
    write_dec(end - start);
    plat_write("\n");
  }
  return 0;
}
