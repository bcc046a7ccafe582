/**
 * The start-info page a PV domain is started with (`struct start_info` in `xen/xen.h`), laid out
 * with our RV32 rules: `unsigned long` is 32 bits, `xen_pfn_t` 64 bits and 8-byte aligned. Its
 * virtual address is in a0 when the domain's first vCPU starts (S-mode, paging on).
 *
 * @module
 */

import { type Struct, struct } from "./struct.ts";

/** Length of the command line field. */
export const MAX_GUEST_CMDLINE = 1024;
/** Magic at the start of start-info: "xen-3.0-riscv32". */
export const START_INFO_MAGIC = "xen-3.0-riscv32";

/** Flag: this is the privileged (control) domain. */
export const SIF_PRIVILEGED = 1 << 0;
/** Flag: this domain is the initial domain. */
export const SIF_INITDOMAIN = 1 << 1;

/** `struct start_info`. */
export const START_INFO: Struct<
  | "magic"
  | "nr_pages"
  | "shared_info"
  | "flags"
  | "store_mfn"
  | "store_evtchn"
  | "console_mfn"
  | "console_evtchn"
  | "console_pad"
  | "pt_base"
  | "nr_pt_frames"
  | "mfn_list"
  | "mod_start"
  | "mod_len"
  | "cmd_line"
  | "first_p2m_pfn"
  | "nr_p2m_frames"
> = struct("start_info", "what a PV domain is told at boot", [
  ["magic", "u8", 32, '"xen-3.0-riscv32", NUL-padded'],
  ["nr_pages", "u32", 1, "pages of pseudo-physical memory"],
  ["shared_info", "u32", 1, "MACHINE address of the shared-info page (map it yourself)"],
  ["flags", "u32", 1, "SIF_*"],
  ["store_mfn", "u64", 1, "machine frame of the xenstore ring"],
  ["store_evtchn", "u32", 1, "event channel of the xenstore ring"],
  ["console_mfn", "u64", 1, "machine frame of the console ring (console.domU.mfn)"],
  ["console_evtchn", "u32", 1, "event channel of the console ring (console.domU.evtchn)"],
  ["console_pad", "u32", 1, "the console union is 16 bytes"],
  ["pt_base", "u32", 1, "virtual address of the root page table"],
  ["nr_pt_frames", "u32", 1, "frames of initial page tables (root first)"],
  ["mfn_list", "u32", 1, "virtual address of the P2M list: nr_pages 32-bit machine frames"],
  ["mod_start", "u32", 1, "virtual address of a boot module (0 if none)"],
  ["mod_len", "u32", 1, "its length"],
  ["cmd_line", "u8", 1024, "NUL-terminated command line"],
  ["first_p2m_pfn", "u32", 1, "pfn of the first P2M frame"],
  ["nr_p2m_frames", "u32", 1, "frames of the P2M list"],
]);

/**
 * Guest virtual layout of a PV domain as the domain builder makes it: pseudo-physical page `pfn`
 * is mapped at {@link PV_VIRT_BASE} + pfn * 4096 (the linear map, writable except page-table
 * frames, which are read-only); the kernel ELF is loaded from pfn 0 at its link address, which
 * must be at or above the base. After the kernel come, page-aligned: start-info, the P2M list, the
 * page tables, the console ring page and the xenstore ring page.
 */
export const PV_VIRT_BASE = 0xc000_0000;
