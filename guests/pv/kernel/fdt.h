/*
 * fdt.h — reads the three things the kernel needs from a flattened device tree (devicetree
 * specification 0.4, version 17 blobs): the first /memory region, /chosen/bootargs and the
 * timer's timebase-frequency (in /cpus or its first cpu node).
 *
 * Rules of use: the blob is untrusted input: every offset and length is checked against its
 * totalsize and a malformed blob gives -EINVAL, never a read outside it. No allocation, no
 * globals and no jump tables, so it runs with paging off from boot_native.c.
 */
#ifndef PVK_FDT_H
#define PVK_FDT_H
#include <stdint.h>

struct fdt_info {
  uint64_t mem_base;
  uint64_t mem_size;
  int has_memory;
  /* Points into the blob; not NUL-terminated beyond bootargs_len. */
  const char *bootargs;
  uint32_t bootargs_len;
  uint32_t timebase_hz;
};

#define FDT_MAGIC 0xd00dfeedu

/* Parses `blob`; returns 0 or a negated errno (paravirt_abi.h values). */
int fdt_parse(const void *blob, struct fdt_info *out);

#endif
