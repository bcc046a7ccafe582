import assert from "node:assert/strict";
import {
  BLKIF_REQUEST,
  BLKIF_REQUEST_DISCARD,
  BLKIF_REQUEST_INDIRECT,
  BLKIF_REQUEST_SEGMENT,
  BLKIF_RESPONSE,
  BLKIF_RING_SLOT_SIZE,
  BLKIF_SEGMENTS_PER_INDIRECT_FRAME,
  EVTCHN_STATUS,
  GNTTAB_SETUP_TABLE,
  GRANT_ENTRY_V1,
  MMU_UPDATE,
  MMUEXT_OP,
  MULTICALL_ENTRY,
  NETIF_EXTRA_INFO,
  NETIF_RX_REQUEST,
  NETIF_RX_RESPONSE,
  NETIF_RX_RING_SIZE,
  NETIF_RX_SLOT_SIZE,
  NETIF_TX_REQUEST,
  NETIF_TX_RESPONSE,
  NETIF_TX_RING_SIZE,
  NETIF_TX_SLOT_SIZE,
  SCHED_POLL,
  SHARED_INFO,
  START_INFO,
  struct,
  VCPU_INFO,
  VCPU_RUNSTATE_INFO,
  VCPU_TIME_INFO,
  XEN_MEMORY_RESERVATION,
  XENCONS_INTERFACE,
} from "./mod.ts";

Deno.test("layouts follow Xen's ARM/RISC-V rules", () => {
  assert.equal(VCPU_TIME_INFO.size, 32);
  assert.equal(VCPU_INFO.size, 48, "vcpu_info is 48 bytes");
  assert.equal(VCPU_INFO.offset.evtchn_pending_sel, 8);
  assert.equal(VCPU_INFO.offset.time_version, 16);
  assert.equal(SHARED_INFO.size, 1088, "shared_info is 1088 bytes");
  assert.equal(SHARED_INFO.offset.evtchn_pending, 48);
  assert.equal(SHARED_INFO.offset.evtchn_mask, 560);
  assert.equal(SHARED_INFO.offset.wc_version, 1072);
  assert.equal(START_INFO.offset.store_mfn, 48);
  assert.equal(START_INFO.offset.console_mfn, 64);
  assert.equal(START_INFO.offset.pt_base, 80);
  assert.equal(START_INFO.offset.cmd_line, 100);
  assert.equal(START_INFO.size, 1136);
  assert.equal(MMU_UPDATE.size, 16);
  assert.equal(MMUEXT_OP.size, 24);
  assert.equal(MMUEXT_OP.offset.arg1, 8);
  assert.equal(MULTICALL_ENTRY.size, 64);
  assert.equal(EVTCHN_STATUS.size, 24);
  assert.equal(EVTCHN_STATUS.offset.u_port, 20);
  assert.equal(SCHED_POLL.offset.timeout, 16);
  assert.equal(VCPU_RUNSTATE_INFO.size, 48);
  assert.equal(XEN_MEMORY_RESERVATION.size, 32);
  assert.equal(XEN_MEMORY_RESERVATION.offset.domid, 24);
  assert.equal(GRANT_ENTRY_V1.size, 8);
  assert.equal(GNTTAB_SETUP_TABLE.offset.frame_list, 16);
});

Deno.test("struct aligns 64-bit fields to 8 and pads to the widest field", () => {
  const s = struct("t", "test", [["a", "u8"], ["b", "u64"], ["c", "u16"]]);
  assert.deepEqual(s.offset, { a: 0, b: 8, c: 16 });
  assert.equal(s.size, 24);
  assert.equal(s.align, 8);
});

Deno.test("blkif and console layouts match Xen's headers on the ARM/RISC-V rules", () => {
  assert.equal(BLKIF_REQUEST_SEGMENT.size, 8);
  assert.equal(BLKIF_REQUEST.size, 112, "a blkif request is 112 bytes");
  assert.equal(BLKIF_REQUEST.offset.id, 8);
  assert.equal(BLKIF_REQUEST.offset.sector_number, 16);
  assert.equal(BLKIF_REQUEST.offset.seg, 24);
  assert.equal(BLKIF_REQUEST_DISCARD.offset.nr_sectors, 24);
  assert.equal(BLKIF_REQUEST_DISCARD.size, 32);
  assert.equal(BLKIF_REQUEST_INDIRECT.offset.handle, 24);
  assert.equal(BLKIF_REQUEST_INDIRECT.offset.indirect_grefs, 28);
  assert.equal(BLKIF_REQUEST_INDIRECT.size, 64);
  assert.equal(BLKIF_RESPONSE.offset.operation, 8);
  assert.equal(BLKIF_RESPONSE.offset.status, 10);
  assert.equal(BLKIF_RESPONSE.size, 16);
  assert.equal(BLKIF_RING_SLOT_SIZE, Math.max(BLKIF_REQUEST.size, BLKIF_RESPONSE.size));
  assert.equal(BLKIF_SEGMENTS_PER_INDIRECT_FRAME * BLKIF_REQUEST_SEGMENT.size, 4096);
  assert.equal(XENCONS_INTERFACE.offset.out, 1024);
  assert.equal(XENCONS_INTERFACE.offset.in_cons, 3072);
  assert.equal(XENCONS_INTERFACE.offset.out_prod, 3084);
  assert.equal(XENCONS_INTERFACE.size, 3088);
});

Deno.test("a nested structure field takes the structure's size and alignment", () => {
  const inner = struct("inner", "test", [["a", "u32"], ["b", "u8"]]);
  const outer = struct("outer", "test", [["x", "u8"], ["items", inner, 3], ["y", "u8"]]);
  assert.equal(inner.size, 8);
  assert.deepEqual(outer.offset, { x: 0, items: 4, y: 28 });
  assert.equal(outer.size, 32);
  assert.equal(outer.align, 4);
});

Deno.test("netif layouts are Xen's (io/netif.h)", () => {
  assert.equal(NETIF_TX_REQUEST.size, 12);
  assert.deepEqual(NETIF_TX_REQUEST.offset, { gref: 0, offset: 4, flags: 6, id: 8, size: 10 });
  assert.equal(NETIF_TX_RESPONSE.size, 4);
  assert.equal(NETIF_TX_RESPONSE.offset.status, 2);
  assert.equal(NETIF_EXTRA_INFO.size, 8);
  assert.equal(NETIF_EXTRA_INFO.offset.u, 2);
  assert.equal(NETIF_RX_REQUEST.size, 8);
  assert.equal(NETIF_RX_REQUEST.offset.gref, 4);
  assert.deepEqual(NETIF_RX_RESPONSE.offset, { id: 0, offset: 2, flags: 4, status: 6 });
  assert.equal(NETIF_TX_SLOT_SIZE, NETIF_TX_REQUEST.size);
  assert.equal(NETIF_RX_SLOT_SIZE, NETIF_RX_REQUEST.size);
  // __CONST_RING_SIZE: the largest power of two of slots after the 64-byte header.
  const slots = (slot: number) => 2 ** Math.floor(Math.log2((4096 - 64) / slot));
  assert.equal(NETIF_TX_RING_SIZE, slots(NETIF_TX_SLOT_SIZE));
  assert.equal(NETIF_RX_RING_SIZE, slots(NETIF_RX_SLOT_SIZE));
});
