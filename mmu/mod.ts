/**
 * Machine memory for paravirt: frames in SharedArrayBuffer regions, the physical address space with
 * its MMIO windows, the frame table, and each hart's MMU (Sv32 walker and software TLB).
 *
 * - {@link PhysicalMemory}: RAM regions, MMIO windows, store watches, dirty logging.
 * - {@link MemoryRegion}: one SharedArrayBuffer of consecutive frames.
 * - {@link Mmu} and {@link TlbSet}: per-hart translation with a direct-mapped software TLB.
 * - {@link FrameTable}: owner, type and reference counts per frame (for validated PV paging).
 * - `PTE_*`, `SATP_*`: Sv32 layout.
 *
 * ```ts
 * import { ACCESS_LOAD, Mmu, PhysicalMemory, XLATE_RAM } from "@paravirt/mmu";
 * const memory = new PhysicalMemory();
 * memory.addRam(0x8000_0000, 1 << 20);
 * const mmu = new Mmu(memory);
 * console.assert(mmu.translate(0x8000_0010, ACCESS_LOAD, 3) === XLATE_RAM);
 * ```
 *
 * @module
 */

export * from "./params.ts";
export * from "./region.ts";
export * from "./mmio.ts";
export * from "./physical_memory.ts";
export * from "./sv32.ts";
export * from "./mmu.ts";
export * from "./frame_table.ts";
export * from "./foreign_maps.ts";
