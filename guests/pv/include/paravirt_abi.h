/* paravirt hypervisor ABI for RV32 guests. GENERATED from @paravirt/public by
 * `deno task guests`; do not edit. Numbers and layouts follow Xen's public headers with the
 * ARM/RISC-V rules (64-bit xen_ulong_t, 8-byte aligned 64-bit fields). */
#ifndef PARAVIRT_ABI_H
#define PARAVIRT_ABI_H
#include <stdint.h>
#include <stddef.h>

/* ---- domid ---- */
#define DOMID_COW 0x7ff3u
#define DOMID_FIRST_RESERVED 0x7ff0u
#define DOMID_IDLE 0x7fffu
#define DOMID_INVALID 0x7ff4u
#define DOMID_IO 0x7ff1u
#define DOMID_SELF 0x7ff0u
#define DOMID_XEN 0x7ff2u

/* ---- errno ---- */
#define E2BIG 0x7u
#define EACCES 0xdu
#define EAGAIN 0xbu
#define EBADF 0x9u
#define EBUSY 0x10u
#define EEXIST 0x11u
#define EFAULT 0xeu
#define EINVAL 0x16u
#define EIO 0x5u
#define ENODATA 0x3du
#define ENODEV 0x13u
#define ENOENT 0x2u
#define ENOEXEC 0x8u
#define ENOMEM 0xcu
#define ENOSPC 0x1cu
#define ENOSYS 0x26u
#define ENXIO 0x6u
#define EOPNOTSUPP 0x5fu
#define EOVERFLOW 0x4bu
#define EPERM 0x1u
#define ERANGE 0x22u
#define ESRCH 0x3u
#define ETIME 0x3eu
#define ETIMEDOUT 0x6eu
#define EXDEV 0x12u

/* ---- event channels ---- */
#define EVTCHNOP_alloc_unbound 0x6u
#define EVTCHNOP_bind_interdomain 0x0u
#define EVTCHNOP_bind_ipi 0x7u
#define EVTCHNOP_bind_vcpu 0x8u
#define EVTCHNOP_bind_virq 0x1u
#define EVTCHNOP_close 0x3u
#define EVTCHNOP_send 0x4u
#define EVTCHNOP_status 0x5u
#define EVTCHNOP_unmask 0x9u
#define EVTCHNSTAT_closed 0x0u
#define EVTCHNSTAT_interdomain 0x2u
#define EVTCHNSTAT_ipi 0x5u
#define EVTCHNSTAT_pirq 0x3u
#define EVTCHNSTAT_unbound 0x1u
#define EVTCHNSTAT_virq 0x4u
#define NR_VIRQS 0x18u
#define VIRQ_CONSOLE 0x2u
#define VIRQ_DEBUG 0x1u
#define VIRQ_DOM_EXC 0x3u
#define VIRQ_TIMER 0x0u
/* allocate an unbound port */
struct evtchn_alloc_unbound {
  uint16_t dom; /* DOMID_SELF or (privileged) another domain */
  uint16_t remote_dom; /* domain allowed to bind it */
  uint32_t port; /* OUT: the new port */
};
_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "evtchn_alloc_unbound size");
_Static_assert(offsetof(struct evtchn_alloc_unbound, dom) == 0, "evtchn_alloc_unbound.dom");
_Static_assert(offsetof(struct evtchn_alloc_unbound, remote_dom) == 2, "evtchn_alloc_unbound.remote_dom");
_Static_assert(offsetof(struct evtchn_alloc_unbound, port) == 4, "evtchn_alloc_unbound.port");
/* connect to a remote port */
struct evtchn_bind_interdomain {
  uint16_t remote_dom;
  uint32_t remote_port;
  uint32_t local_port; /* OUT */
};
_Static_assert(sizeof(struct evtchn_bind_interdomain) == 12, "evtchn_bind_interdomain size");
_Static_assert(offsetof(struct evtchn_bind_interdomain, remote_dom) == 0, "evtchn_bind_interdomain.remote_dom");
_Static_assert(offsetof(struct evtchn_bind_interdomain, remote_port) == 4, "evtchn_bind_interdomain.remote_port");
_Static_assert(offsetof(struct evtchn_bind_interdomain, local_port) == 8, "evtchn_bind_interdomain.local_port");
/* bind an IPI */
struct evtchn_bind_ipi {
  uint32_t vcpu;
  uint32_t port; /* OUT */
};
_Static_assert(sizeof(struct evtchn_bind_ipi) == 8, "evtchn_bind_ipi size");
_Static_assert(offsetof(struct evtchn_bind_ipi, vcpu) == 0, "evtchn_bind_ipi.vcpu");
_Static_assert(offsetof(struct evtchn_bind_ipi, port) == 4, "evtchn_bind_ipi.port");
/* notify another vCPU */
struct evtchn_bind_vcpu {
  uint32_t port;
  uint32_t vcpu;
};
_Static_assert(sizeof(struct evtchn_bind_vcpu) == 8, "evtchn_bind_vcpu size");
_Static_assert(offsetof(struct evtchn_bind_vcpu, port) == 0, "evtchn_bind_vcpu.port");
_Static_assert(offsetof(struct evtchn_bind_vcpu, vcpu) == 4, "evtchn_bind_vcpu.vcpu");
/* bind a virtual IRQ */
struct evtchn_bind_virq {
  uint32_t virq;
  uint32_t vcpu;
  uint32_t port; /* OUT */
};
_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "evtchn_bind_virq size");
_Static_assert(offsetof(struct evtchn_bind_virq, virq) == 0, "evtchn_bind_virq.virq");
_Static_assert(offsetof(struct evtchn_bind_virq, vcpu) == 4, "evtchn_bind_virq.vcpu");
_Static_assert(offsetof(struct evtchn_bind_virq, port) == 8, "evtchn_bind_virq.port");
/* close, send or unmask a port */
struct evtchn_port_op {
  uint32_t port;
};
_Static_assert(sizeof(struct evtchn_port_op) == 4, "evtchn_port_op size");
_Static_assert(offsetof(struct evtchn_port_op, port) == 0, "evtchn_port_op.port");
/* query a port */
struct evtchn_status {
  uint16_t dom;
  uint32_t port;
  uint32_t status; /* OUT: EVTCHNSTAT_* */
  uint32_t vcpu; /* OUT: vCPU notified */
  uint16_t u_dom; /* OUT: unbound.dom / interdomain.dom */
  uint32_t u_port; /* OUT: interdomain.port; virq for EVTCHNSTAT_virq is at u_dom's offset */
};
_Static_assert(sizeof(struct evtchn_status) == 24, "evtchn_status size");
_Static_assert(offsetof(struct evtchn_status, dom) == 0, "evtchn_status.dom");
_Static_assert(offsetof(struct evtchn_status, port) == 4, "evtchn_status.port");
_Static_assert(offsetof(struct evtchn_status, status) == 8, "evtchn_status.status");
_Static_assert(offsetof(struct evtchn_status, vcpu) == 12, "evtchn_status.vcpu");
_Static_assert(offsetof(struct evtchn_status, u_dom) == 16, "evtchn_status.u_dom");
_Static_assert(offsetof(struct evtchn_status, u_port) == 20, "evtchn_status.u_port");

