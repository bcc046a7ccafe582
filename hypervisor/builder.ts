/**
 * The PV domain builder (Xen's `xc_dom_*` done inside the hypervisor): loads a kernel ELF into a
 * fresh domain's pages, lays out start-info, the P2M list, the initial page tables and the ring
 * pages after it, validates and pins the tables, and points vCPU 0 at the entry in S-mode with
 * paging on — the layout `public/README.md` ("The PV guest contract") promises.
 *
 * Rules of use: build a domain exactly once, while it is paused. A malformed or oversized image
 * throws {@link BuildError} naming the problem, before anything of the domain is touched.
 *
 * @module
 */

import { ElfFormatError, type ElfImage, parseElf, PF_X } from "@paravirt/elf";
import {
  FRAME_TYPE_PT_ROOT,
  makePte,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_R,
  PTE_V,
  PTE_W,
  PTE_X,
} from "@paravirt/mmu";
import {
  MAX_GUEST_CMDLINE,
  PV_VIRT_BASE,
  SIF_PRIVILEGED,
  START_INFO,
  START_INFO_MAGIC,
} from "@paravirt/public";
import type { Domain } from "./domain.ts";
import { configurePvHart } from "./vcpu.ts";

/** The kernel image cannot be built into the domain; the message says why. */
export class BuildError extends Error {
  /** Creates the error with a message naming the problem. */
  constructor(message: string) {
    super(message);
    this.name = "BuildError";
  }
}

/** Options for {@link buildPvDomain}. */
export interface BuildOptions {
  /** Kernel command line (at most 1023 bytes). */
  cmdline?: string;
  /** A boot module (initrd) placed after the ring pages. */
  module?: Uint8Array;
  /** Event channel of the xenstore ring (allocated by the caller), or 0. */
  storeEvtchn?: number;
  /** Event channel of the console ring, or 0. */
  consoleEvtchn?: number;
}

/** Where the builder put things (pseudo-physical page numbers and virtual addresses). */
export interface BuildLayout {
  /** Kernel entry (virtual). */
  readonly entry: number;
  /** Virtual address of start-info (the kernel's a0). */
  readonly startInfoVa: number;
  /** Pfn of the start-info page. */
  readonly startInfoPfn: number;
  /** Pfn of the first P2M page. */
  readonly p2mPfn: number;
  /** Pages of P2M. */
  readonly p2mPages: number;
  /** Pfn of the root table (leaf tables follow). */
  readonly rootPfn: number;
  /** Leaf tables of the linear map. */
  readonly leafTables: number;
  /** Pfn of the console ring page. */
  readonly consolePfn: number;
  /** Pfn of the xenstore ring page. */
  readonly storePfn: number;
  /** First pfn the kernel may use freely. */
  readonly firstFreePfn: number;
  /** The xenstore ring's port (unbound, for dom0), or 0. */
  readonly storePort: number;
  /** The console ring's port (unbound, for dom0), or 0. */
  readonly consolePort: number;
}

const PAGE = 4096;
const LINEAR_FLAGS = PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G;
const TABLE_FLAGS = PTE_V | PTE_R | PTE_A | PTE_G;
const ROOT_INDEX_BASE = PV_VIRT_BASE >>> 22;

/** Parses and checks a PV kernel image for a domain of `pages` pages. Throws {@link BuildError}. */
export function checkKernel(bytes: Uint8Array, pages: number): ElfImage {
  let image: ElfImage;
  try {
    image = parseElf(bytes);
  } catch (error) {
    if (error instanceof ElfFormatError) throw new BuildError(`Kernel image: ${error.message}`);
    throw error;
  }
  if (image.segments.length === 0) throw new BuildError("Kernel image has no loadable segment");
  const limit = PV_VIRT_BASE + pages * PAGE;
  for (const [i, segment] of image.segments.entries()) {
    const start = segment.virtualAddress >>> 0;
    const end = start + segment.memorySize;
    if (start < PV_VIRT_BASE) {
      throw new BuildError(
        `Kernel segment ${i} at 0x${start.toString(16)} lies below 0x${
          PV_VIRT_BASE.toString(16)
        }, where PV kernels must be linked`,
      );
    }
    if (end > limit) {
      throw new BuildError(
        `Kernel segment ${i} ends at 0x${end.toString(16)}, beyond the domain's ${
          pages * 4
        } KiB of memory`,
      );
    }
  }
  const entry = image.entry >>> 0;
  const inCode = image.segments.some((s) =>
    (s.flags & PF_X) !== 0 && entry >= s.virtualAddress >>> 0 &&
    entry < (s.virtualAddress >>> 0) + s.memorySize
  );
  if (!inCode) {
    throw new BuildError(`Kernel entry 0x${entry.toString(16)} is not in an executable segment`);
  }
  return image;
}

/**
 * Builds `domain` from a PV kernel image: loads it, writes start-info, the P2M list and the page
 * tables, validates and pins the root, and readies vCPU 0. Returns the layout. Throws
 * {@link BuildError} when the image is malformed or does not fit.
 */
