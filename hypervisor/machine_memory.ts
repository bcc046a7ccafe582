/**
 * Machine memory as the hypervisor sees it: every domain region in one physical address space, the
 * frame table over it, and the first-fit allocator that places new regions (see `layout.ts`).
 *
 * Rules of use: a domain's vCPUs never see this address space — each domain has its own
 * {@link PhysicalMemory} holding only its own region (and, later, frames granted to it), so a
 * page-table bug can at worst reach the domain's own frames. This object is for bookkeeping and
 * for the hypervisor's own accesses.
 *
 * @module
 */

import { FrameTable, type MemoryRegion, PhysicalMemory } from "@paravirt/mmu";
import { DOMAIN_FRAMES_END, DOMAIN_FRAMES_FIRST } from "./layout.ts";

/** All machine memory of the host. */
export class MachineMemory {
  /** Every domain region (the hypervisor's view). */
  readonly memory: PhysicalMemory = new PhysicalMemory();
  /** Owner, type and counts of every frame. */
  readonly frames: FrameTable;

  /** Creates an empty machine. */
  constructor() {
    this.frames = new FrameTable(this.memory);
  }

  /**
   * Allocates a region of `frameCount` zeroed frames in the domain area. Throws a RangeError
   * naming the size when the area has no room for it.
   */
  allocateRegion(frameCount: number): MemoryRegion {
    const first = this.memory.findFreeFrames(frameCount, DOMAIN_FRAMES_FIRST);
    if (first < 0 || first + frameCount > DOMAIN_FRAMES_END) {
      throw new RangeError(
        `No room for ${frameCount} frames (${frameCount * 4} KiB) of machine memory`,
      );
    }
    return this.memory.addRam(first * 4096, frameCount * 4096);
  }

  /** Returns a region to the free area and forgets its frames' bookkeeping. */
  releaseRegion(region: MemoryRegion): void {
    this.frames.forget(region);
    this.memory.removeRegion(region);
  }

  /** Frames of machine memory in use by regions. */
  get framesInUse(): number {
    return this.memory.regions.reduce((n, r) => n + r.frameCount, 0);
  }
}