/* ---- grant tables ---- */
#define GNTST_address_too_big (-11)
#define GNTST_bad_copy_arg (-10)
#define GNTST_bad_dev_addr (-6)
#define GNTST_bad_domain (-2)
#define GNTST_bad_gntref (-3)
#define GNTST_bad_handle (-4)
#define GNTST_bad_page (-9)
#define GNTST_bad_virt_addr (-5)
#define GNTST_eagain (-12)
#define GNTST_general_error (-1)
#define GNTST_no_device_space (-7)
#define GNTST_okay 0x0u
#define GNTST_permission_denied (-8)
#define GNTTABOP_copy 0x5u
#define GNTTABOP_map_grant_ref 0x0u
#define GNTTABOP_query_size 0x6u
#define GNTTABOP_setup_table 0x2u
#define GNTTABOP_unmap_grant_ref 0x1u
#define GRANT_ENTRIES_PER_FRAME 0x200u
#define GRANT_TABLE_MAX_FRAMES 0x4u
#define GTF_permit_access 0x1u
#define GTF_reading 0x8u
#define GTF_readonly 0x4u
#define GTF_writing 0x10u
/* grant table size */
struct gnttab_query_size {
  uint16_t dom;
  uint32_t nr_frames; /* OUT: current frames */
  uint32_t max_nr_frames; /* OUT: maximum frames */
  int16_t status; /* OUT: GNTST_* */
};
_Static_assert(sizeof(struct gnttab_query_size) == 16, "gnttab_query_size size");
_Static_assert(offsetof(struct gnttab_query_size, dom) == 0, "gnttab_query_size.dom");
_Static_assert(offsetof(struct gnttab_query_size, nr_frames) == 4, "gnttab_query_size.nr_frames");
_Static_assert(offsetof(struct gnttab_query_size, max_nr_frames) == 8, "gnttab_query_size.max_nr_frames");
_Static_assert(offsetof(struct gnttab_query_size, status) == 12, "gnttab_query_size.status");
/* get grant table frames */
struct gnttab_setup_table {
  uint16_t dom;
  uint32_t nr_frames;
  int16_t status; /* OUT: GNTST_* */
  uint64_t frame_list; /* guest handle: virtual address of an array of u64 frames (OUT) */
};
_Static_assert(sizeof(struct gnttab_setup_table) == 24, "gnttab_setup_table size");
_Static_assert(offsetof(struct gnttab_setup_table, dom) == 0, "gnttab_setup_table.dom");
_Static_assert(offsetof(struct gnttab_setup_table, nr_frames) == 4, "gnttab_setup_table.nr_frames");
_Static_assert(offsetof(struct gnttab_setup_table, status) == 8, "gnttab_setup_table.status");
_Static_assert(offsetof(struct gnttab_setup_table, frame_list) == 16, "gnttab_setup_table.frame_list");
/* one grant */
struct grant_entry_v1 {
  uint16_t flags; /* GTF_* */
  uint16_t domid; /* domain being granted access */
  uint32_t frame; /* machine frame granted */
};
_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1 size");
_Static_assert(offsetof(struct grant_entry_v1, flags) == 0, "grant_entry_v1.flags");
_Static_assert(offsetof(struct grant_entry_v1, domid) == 2, "grant_entry_v1.domid");
_Static_assert(offsetof(struct grant_entry_v1, frame) == 4, "grant_entry_v1.frame");

/* ---- hypercalls ---- */
#define HYPERCALL_EXTENSION 0x858454eu
#define __HYPERVISOR_console_io 0x12u
#define __HYPERVISOR_event_channel_op 0x20u
#define __HYPERVISOR_grant_table_op 0x14u
#define __HYPERVISOR_memory_op 0xcu
#define __HYPERVISOR_mmu_update 0x1u
#define __HYPERVISOR_mmuext_op 0x1au
#define __HYPERVISOR_multicall 0xdu
#define __HYPERVISOR_sched_op 0x1du
#define __HYPERVISOR_set_timer_op 0xfu
#define __HYPERVISOR_update_va_mapping 0xeu
#define __HYPERVISOR_vcpu_op 0x18u
#define __HYPERVISOR_xen_version 0x11u
#define SBI_BASE_GET_IMPL_ID 0x1u
#define SBI_BASE_GET_IMPL_VERSION 0x2u
#define SBI_BASE_GET_MARCHID 0x5u
#define SBI_BASE_GET_MIMPID 0x6u
#define SBI_BASE_GET_MVENDORID 0x4u
#define SBI_BASE_GET_SPEC_VERSION 0x0u
#define SBI_BASE_PROBE_EXTENSION 0x3u
#define SBI_ERR_INVALID_PARAM (-3)
#define SBI_ERR_NOT_SUPPORTED (-2)
#define SBI_EXT_BASE 0x10u
#define SBI_EXT_SRST 0x53525354u
#define SBI_EXT_TIME 0x54494d45u
#define SBI_IMPL_ID_PARAVIRT 0x7061u
#define SBI_LEGACY_GETCHAR 0x2u
#define SBI_LEGACY_PUTCHAR 0x1u
#define SBI_LEGACY_SHUTDOWN 0x8u
#define SBI_SUCCESS 0x0u

/* ---- memory ---- */
#define MEMORY_OP_MAX_EXTENTS 0x400u
#define XENMEM_current_reservation 0x3u
#define XENMEM_decrease_reservation 0x1u
#define XENMEM_increase_reservation 0x0u
#define XENMEM_maximum_ram_page 0x2u
#define XENMEM_maximum_reservation 0x4u
/* a reservation change */
struct xen_memory_reservation {
  uint64_t extent_start; /* guest handle: virtual address of an array of u64 frame numbers */
  uint64_t nr_extents; /* number of extents */
  uint32_t extent_order; /* log2 of frames per extent (0 only here) */
  uint32_t mem_flags;
  uint16_t domid; /* DOMID_SELF (or a domain, for the control domain) */
};
_Static_assert(sizeof(struct xen_memory_reservation) == 32, "xen_memory_reservation size");
_Static_assert(offsetof(struct xen_memory_reservation, extent_start) == 0, "xen_memory_reservation.extent_start");
_Static_assert(offsetof(struct xen_memory_reservation, nr_extents) == 8, "xen_memory_reservation.nr_extents");
_Static_assert(offsetof(struct xen_memory_reservation, extent_order) == 16, "xen_memory_reservation.extent_order");
_Static_assert(offsetof(struct xen_memory_reservation, mem_flags) == 20, "xen_memory_reservation.mem_flags");
_Static_assert(offsetof(struct xen_memory_reservation, domid) == 24, "xen_memory_reservation.domid");

