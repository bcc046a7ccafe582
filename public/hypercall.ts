/**
 * The hypercall ABI of paravirt on RISC-V (Xen has no official RISC-V convention; this is ours):
 *
 * - A PV guest kernel runs in S-mode. A hypercall is `ecall` from S-mode with
 *   `a7` = {@link HYPERCALL_EXTENSION} (an SBI extension ID in the experimental range
 *   0x0800_0000-0x08FF_FFFF, "\bXEN"), `a6` = the `__HYPERVISOR_*` number, `a0`-`a4` = arguments.
 *   The result comes back in `a0`: zero or a positive value on success, a negated Xen errno
 *   (`errno.ts`) on failure. Other registers are preserved.
 * - 64-bit arguments (set_timer_op's timeout) are passed as two registers, low word first.
 * - Pointers in arguments and in guest handles are guest virtual addresses, translated through
 *   the calling vCPU's page tables; machine addresses and frame numbers are explicit.
 * - Ordinary SBI calls (base, time, legacy console, system reset) arrive on the same trap and are
 *   served too. A kernel learns it is paravirtualized by asking the SBI base extension to probe
 *   {@link HYPERCALL_EXTENSION}: 1 under the hypervisor, 0 on the bare board.
 *
 * Numbers are Xen's (`xen/xen.h`).
 *
 * @module
 */

/** `a7` value of a hypercall: an SBI extension ID in the experimental range. */
export const HYPERCALL_EXTENSION = 0x0858454e;

/** Update page-table entries (validated). */
export const HYPERVISOR_mmu_update = 1;
/** Memory reservation and queries. */
export const HYPERVISOR_memory_op = 12;
/** Batch of hypercalls. */
export const HYPERVISOR_multicall = 13;
/** Update the PTE that maps one virtual address. */
export const HYPERVISOR_update_va_mapping = 14;
/** Set the one-shot timer (VIRQ_TIMER). */
export const HYPERVISOR_set_timer_op = 15;
/** Version and feature queries. */
export const HYPERVISOR_xen_version = 17;
/** Hypervisor console. */
export const HYPERVISOR_console_io = 18;
/** Grant tables. */
export const HYPERVISOR_grant_table_op = 20;
/** Per-vCPU operations. */
export const HYPERVISOR_vcpu_op = 24;
/** Extended MMU operations (pin, base pointer, TLB). */
export const HYPERVISOR_mmuext_op = 26;
/** Scheduler operations. */
export const HYPERVISOR_sched_op = 29;
/** Event channels. */
export const HYPERVISOR_event_channel_op = 32;

/** Names of the hypercalls we serve, for logs and metrics. */
export const HYPERCALL_NAMES: Readonly<Record<number, string>> = {
  [HYPERVISOR_mmu_update]: "mmu_update",
  [HYPERVISOR_memory_op]: "memory_op",
  [HYPERVISOR_multicall]: "multicall",
  [HYPERVISOR_update_va_mapping]: "update_va_mapping",
  [HYPERVISOR_set_timer_op]: "set_timer_op",
  [HYPERVISOR_xen_version]: "xen_version",
  [HYPERVISOR_console_io]: "console_io",
  [HYPERVISOR_grant_table_op]: "grant_table_op",
  [HYPERVISOR_vcpu_op]: "vcpu_op",
  [HYPERVISOR_mmuext_op]: "mmuext_op",
  [HYPERVISOR_sched_op]: "sched_op",
  [HYPERVISOR_event_channel_op]: "event_channel_op",
};

// SBI (RISC-V Supervisor Binary Interface v2.0) numbers served to PV guests.
/** SBI base extension. */
export const SBI_EXT_BASE = 0x10;
/** SBI timer extension ("TIME"). */
export const SBI_EXT_TIME = 0x54494d45;
/** SBI system reset extension ("SRST"). */
export const SBI_EXT_SRST = 0x53525354;
/** Legacy console putchar. */
export const SBI_LEGACY_PUTCHAR = 0x01;
/** Legacy console getchar. */
export const SBI_LEGACY_GETCHAR = 0x02;
/** Legacy shutdown. */
export const SBI_LEGACY_SHUTDOWN = 0x08;
/** Base: get specification version. */
export const SBI_BASE_GET_SPEC_VERSION = 0;
/** Base: get implementation id. */
export const SBI_BASE_GET_IMPL_ID = 1;
/** Base: get implementation version. */
export const SBI_BASE_GET_IMPL_VERSION = 2;
/** Base: probe extension. */
export const SBI_BASE_PROBE_EXTENSION = 3;
/** Base: mvendorid. */
export const SBI_BASE_GET_MVENDORID = 4;
/** Base: marchid. */
export const SBI_BASE_GET_MARCHID = 5;
/** Base: mimpid. */
export const SBI_BASE_GET_MIMPID = 6;
/** SBI success. */
export const SBI_SUCCESS = 0;
/** SBI error: not supported. */
export const SBI_ERR_NOT_SUPPORTED: number = -2;
/** SBI error: invalid parameter. */
export const SBI_ERR_INVALID_PARAM: number = -3;
/** SBI implementation id we report (none assigned; 0x7061 = "pa"). */
export const SBI_IMPL_ID_PARAVIRT = 0x7061;