export function buildPvDomain(
  domain: Domain,
  kernel: Uint8Array,
  options: BuildOptions = {},
): BuildLayout {
  const pages = domain.initialPages;
  const image = checkKernel(kernel, pages);
  const cmdline = new TextEncoder().encode(options.cmdline ?? "");
  if (cmdline.length >= MAX_GUEST_CMDLINE) {
    throw new BuildError(
      `Command line of ${cmdline.length} bytes exceeds ${MAX_GUEST_CMDLINE - 1}`,
    );
  }
  const module = options.module ?? new Uint8Array(0);

  // Layout after the image.
  const imageEnd = Math.max(...image.segments.map((s) => (s.virtualAddress >>> 0) + s.memorySize));
  let pfn = Math.ceil((imageEnd - PV_VIRT_BASE) / PAGE);
  const startInfoPfn = pfn++;
  const p2mPfn = pfn;
  const p2mPages = Math.ceil((pages * 4) / PAGE);
  pfn += p2mPages;
  const rootPfn = pfn++;
  const leafTables = Math.ceil(pages / 1024);
  pfn += leafTables;
  const consolePfn = pfn++;
  const storePfn = pfn++;
  const modulePfn = pfn;
  pfn += Math.ceil(module.length / PAGE);
  if (pfn > pages) {
    throw new BuildError(
      `Kernel, start-info, P2M, page tables, rings and module need ${pfn} pages; the domain has ${pages}`,
    );
  }

  // Populate every page and load the image.
  for (let p = 0; p < pages; p++) domain.populate(p, p);
  const region = domain.region;
  const bytes = region.bytes;
  for (const segment of image.segments) {
    const offset = (segment.virtualAddress >>> 0) - PV_VIRT_BASE;
    bytes.set(segment.data, offset);
  }

  // P2M list: pfn -> mfn.
  const words = region.words;
  for (let p = 0; p < pages; p++) words[(p2mPfn * PAGE) / 4 + p] = domain.initialMfn(p);

  // Page tables: the root points at the leaf tables; they map every page, tables read-only.
  const rootWord = (rootPfn * PAGE) / 4;
  for (let t = 0; t < leafTables; t++) {
    words[rootWord + ROOT_INDEX_BASE + t] = makePte(domain.initialMfn(rootPfn + 1 + t), PTE_V);
  }
  const firstTable = rootPfn;
  const lastTable = rootPfn + leafTables;
  for (let p = 0; p < pages; p++) {
    const isTable = p >= firstTable && p <= lastTable;
    const leafWord = ((rootPfn + 1 + (p >>> 10)) * PAGE) / 4 + (p & 1023);
    words[leafWord] = makePte(domain.initialMfn(p), isTable ? TABLE_FLAGS : LINEAR_FLAGS);
  }
  const rootMfn = domain.initialMfn(rootPfn);
  // Validating pins the root and gives vCPU 0 its base reference, exactly as a guest's own
  // PIN_L2_TABLE and NEW_BASEPTR would: the builder gets no shortcut past the checks.
  const pinned = domain.paging.pin(rootMfn, FRAME_TYPE_PT_ROOT);
  const based = pinned === 0 ? domain.paging.getType(rootMfn, FRAME_TYPE_PT_ROOT) : pinned;
  if (based !== 0) throw new Error(`Builder produced tables that do not validate (${based})`);

  // The boot module.
  bytes.set(module, modulePfn * PAGE);

  // start-info.
  const si = startInfoPfn * PAGE;
  const view = new DataView(region.buffer, si, PAGE);
  const magic = new TextEncoder().encode(START_INFO_MAGIC);
  bytes.set(magic, si + START_INFO.offset.magic);
  const o = START_INFO.offset;
  view.setUint32(o.nr_pages, pages, true);
  view.setUint32(o.shared_info, domain.sharedInfoMfn * PAGE, true);
  view.setUint32(o.flags, domain.privileged ? SIF_PRIVILEGED : 0, true);
  view.setUint32(o.store_mfn, domain.initialMfn(storePfn), true);
  view.setUint32(o.store_evtchn, options.storeEvtchn ?? 0, true);
  view.setUint32(o.console_mfn, domain.initialMfn(consolePfn), true);
  view.setUint32(o.console_evtchn, options.consoleEvtchn ?? 0, true);
  view.setUint32(o.pt_base, PV_VIRT_BASE + rootPfn * PAGE, true);
  view.setUint32(o.nr_pt_frames, 1 + leafTables, true);
  view.setUint32(o.mfn_list, PV_VIRT_BASE + p2mPfn * PAGE, true);
  view.setUint32(o.mod_start, module.length > 0 ? PV_VIRT_BASE + modulePfn * PAGE : 0, true);
  view.setUint32(o.mod_len, module.length, true);
  bytes.set(cmdline, si + o.cmd_line);
  view.setUint32(o.first_p2m_pfn, p2mPfn, true);
  view.setUint32(o.nr_p2m_frames, p2mPages, true);

  // vCPU 0: S-mode, paging on, a0 = start-info.
  const vcpu = domain.vcpus[0];
  const hart = vcpu.hart;
  configurePvHart(hart);
  hart.pc = image.entry | 0;
  hart.x[10] = (PV_VIRT_BASE + startInfoPfn * PAGE) | 0;
  vcpu.baseMfn = rootMfn;
  hart.setSatp((0x8000_0000 | rootMfn) | 0);
  vcpu.up = true;

  return {
    entry: image.entry >>> 0,
    startInfoVa: PV_VIRT_BASE + startInfoPfn * PAGE,
    startInfoPfn,
    p2mPfn,
    p2mPages,
    rootPfn,
    leafTables,
    consolePfn,
    storePfn,
    firstFreePfn: pfn,
    storePort: options.storeEvtchn ?? 0,
    consolePort: options.consoleEvtchn ?? 0,
  };
}