/* ---- mmu ---- */
#define MMUEXT_INVLPG_ALL 0xbu
#define MMUEXT_INVLPG_LOCAL 0x7u
#define MMUEXT_NEW_BASEPTR 0x5u
#define MMUEXT_PIN_L1_TABLE 0x0u
#define MMUEXT_PIN_L2_TABLE 0x1u
#define MMUEXT_TLB_FLUSH_ALL 0xau
#define MMUEXT_TLB_FLUSH_LOCAL 0x6u
#define MMUEXT_UNPIN_TABLE 0x4u
#define MMU_BATCH_MAX 0x1000u
#define MMU_MACHPHYS_UPDATE 0x1u
#define MMU_NORMAL_PT_UPDATE 0x0u
#define MMU_PT_UPDATE_PRESERVE_AD 0x2u
#define UVMF_ALL 0x4u
#define UVMF_INVLPG 0x2u
#define UVMF_NONE 0x0u
#define UVMF_TLB_FLUSH 0x1u
/* one extended MMU operation */
struct mmuext_op {
  uint32_t cmd;
  uint64_t arg1; /* mfn (pin, unpin, new_baseptr) or linear_addr (invlpg) */
  uint64_t arg2; /* nr_ents / vcpumask / src_mfn (unused here) */
};
_Static_assert(sizeof(struct mmuext_op) == 24, "mmuext_op size");
_Static_assert(offsetof(struct mmuext_op, cmd) == 0, "mmuext_op.cmd");
_Static_assert(offsetof(struct mmuext_op, arg1) == 8, "mmuext_op.arg1");
_Static_assert(offsetof(struct mmuext_op, arg2) == 16, "mmuext_op.arg2");
/* one PTE update */
struct mmu_update {
  uint64_t ptr; /* machine address of the PTE | command */
  uint64_t val; /* new PTE value */
};
_Static_assert(sizeof(struct mmu_update) == 16, "mmu_update size");
_Static_assert(offsetof(struct mmu_update, ptr) == 0, "mmu_update.ptr");
_Static_assert(offsetof(struct mmu_update, val) == 8, "mmu_update.val");

/* ---- multicall ---- */
#define MULTICALL_MAX 0x200u
/* one call in a batch */
struct multicall_entry {
  uint64_t op; /* __HYPERVISOR_* number */
  int64_t result; /* OUT: the call's return value */
  uint64_t args[6]; /* arguments (a0..a5 of a direct call) */
};
_Static_assert(sizeof(struct multicall_entry) == 64, "multicall_entry size");
_Static_assert(offsetof(struct multicall_entry, op) == 0, "multicall_entry.op");
_Static_assert(offsetof(struct multicall_entry, result) == 8, "multicall_entry.result");
_Static_assert(offsetof(struct multicall_entry, args) == 16, "multicall_entry.args");

