/**
 * The RV32IMA + Zicsr + Zifencei hart with privilege modes M, S and U, and its instruction loop.
 *
 * - {@link Hart}: registers, pc, privilege, CSRs and the host seam (`hostTraps`, `requestStop`,
 *   `completeMmioLoad`, `raiseTrap`).
 * - {@link run}: executes up to a budget of instructions and returns an {@link Exit}.
 * - {@link encode}, {@link formatInstruction}, {@link Assembler}: an RV32 encoder and a small
 *   assembler for tests and host-built code.
 * - `CSR_*`, `CAUSE_*`, `MSTATUS_*`, `IRQ_*`, `PRIV_*`: the privileged spec's numbers.
 *
 * ```ts
 * import { Hart, run } from "@paravirt/cpu";
 * import { PhysicalMemory } from "@paravirt/mmu";
 * const memory = new PhysicalMemory();
 * memory.addRam(0x8000_0000, 1 << 20);
 * memory.write32(0x8000_0000, 0x0000006f); // j .
 * const hart = new Hart(memory);
 * const exit = run(hart, 1000);
 * console.assert(exit.kind === "budget" && hart.instret === 1000);
 * ```
 *
 * @module
 */

export * from "./csr_numbers.ts";
export * from "./exit.ts";
export * from "./hart.ts";
export { run } from "./run.ts";
export { pendingInterrupt } from "./trap.ts";
export { CSR_ILLEGAL, readCsr, writeCsr } from "./csr.ts";
export * from "./encoder.ts";
export * from "./assembler.ts";
