/*
 * fdt.c — the device-tree reader of fdt.h.
 *
 * Rules of use: see fdt.h. The structure block is a stream of big-endian 32-bit tokens
 * (BEGIN_NODE name, PROP len nameoff value, END_NODE, NOP, END), each item padded to 4 bytes.
 * We track the depth and the name of the node at depth 1 (a child of the root) and 2.
 */
#include "fdt.h"

#include "paravirt_abi.h"

#define TOKEN_BEGIN_NODE 1u
#define TOKEN_END_NODE 2u
#define TOKEN_PROP 3u
#define TOKEN_NOP 4u
#define TOKEN_END 9u

#define EINVAL_RC (-(int)EINVAL)

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Whether the node name `name` (NUL-terminated, `n` bytes available) is `want` or want@... */
static int node_is(const char *name, const char *want) {
  while (*want != '\0') {
    if (*name != *want) return 0;
    name++;
    want++;
  }
  return *name == '\0' || *name == '@';
}

static int str_eq(const char *a, const char *b) {
  while (*a != '\0' && *a == *b) {
    a++;
    b++;
  }
  return *a == *b;
}

/* Reads a value of `cells` 32-bit cells (1 or 2) at p. */
static uint64_t read_cells(const uint8_t *p, uint32_t cells) {
  return cells == 2 ? ((uint64_t)be32(p) << 32) | be32(p + 4) : be32(p);
}

enum node_kind { NODE_OTHER, NODE_MEMORY, NODE_CHOSEN, NODE_CPUS, NODE_CPU };

int fdt_parse(const void *blob, struct fdt_info *out) {
  const uint8_t *base = blob;
  out->mem_base = 0;
  out->mem_size = 0;
  out->has_memory = 0;
  out->bootargs = 0;
  out->bootargs_len = 0;
  out->timebase_hz = 0;
  if (be32(base) != FDT_MAGIC) return EINVAL_RC;
  uint32_t total = be32(base + 4);
  uint32_t off_struct = be32(base + 8);
  uint32_t off_strings = be32(base + 12);
  uint32_t version = be32(base + 20);
  if (total < 40 || total > (64u << 20) || version < 16) return EINVAL_RC;
  uint32_t size_strings = be32(base + 32);
  uint32_t size_struct = version >= 17 ? be32(base + 36) : total - off_struct;
  if (off_struct > total || size_struct > total - off_struct || (off_struct & 3) != 0) {
    return EINVAL_RC;
  }
  if (off_strings > total || size_strings > total - off_strings) return EINVAL_RC;

  uint32_t addr_cells = 2;
  uint32_t size_cells = 1;
  enum node_kind kind[4] = {NODE_OTHER, NODE_OTHER, NODE_OTHER, NODE_OTHER};
  int depth = 0;
  uint32_t at = off_struct;
  uint32_t end = off_struct + size_struct;
  for (;;) {
    if (at + 4 > end) return EINVAL_RC;
    uint32_t token = be32(base + at);
    at += 4;
    if (token == TOKEN_END) break;
    if (token == TOKEN_NOP) continue;
    if (token == TOKEN_BEGIN_NODE) {
      const char *name = (const char *)base + at;
      uint32_t n = 0;
      while (at + n < end && name[n] != '\0') n++;
      if (at + n >= end) return EINVAL_RC;
      at = (at + n + 1 + 3) & ~3u;
      depth++;
      if (depth > 64) return EINVAL_RC;
      enum node_kind k = NODE_OTHER;
      if (depth == 2 && node_is(name, "memory")) k = NODE_MEMORY;
      if (depth == 2 && node_is(name, "chosen")) k = NODE_CHOSEN;
      if (depth == 2 && node_is(name, "cpus")) k = NODE_CPUS;
      if (depth == 3 && kind[2] == NODE_CPUS && node_is(name, "cpu")) k = NODE_CPU;
      if (depth < 4) kind[depth] = k;
      continue;
    }
    if (token == TOKEN_END_NODE) {
      if (depth == 0) return EINVAL_RC;
      depth--;
      continue;
    }
    if (token != TOKEN_PROP) return EINVAL_RC;
    if (at + 8 > end) return EINVAL_RC;
    uint32_t len = be32(base + at);
    uint32_t nameoff = be32(base + at + 4);
    at += 8;
    if (len > end - at || nameoff >= size_strings) return EINVAL_RC;
    const uint8_t *value = base + at;
    const char *pname = (const char *)base + off_strings + nameoff;
    uint32_t room = size_strings - nameoff;
    uint32_t n = 0;
    while (n < room && pname[n] != '\0') n++;
    if (n == room) return EINVAL_RC;
    at = (at + len + 3) & ~3u;
    enum node_kind k = depth < 4 ? kind[depth] : NODE_OTHER;
    if (depth == 1 && len == 4 && str_eq(pname, "#address-cells")) addr_cells = be32(value);
    if (depth == 1 && len == 4 && str_eq(pname, "#size-cells")) size_cells = be32(value);
    if (k == NODE_MEMORY && !out->has_memory && str_eq(pname, "reg")) {
      if (addr_cells < 1 || addr_cells > 2 || size_cells < 1 || size_cells > 2) return EINVAL_RC;
      if (len < (addr_cells + size_cells) * 4) return EINVAL_RC;
      out->mem_base = read_cells(value, addr_cells);
      out->mem_size = read_cells(value + addr_cells * 4, size_cells);
      out->has_memory = 1;
    }
    if (k == NODE_CHOSEN && str_eq(pname, "bootargs")) {
      out->bootargs = (const char *)value;
      uint32_t l = 0;
      while (l < len && value[l] != '\0') l++;
      out->bootargs_len = l;
    }
    if ((k == NODE_CPUS || (k == NODE_CPU && out->timebase_hz == 0)) &&
        str_eq(pname, "timebase-frequency") && (len == 4 || len == 8)) {
      uint64_t hz = read_cells(value, len / 4);
      if (hz > 0 && hz <= 0xFFFFFFFFu) out->timebase_hz = (uint32_t)hz;
    }
  }
  return depth == 0 ? 0 : EINVAL_RC;
}