/* ---- network interfaces (io/netif.h) ---- */
#define NETIF_DEVICE_TYPE "vif"
#define NETIF_KEY_BRIDGE "bridge"
#define NETIF_KEY_EVENT_CHANNEL "event-channel"
#define NETIF_KEY_EVENT_CHANNEL_RX "event-channel-rx"
#define NETIF_KEY_EVENT_CHANNEL_TX "event-channel-tx"
#define NETIF_KEY_FEATURE_GSO_TCPV4 "feature-gso-tcpv4"
#define NETIF_KEY_FEATURE_MULTICAST_CONTROL "feature-multicast-control"
#define NETIF_KEY_FEATURE_NO_CSUM_OFFLOAD "feature-no-csum-offload"
#define NETIF_KEY_FEATURE_RX_COPY "feature-rx-copy"
#define NETIF_KEY_FEATURE_RX_FLIP "feature-rx-flip"
#define NETIF_KEY_FEATURE_RX_NOTIFY "feature-rx-notify"
#define NETIF_KEY_FEATURE_SG "feature-sg"
#define NETIF_KEY_FEATURE_SPLIT_EVENT_CHANNELS "feature-split-event-channels"
#define NETIF_KEY_HANDLE "handle"
#define NETIF_KEY_MAC "mac"
#define NETIF_KEY_MULTI_QUEUE_MAX_QUEUES "multi-queue-max-queues"
#define NETIF_KEY_MULTI_QUEUE_NUM_QUEUES "multi-queue-num-queues"
#define NETIF_KEY_REQUEST_RX_COPY "request-rx-copy"
#define NETIF_KEY_RX_RING_REF "rx-ring-ref"
#define NETIF_KEY_TX_RING_REF "tx-ring-ref"
#define NETIF_RSP_DROPPED (-2)
#define NETIF_RSP_ERROR (-1)
#define NETIF_RSP_NULL 0x1u
#define NETIF_RSP_OKAY 0x0u
#define NETIF_RX_RING_SIZE 0x100u
#define NETIF_RX_SLOT_SIZE 0x8u
#define NETIF_TX_RING_SIZE 0x100u
#define NETIF_TX_SLOT_SIZE 0xcu
#define NETRXF_csum_blank 0x2u
#define NETRXF_data_validated 0x1u
#define NETRXF_extra_info 0x8u
#define NETRXF_gso_prefix 0x10u
#define NETRXF_more_data 0x4u
#define NETTXF_csum_blank 0x1u
#define NETTXF_data_validated 0x2u
#define NETTXF_extra_info 0x8u
#define NETTXF_more_data 0x4u
#define XEN_NETIF_EXTRA_FLAG_MORE 0x1u
#define XEN_NETIF_EXTRA_TYPE_GSO 0x1u
#define XEN_NETIF_EXTRA_TYPE_HASH 0x4u
#define XEN_NETIF_EXTRA_TYPE_MAX 0x5u
#define XEN_NETIF_EXTRA_TYPE_MCAST_ADD 0x2u
#define XEN_NETIF_EXTRA_TYPE_MCAST_DEL 0x3u
#define XEN_NETIF_EXTRA_TYPE_NONE 0x0u
#define XEN_NETIF_GSO_TYPE_NONE 0x0u
#define XEN_NETIF_GSO_TYPE_TCPV4 0x1u
#define XEN_NETIF_GSO_TYPE_TCPV6 0x2u
#define XEN_NETIF_MAX_TX_SIZE 0xffffu
#define XEN_NETIF_NR_SLOTS_MIN 0x12u
/* an extra-info slot */
struct netif_extra_info {
  uint8_t type; /* XEN_NETIF_EXTRA_TYPE_* */
  uint8_t flags; /* XEN_NETIF_EXTRA_FLAG_* */
  uint16_t u[3]; /* union: gso {u16 size; u8 type; u8 pad; u16 features}, mcast {u8 addr[6]}, hash {u8 type; u8 algorithm; u8 value[4]} */
};
_Static_assert(sizeof(struct netif_extra_info) == 8, "netif_extra_info size");
_Static_assert(offsetof(struct netif_extra_info, type) == 0, "netif_extra_info.type");
_Static_assert(offsetof(struct netif_extra_info, flags) == 1, "netif_extra_info.flags");
_Static_assert(offsetof(struct netif_extra_info, u) == 2, "netif_extra_info.u");
/* a receive buffer posted by the frontend */
struct netif_rx_request {
  uint16_t id; /* echoed in the response */
  uint16_t pad;
  uint32_t gref; /* grant of an empty page for the backend to fill */
};
_Static_assert(sizeof(struct netif_rx_request) == 8, "netif_rx_request size");
_Static_assert(offsetof(struct netif_rx_request, id) == 0, "netif_rx_request.id");
_Static_assert(offsetof(struct netif_rx_request, pad) == 2, "netif_rx_request.pad");
_Static_assert(offsetof(struct netif_rx_request, gref) == 4, "netif_rx_request.gref");
/* a received fragment */
struct netif_rx_response {
  uint16_t id; /* the request's id */
  uint16_t offset; /* where in the page the data starts */
  uint16_t flags; /* NETRXF_* */
  int16_t status; /* bytes received, or a negative NETIF_RSP_* */
};
_Static_assert(sizeof(struct netif_rx_response) == 8, "netif_rx_response size");
_Static_assert(offsetof(struct netif_rx_response, id) == 0, "netif_rx_response.id");
_Static_assert(offsetof(struct netif_rx_response, offset) == 2, "netif_rx_response.offset");
_Static_assert(offsetof(struct netif_rx_response, flags) == 4, "netif_rx_response.flags");
_Static_assert(offsetof(struct netif_rx_response, status) == 6, "netif_rx_response.status");
/* a transmit request (one fragment of a packet) */
struct netif_tx_request {
  uint32_t gref; /* grant of the page holding the data */
  uint16_t offset; /* byte offset of the data in that page */
  uint16_t flags; /* NETTXF_* */
  uint16_t id; /* echoed in the response */
  uint16_t size; /* first request: the packet's total length; others: the fragment's */
};
_Static_assert(sizeof(struct netif_tx_request) == 12, "netif_tx_request size");
_Static_assert(offsetof(struct netif_tx_request, gref) == 0, "netif_tx_request.gref");
_Static_assert(offsetof(struct netif_tx_request, offset) == 4, "netif_tx_request.offset");
_Static_assert(offsetof(struct netif_tx_request, flags) == 6, "netif_tx_request.flags");
_Static_assert(offsetof(struct netif_tx_request, id) == 8, "netif_tx_request.id");
_Static_assert(offsetof(struct netif_tx_request, size) == 10, "netif_tx_request.size");
/* a transmit response */
struct netif_tx_response {
  uint16_t id; /* the request's id */
  int16_t status; /* NETIF_RSP_* */
};
_Static_assert(sizeof(struct netif_tx_response) == 4, "netif_tx_response size");
_Static_assert(offsetof(struct netif_tx_response, id) == 0, "netif_tx_response.id");
_Static_assert(offsetof(struct netif_tx_response, status) == 2, "netif_tx_response.status");

/* ---- scheduler ---- */
#define SCHEDOP_block 0x1u
#define SCHEDOP_poll 0x3u
#define SCHEDOP_shutdown 0x2u
#define SCHEDOP_yield 0x0u
#define SCHED_POLL_MAX_PORTS 0x80u
#define SHUTDOWN_crash 0x3u
#define SHUTDOWN_poweroff 0x0u
#define SHUTDOWN_reboot 0x1u
#define SHUTDOWN_suspend 0x2u
#define SHUTDOWN_watchdog 0x4u
/* poll a set of ports */
struct sched_poll {
  uint64_t ports; /* guest handle: virtual address of an array of u32 ports */
  uint32_t nr_ports;
  uint64_t timeout; /* absolute system time in ns; 0 for none */
};
_Static_assert(sizeof(struct sched_poll) == 24, "sched_poll size");
_Static_assert(offsetof(struct sched_poll, ports) == 0, "sched_poll.ports");
_Static_assert(offsetof(struct sched_poll, nr_ports) == 8, "sched_poll.nr_ports");
_Static_assert(offsetof(struct sched_poll, timeout) == 16, "sched_poll.timeout");
/* shutdown request */
struct sched_shutdown {
  uint32_t reason; /* SHUTDOWN_* */
};
_Static_assert(sizeof(struct sched_shutdown) == 4, "sched_shutdown size");
_Static_assert(offsetof(struct sched_shutdown, reason) == 0, "sched_shutdown.reason");

