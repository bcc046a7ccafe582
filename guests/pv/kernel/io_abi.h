/*
 * io_abi.h — the split-driver layouts the frontends use (io/blkif.h, io/netif.h, io/console.h).
 *
 * Rules of use: include this instead of paravirt_abi.h in frontend code. The layouts belong in
 * @paravirt/public (and so in the generated paravirt_abi.h); until a layout has reached this
 * branch from the backends' branches, it is spelled out below, under the same names and with the
 * same field offsets (checked here), and skipped as soon as the generated header defines it.
 * Numbers are Xen's (the headers in /usr/include/xen/io) with the ARM/RISC-V layout rules.
 */
#ifndef PVK_IO_ABI_H
#define PVK_IO_ABI_H
#include "paravirt_abi.h"

#ifndef BLKIF_OP_INDIRECT
#define BLKIF_OP_READ 0u
#define BLKIF_OP_WRITE 1u
#define BLKIF_OP_WRITE_BARRIER 2u
#define BLKIF_OP_FLUSH_DISKCACHE 3u
#define BLKIF_OP_DISCARD 5u
#define BLKIF_OP_INDIRECT 6u
#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11u
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8u
#define BLKIF_SEGMENTS_PER_INDIRECT_FRAME 512u
#define BLKIF_SECTOR_SIZE 512u
#define BLKIF_DISCARD_SECURE 1u
#define BLKIF_RSP_OKAY 0
#define BLKIF_RSP_ERROR (-1)
#define BLKIF_RSP_EOPNOTSUPP (-2)
#define VDISK_READONLY 0x4u
#define XEN_IO_PROTO_ABI_NATIVE "arm-abi"
#define BLKIF_RING_SLOT_SIZE 112u
struct blkif_request_segment {
  uint32_t gref;
  uint8_t first_sect;
  uint8_t last_sect;
};
struct blkif_request {
  uint8_t operation;
  uint8_t nr_segments;
  uint16_t handle;
  uint64_t id;
  uint64_t sector_number;
  struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
struct blkif_request_discard {
  uint8_t operation;
  uint8_t flag;
  uint16_t handle;
  uint64_t id;
  uint64_t sector_number;
  uint64_t nr_sectors;
};
struct blkif_request_indirect {
  uint8_t operation;
  uint8_t indirect_op;
  uint16_t nr_segments;
  uint64_t id;
  uint64_t sector_number;
  uint16_t handle;
  uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};
struct blkif_response {
  uint64_t id;
  uint8_t operation;
  int16_t status;
};
#endif
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request size");
_Static_assert(offsetof(struct blkif_request, seg) == 24, "blkif_request.seg");
_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif_request_segment size");
_Static_assert(offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "indirect grefs");
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response size");


#ifndef XENCONS_OUT_SIZE
#define XENCONS_IN_SIZE 1024u
#define XENCONS_OUT_SIZE 2048u
struct xencons_interface {
  uint8_t in[XENCONS_IN_SIZE];
  uint8_t out[XENCONS_OUT_SIZE];
  uint32_t in_cons;
  uint32_t in_prod;
  uint32_t out_cons;
  uint32_t out_prod;
};
#endif
_Static_assert(offsetof(struct xencons_interface, out_prod) == 3084, "xencons out_prod");

#endif