/* ---- shared info ---- */
#define EVTCHN_2L_NR_CHANNELS 0x1000u
#define LEGACY_MAX_VCPUS 0x1u
#define TSC_SHIFT 0x7u
#define TSC_TO_SYSTEM_MUL 0xc8000000u
/* the page shared between a domain and the hypervisor */
struct shared_info {
  uint8_t vcpu0_evtchn_upcall_pending;
  uint8_t vcpu0_evtchn_upcall_mask;
  uint64_t vcpu0_evtchn_pending_sel;
  uint32_t vcpu0_time[8]; /* struct vcpu_time_info of vCPU 0 (32 bytes) */
  uint64_t evtchn_pending[64]; /* pending bitmap: 4096 ports */
  uint64_t evtchn_mask[64]; /* mask bitmap: 4096 ports */
  uint32_t wc_version; /* wall clock version (odd while updating) */
  uint32_t wc_sec; /* wall clock at system time 0: seconds (low 32 bits) */
  uint32_t wc_nsec; /* wall clock at system time 0: nanoseconds */
  uint32_t wc_sec_hi; /* wall clock seconds, high 32 bits (arch_shared_info on ARM) */
};
_Static_assert(sizeof(struct shared_info) == 1088, "shared_info size");
_Static_assert(offsetof(struct shared_info, vcpu0_evtchn_upcall_pending) == 0, "shared_info.vcpu0_evtchn_upcall_pending");
_Static_assert(offsetof(struct shared_info, vcpu0_evtchn_upcall_mask) == 1, "shared_info.vcpu0_evtchn_upcall_mask");
_Static_assert(offsetof(struct shared_info, vcpu0_evtchn_pending_sel) == 8, "shared_info.vcpu0_evtchn_pending_sel");
_Static_assert(offsetof(struct shared_info, vcpu0_time) == 16, "shared_info.vcpu0_time");
_Static_assert(offsetof(struct shared_info, evtchn_pending) == 48, "shared_info.evtchn_pending");
_Static_assert(offsetof(struct shared_info, evtchn_mask) == 560, "shared_info.evtchn_mask");
_Static_assert(offsetof(struct shared_info, wc_version) == 1072, "shared_info.wc_version");
_Static_assert(offsetof(struct shared_info, wc_sec) == 1076, "shared_info.wc_sec");
_Static_assert(offsetof(struct shared_info, wc_nsec) == 1080, "shared_info.wc_nsec");
_Static_assert(offsetof(struct shared_info, wc_sec_hi) == 1084, "shared_info.wc_sec_hi");
/* per-vCPU event upcall state and time */
struct vcpu_info {
  uint8_t evtchn_upcall_pending; /* set by the hypervisor when an upcall is due */
  uint8_t evtchn_upcall_mask; /* set by the guest to hold off upcalls */
  uint64_t evtchn_pending_sel; /* bit w: word w of evtchn_pending has pending ports */
  uint32_t time_version; /* vcpu_time_info.version */
  uint32_t time_pad0;
  uint64_t time_tsc_timestamp;
  uint64_t time_system_time;
  uint32_t time_tsc_to_system_mul;
  int8_t time_tsc_shift;
  uint8_t time_flags;
  uint8_t time_pad1[2];
};
_Static_assert(sizeof(struct vcpu_info) == 48, "vcpu_info size");
_Static_assert(offsetof(struct vcpu_info, evtchn_upcall_pending) == 0, "vcpu_info.evtchn_upcall_pending");
_Static_assert(offsetof(struct vcpu_info, evtchn_upcall_mask) == 1, "vcpu_info.evtchn_upcall_mask");
_Static_assert(offsetof(struct vcpu_info, evtchn_pending_sel) == 8, "vcpu_info.evtchn_pending_sel");
_Static_assert(offsetof(struct vcpu_info, time_version) == 16, "vcpu_info.time_version");
_Static_assert(offsetof(struct vcpu_info, time_pad0) == 20, "vcpu_info.time_pad0");
_Static_assert(offsetof(struct vcpu_info, time_tsc_timestamp) == 24, "vcpu_info.time_tsc_timestamp");
_Static_assert(offsetof(struct vcpu_info, time_system_time) == 32, "vcpu_info.time_system_time");
_Static_assert(offsetof(struct vcpu_info, time_tsc_to_system_mul) == 40, "vcpu_info.time_tsc_to_system_mul");
_Static_assert(offsetof(struct vcpu_info, time_tsc_shift) == 44, "vcpu_info.time_tsc_shift");
_Static_assert(offsetof(struct vcpu_info, time_flags) == 45, "vcpu_info.time_flags");
_Static_assert(offsetof(struct vcpu_info, time_pad1) == 46, "vcpu_info.time_pad1");
/* per-vCPU time record */
struct vcpu_time_info {
  uint32_t version; /* odd while being updated */
  uint32_t pad0;
  uint64_t tsc_timestamp; /* value of the time CSR when system_time was taken */
  uint64_t system_time; /* nanoseconds since the hypervisor started */
  uint32_t tsc_to_system_mul; /* ns = ((ticks << tsc_shift) * mul) >> 32 */
  int8_t tsc_shift;
  uint8_t flags;
  uint8_t pad1[2];
};
_Static_assert(sizeof(struct vcpu_time_info) == 32, "vcpu_time_info size");
_Static_assert(offsetof(struct vcpu_time_info, version) == 0, "vcpu_time_info.version");
_Static_assert(offsetof(struct vcpu_time_info, pad0) == 4, "vcpu_time_info.pad0");
_Static_assert(offsetof(struct vcpu_time_info, tsc_timestamp) == 8, "vcpu_time_info.tsc_timestamp");
_Static_assert(offsetof(struct vcpu_time_info, system_time) == 16, "vcpu_time_info.system_time");
_Static_assert(offsetof(struct vcpu_time_info, tsc_to_system_mul) == 24, "vcpu_time_info.tsc_to_system_mul");
_Static_assert(offsetof(struct vcpu_time_info, tsc_shift) == 28, "vcpu_time_info.tsc_shift");
_Static_assert(offsetof(struct vcpu_time_info, flags) == 29, "vcpu_time_info.flags");
_Static_assert(offsetof(struct vcpu_time_info, pad1) == 30, "vcpu_time_info.pad1");

/* ---- start info ---- */
#define MAX_GUEST_CMDLINE 0x400u
#define PV_VIRT_BASE 0xc0000000u
#define SIF_INITDOMAIN 0x2u
#define SIF_PRIVILEGED 0x1u
#define START_INFO_MAGIC "xen-3.0-riscv32"
/* what a PV domain is told at boot */
struct start_info {
  uint8_t magic[32]; /* "xen-3.0-riscv32", NUL-padded */
  uint32_t nr_pages; /* pages of pseudo-physical memory */
  uint32_t shared_info; /* MACHINE address of the shared-info page (map it yourself) */
  uint32_t flags; /* SIF_* */
  uint64_t store_mfn; /* machine frame of the xenstore ring */
  uint32_t store_evtchn; /* event channel of the xenstore ring */
  uint64_t console_mfn; /* machine frame of the console ring (console.domU.mfn) */
  uint32_t console_evtchn; /* event channel of the console ring (console.domU.evtchn) */
  uint32_t console_pad; /* the console union is 16 bytes */
  uint32_t pt_base; /* virtual address of the root page table */
  uint32_t nr_pt_frames; /* frames of initial page tables (root first) */
  uint32_t mfn_list; /* virtual address of the P2M list: nr_pages 32-bit machine frames */
  uint32_t mod_start; /* virtual address of a boot module (0 if none) */
  uint32_t mod_len; /* its length */
  uint8_t cmd_line[1024]; /* NUL-terminated command line */
  uint32_t first_p2m_pfn; /* pfn of the first P2M frame */
  uint32_t nr_p2m_frames; /* frames of the P2M list */
};
_Static_assert(sizeof(struct start_info) == 1136, "start_info size");
_Static_assert(offsetof(struct start_info, magic) == 0, "start_info.magic");
_Static_assert(offsetof(struct start_info, nr_pages) == 32, "start_info.nr_pages");
_Static_assert(offsetof(struct start_info, shared_info) == 36, "start_info.shared_info");
_Static_assert(offsetof(struct start_info, flags) == 40, "start_info.flags");
_Static_assert(offsetof(struct start_info, store_mfn) == 48, "start_info.store_mfn");
_Static_assert(offsetof(struct start_info, store_evtchn) == 56, "start_info.store_evtchn");
_Static_assert(offsetof(struct start_info, console_mfn) == 64, "start_info.console_mfn");
_Static_assert(offsetof(struct start_info, console_evtchn) == 72, "start_info.console_evtchn");
_Static_assert(offsetof(struct start_info, console_pad) == 76, "start_info.console_pad");
_Static_assert(offsetof(struct start_info, pt_base) == 80, "start_info.pt_base");
_Static_assert(offsetof(struct start_info, nr_pt_frames) == 84, "start_info.nr_pt_frames");
_Static_assert(offsetof(struct start_info, mfn_list) == 88, "start_info.mfn_list");
_Static_assert(offsetof(struct start_info, mod_start) == 92, "start_info.mod_start");
_Static_assert(offsetof(struct start_info, mod_len) == 96, "start_info.mod_len");
_Static_assert(offsetof(struct start_info, cmd_line) == 100, "start_info.cmd_line");
_Static_assert(offsetof(struct start_info, first_p2m_pfn) == 1124, "start_info.first_p2m_pfn");
_Static_assert(offsetof(struct start_info, nr_p2m_frames) == 1128, "start_info.nr_p2m_frames");

/* ---- vcpu ---- */
#define RUNSTATE_blocked 0x2u
#define RUNSTATE_offline 0x3u
#define RUNSTATE_runnable 0x1u
#define RUNSTATE_running 0x0u
#define VCPUOP_down 0x2u
#define VCPUOP_get_runstate_info 0x4u
#define VCPUOP_initialise 0x0u
#define VCPUOP_is_up 0x3u
#define VCPUOP_set_singleshot_timer 0x8u
#define VCPUOP_stop_singleshot_timer 0x9u
#define VCPUOP_up 0x1u
#define VCPU_SSHOTTMR_future 0x1u
/* initial registers of a secondary vCPU */
struct vcpu_guest_context {
  uint32_t x[32]; /* integer registers x0..x31 */
  uint32_t pc; /* where it starts (S-mode) */
  uint32_t satp; /* Sv32 satp naming a root table that validates */
  uint32_t stvec; /* its trap vector */
  uint32_t sscratch; /* its sscratch */
};
_Static_assert(sizeof(struct vcpu_guest_context) == 144, "vcpu_guest_context size");
_Static_assert(offsetof(struct vcpu_guest_context, x) == 0, "vcpu_guest_context.x");
_Static_assert(offsetof(struct vcpu_guest_context, pc) == 128, "vcpu_guest_context.pc");
_Static_assert(offsetof(struct vcpu_guest_context, satp) == 132, "vcpu_guest_context.satp");
_Static_assert(offsetof(struct vcpu_guest_context, stvec) == 136, "vcpu_guest_context.stvec");
_Static_assert(offsetof(struct vcpu_guest_context, sscratch) == 140, "vcpu_guest_context.sscratch");
/* time spent in each state */
struct vcpu_runstate_info {
  int32_t state; /* RUNSTATE_* */
  uint64_t state_entry_time; /* system time of entry into the current state */
  uint64_t time[4]; /* ns spent in each state */
};
_Static_assert(sizeof(struct vcpu_runstate_info) == 48, "vcpu_runstate_info size");
_Static_assert(offsetof(struct vcpu_runstate_info, state) == 0, "vcpu_runstate_info.state");
_Static_assert(offsetof(struct vcpu_runstate_info, state_entry_time) == 8, "vcpu_runstate_info.state_entry_time");
_Static_assert(offsetof(struct vcpu_runstate_info, time) == 16, "vcpu_runstate_info.time");
/* arm a timer */
struct vcpu_set_singleshot_timer {
  uint64_t timeout_abs_ns;
  uint32_t flags; /* VCPU_SSHOTTMR_* */
};
_Static_assert(sizeof(struct vcpu_set_singleshot_timer) == 16, "vcpu_set_singleshot_timer size");
_Static_assert(offsetof(struct vcpu_set_singleshot_timer, timeout_abs_ns) == 0, "vcpu_set_singleshot_timer.timeout_abs_ns");
_Static_assert(offsetof(struct vcpu_set_singleshot_timer, flags) == 8, "vcpu_set_singleshot_timer.flags");

/* ---- version ---- */
#define CONSOLEIO_MAX 0x1000u
#define CONSOLEIO_read 0x1u
#define CONSOLEIO_write 0x0u
#define XENVER_capabilities 0x3u
#define XENVER_extraversion 0x1u
#define XENVER_get_features 0x6u
#define XENVER_pagesize 0x7u
#define XENVER_version 0x0u
#define XEN_CAPABILITIES "xen-3.0-riscv32"
#define XEN_EXTRAVERSION "-paravirt"
#define XEN_VERSION_MAJOR 0x4u
#define XEN_VERSION_MINOR 0x11u

/* ---- xenstore wire protocol ---- */
#define XENSTORE_ABS_PATH_MAX 0xc00u
#define XENSTORE_CONNECTED 0x0u
#define XENSTORE_ERROR_COMM 0x1u
#define XENSTORE_ERROR_NONE 0x0u
#define XENSTORE_ERROR_PROTO 0x3u
#define XENSTORE_ERROR_RINGIDX 0x2u
#define XENSTORE_PAYLOAD_MAX 0x1000u
#define XENSTORE_RECONNECT 0x1u
#define XENSTORE_REL_PATH_MAX 0x800u
#define XENSTORE_RING_SIZE 0x400u
#define XENSTORE_SERVER_FEATURE_ERROR 0x2u
#define XENSTORE_SERVER_FEATURE_RECONNECTION 0x1u
#define XS_CONTROL 0x0u
#define XS_DEBUG 0x0u
#define XS_DIRECTORY 0x1u
#define XS_DIRECTORY_PART 0x16u
#define XS_ERROR 0x10u
#define XS_GET_DOMAIN_PATH 0xau
#define XS_GET_PERMS 0x3u
#define XS_INTRODUCE 0x8u
#define XS_INVALID 0xffffu
#define XS_IS_DOMAIN_INTRODUCED 0x11u
#define XS_MKDIR 0xcu
#define XS_READ 0x2u
#define XS_RELEASE 0x9u
#define XS_RESET_WATCHES 0x15u
#define XS_RESUME 0x12u
#define XS_RM 0xdu
#define XS_SET_PERMS 0xeu
#define XS_SET_TARGET 0x13u
#define XS_TRANSACTION_END 0x7u
#define XS_TRANSACTION_START 0x6u
#define XS_TYPE_COUNT 0x17u
#define XS_UNWATCH 0x5u
#define XS_WATCH 0x4u
#define XS_WATCH_EVENT 0xfu
#define XS_WATCH_PATH 0x0u
#define XS_WATCH_TOKEN 0x1u
#define XS_WRITE 0xbu
#define XS_WRITE_CREATE "CREATE"
#define XS_WRITE_CREATE_EXCL "CREATE|EXCL"
#define XS_WRITE_NONE "NONE"
/* the xenstore ring page */
struct xenstore_domain_interface {
  uint8_t req[1024]; /* requests to xenstored */
  uint8_t rsp[1024]; /* replies and watch events */
  uint32_t req_cons; /* written by xenstored */
  uint32_t req_prod; /* written by the guest */
  uint32_t rsp_cons; /* written by the guest */
  uint32_t rsp_prod; /* written by xenstored */
  uint32_t server_features; /* XENSTORE_SERVER_FEATURE_* bits, written by xenstored */
  uint32_t connection; /* XENSTORE_CONNECTED or XENSTORE_RECONNECT */
  uint32_t error; /* XENSTORE_ERROR_*, written by xenstored */
};
_Static_assert(sizeof(struct xenstore_domain_interface) == 2076, "xenstore_domain_interface size");
_Static_assert(offsetof(struct xenstore_domain_interface, req) == 0, "xenstore_domain_interface.req");
_Static_assert(offsetof(struct xenstore_domain_interface, rsp) == 1024, "xenstore_domain_interface.rsp");
_Static_assert(offsetof(struct xenstore_domain_interface, req_cons) == 2048, "xenstore_domain_interface.req_cons");
_Static_assert(offsetof(struct xenstore_domain_interface, req_prod) == 2052, "xenstore_domain_interface.req_prod");
_Static_assert(offsetof(struct xenstore_domain_interface, rsp_cons) == 2056, "xenstore_domain_interface.rsp_cons");
_Static_assert(offsetof(struct xenstore_domain_interface, rsp_prod) == 2060, "xenstore_domain_interface.rsp_prod");
_Static_assert(offsetof(struct xenstore_domain_interface, server_features) == 2064, "xenstore_domain_interface.server_features");
_Static_assert(offsetof(struct xenstore_domain_interface, connection) == 2068, "xenstore_domain_interface.connection");
_Static_assert(offsetof(struct xenstore_domain_interface, error) == 2072, "xenstore_domain_interface.error");
/* xenstore message header, followed by len payload bytes */
struct xsd_sockmsg {
  uint32_t type; /* XS_* */
  uint32_t req_id; /* request id, echoed in the reply */
  uint32_t tx_id; /* transaction id, 0 outside a transaction */
  uint32_t len; /* payload bytes that follow (at most XENSTORE_PAYLOAD_MAX) */
};
_Static_assert(sizeof(struct xsd_sockmsg) == 16, "xsd_sockmsg size");
_Static_assert(offsetof(struct xsd_sockmsg, type) == 0, "xsd_sockmsg.type");
_Static_assert(offsetof(struct xsd_sockmsg, req_id) == 4, "xsd_sockmsg.req_id");
_Static_assert(offsetof(struct xsd_sockmsg, tx_id) == 8, "xsd_sockmsg.tx_id");
_Static_assert(offsetof(struct xsd_sockmsg, len) == 12, "xsd_sockmsg.len");

/* ---- xenbus states ---- */
#define XenbusStateClosed 0x6u
#define XenbusStateClosing 0x5u
#define XenbusStateConnected 0x4u
#define XenbusStateInitWait 0x2u
#define XenbusStateInitialised 0x3u
#define XenbusStateInitialising 0x1u
#define XenbusStateReconfigured 0x8u
#define XenbusStateReconfiguring 0x7u
#define XenbusStateUnknown 0x0u

/* ---- block devices (io/blkif.h) ---- */
#define BLKIF_DISCARD_SECURE 0x1u
#define BLKIF_KEY_DISCARD_ALIGNMENT "discard-alignment"
#define BLKIF_KEY_DISCARD_GRANULARITY "discard-granularity"
#define BLKIF_KEY_DISCARD_SECURE "discard-secure"
#define BLKIF_KEY_EVENT_CHANNEL "event-channel"
#define BLKIF_KEY_FEATURE_BARRIER "feature-barrier"
#define BLKIF_KEY_FEATURE_DISCARD "feature-discard"
#define BLKIF_KEY_FEATURE_FLUSH_CACHE "feature-flush-cache"
#define BLKIF_KEY_FEATURE_MAX_INDIRECT_SEGMENTS "feature-max-indirect-segments"
#define BLKIF_KEY_FEATURE_PERSISTENT "feature-persistent"
#define BLKIF_KEY_INFO "info"
#define BLKIF_KEY_PHYSICAL_SECTOR_SIZE "physical-sector-size"
#define BLKIF_KEY_PROTOCOL "protocol"
#define BLKIF_KEY_RING_REF "ring-ref"
#define BLKIF_KEY_SECTORS "sectors"
#define BLKIF_KEY_SECTOR_SIZE "sector-size"
#define BLKIF_KEY_VIRTUAL_DEVICE "virtual-device"
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 0x8u
#define BLKIF_MAX_SEGMENTS_PER_REQUEST 0xbu
#define BLKIF_OP_DISCARD 0x5u
#define BLKIF_OP_FLUSH_DISKCACHE 0x3u
#define BLKIF_OP_INDIRECT 0x6u
#define BLKIF_OP_READ 0x0u
#define BLKIF_OP_RESERVED_1 0x4u
#define BLKIF_OP_WRITE 0x1u
#define BLKIF_OP_WRITE_BARRIER 0x2u
#define BLKIF_RING_SLOT_SIZE 0x70u
#define BLKIF_RSP_EOPNOTSUPP (-2)
#define BLKIF_RSP_ERROR (-1)
#define BLKIF_RSP_OKAY 0x0u
#define BLKIF_SECTORS_PER_FRAME 0x8u
#define BLKIF_SECTOR_SIZE 0x200u
#define BLKIF_SEGMENTS_PER_INDIRECT_FRAME 0x200u
#define VDISK_CDROM 0x1u
#define VDISK_READONLY 0x4u
#define VDISK_REMOVABLE 0x2u
#define XEN_IO_PROTO_ABI_ARM "arm-abi"
#define XEN_IO_PROTO_ABI_NATIVE "arm-abi"
/* one granted frame and the sectors of it a request transfers */
struct blkif_request_segment {
  uint32_t gref; /* grant reference of the frame */
  uint8_t first_sect; /* first sector in the frame (inclusive) */
  uint8_t last_sect; /* last sector in the frame (inclusive, at most 7) */
};
_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif_request_segment size");
_Static_assert(offsetof(struct blkif_request_segment, gref) == 0, "blkif_request_segment.gref");
_Static_assert(offsetof(struct blkif_request_segment, first_sect) == 4, "blkif_request_segment.first_sect");
_Static_assert(offsetof(struct blkif_request_segment, last_sect) == 5, "blkif_request_segment.last_sect");
/* a block request (read, write, write barrier, flush) */
struct blkif_request {
  uint8_t operation; /* BLKIF_OP_* */
  uint8_t nr_segments; /* segments used */
  uint16_t handle; /* virtual device (blkif_vdev_t) */
  uint64_t id; /* the frontend's value, echoed in the response */
  uint64_t sector_number; /* first 512-byte sector on the disk */
  struct blkif_request_segment seg[11];
};
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request size");
_Static_assert(offsetof(struct blkif_request, operation) == 0, "blkif_request.operation");
_Static_assert(offsetof(struct blkif_request, nr_segments) == 1, "blkif_request.nr_segments");
_Static_assert(offsetof(struct blkif_request, handle) == 2, "blkif_request.handle");
_Static_assert(offsetof(struct blkif_request, id) == 8, "blkif_request.id");
_Static_assert(offsetof(struct blkif_request, sector_number) == 16, "blkif_request.sector_number");
_Static_assert(offsetof(struct blkif_request, seg) == 24, "blkif_request.seg");
/* a discard request */
struct blkif_request_discard {
  uint8_t operation; /* BLKIF_OP_DISCARD */
  uint8_t flag; /* BLKIF_DISCARD_SECURE or 0 */
  uint16_t handle; /* virtual device */
  uint64_t id; /* echoed in the response */
  uint64_t sector_number; /* first sector to discard */
  uint64_t nr_sectors; /* contiguous sectors to discard */
};
_Static_assert(sizeof(struct blkif_request_discard) == 32, "blkif_request_discard size");
_Static_assert(offsetof(struct blkif_request_discard, operation) == 0, "blkif_request_discard.operation");
_Static_assert(offsetof(struct blkif_request_discard, flag) == 1, "blkif_request_discard.flag");
_Static_assert(offsetof(struct blkif_request_discard, handle) == 2, "blkif_request_discard.handle");
_Static_assert(offsetof(struct blkif_request_discard, id) == 8, "blkif_request_discard.id");
_Static_assert(offsetof(struct blkif_request_discard, sector_number) == 16, "blkif_request_discard.sector_number");
_Static_assert(offsetof(struct blkif_request_discard, nr_sectors) == 24, "blkif_request_discard.nr_sectors");
/* an indirect read or write */
struct blkif_request_indirect {
  uint8_t operation; /* BLKIF_OP_INDIRECT */
  uint8_t indirect_op; /* BLKIF_OP_READ or BLKIF_OP_WRITE */
  uint16_t nr_segments; /* segments, in the indirect pages */
  uint64_t id; /* echoed in the response */
  uint64_t sector_number; /* first sector */
  uint16_t handle; /* virtual device */
  uint32_t indirect_grefs[8]; /* grants of the pages */
};
_Static_assert(sizeof(struct blkif_request_indirect) == 64, "blkif_request_indirect size");
_Static_assert(offsetof(struct blkif_request_indirect, operation) == 0, "blkif_request_indirect.operation");
_Static_assert(offsetof(struct blkif_request_indirect, indirect_op) == 1, "blkif_request_indirect.indirect_op");
_Static_assert(offsetof(struct blkif_request_indirect, nr_segments) == 2, "blkif_request_indirect.nr_segments");
_Static_assert(offsetof(struct blkif_request_indirect, id) == 8, "blkif_request_indirect.id");
_Static_assert(offsetof(struct blkif_request_indirect, sector_number) == 16, "blkif_request_indirect.sector_number");
_Static_assert(offsetof(struct blkif_request_indirect, handle) == 24, "blkif_request_indirect.handle");
_Static_assert(offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "blkif_request_indirect.indirect_grefs");
/* a block response */
struct blkif_response {
  uint64_t id; /* copied from the request */
  uint8_t operation; /* copied from the request */
  int16_t status; /* BLKIF_RSP_* */
};
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response size");
_Static_assert(offsetof(struct blkif_response, id) == 0, "blkif_response.id");
_Static_assert(offsetof(struct blkif_response, operation) == 8, "blkif_response.operation");
_Static_assert(offsetof(struct blkif_response, status) == 10, "blkif_response.status");

/* ---- console ring (io/console.h) ---- */
#define XENCONS_IN_SIZE 0x400u
#define XENCONS_OUT_SIZE 0x800u
/* the console ring page */
struct xencons_interface {
  uint8_t in[1024]; /* typed input, produced by the backend */
  uint8_t out[2048]; /* output, produced by the guest */
  uint32_t in_cons; /* guest: input consumed */
  uint32_t in_prod; /* backend: input produced */
  uint32_t out_cons; /* backend: output consumed */
  uint32_t out_prod; /* guest: output produced */
};
_Static_assert(sizeof(struct xencons_interface) == 3088, "xencons_interface size");
_Static_assert(offsetof(struct xencons_interface, in) == 0, "xencons_interface.in");
_Static_assert(offsetof(struct xencons_interface, out) == 1024, "xencons_interface.out");
_Static_assert(offsetof(struct xencons_interface, in_cons) == 3072, "xencons_interface.in_cons");
_Static_assert(offsetof(struct xencons_interface, in_prod) == 3076, "xencons_interface.in_prod");
_Static_assert(offsetof(struct xencons_interface, out_cons) == 3080, "xencons_interface.out_cons");
_Static_assert(offsetof(struct xencons_interface, out_prod) == 3084, "xencons_interface.out_prod");

#endif /* PARAVIRT_ABI_H */
