/**
 * Cross-package tests of paravirt, and the tools they are built from.
 *
 * The differential CPU test (`difftest/`) runs seeded random RV32 programs on our board and on
 * QEMU's `virt` machine and compares registers, memory and trap logs; `deno task difftest` runs or
 * replays it from the command line. Its pieces are exported for other tests and benchmarks:
 *
 * - The encoder and assembler it uses live in `@paravirt/cpu` (`encode`, `Assembler`).
 * - {@link writeElfImage}: a minimal ELF32 executable around a code blob.
 * - {@link generateStream}, {@link buildImage}: the seeded program generator and its test image.
 * - {@link runQemu}: QEMU as the reference machine.
 * - {@link parseOutput}, {@link compareOutputs}: signatures and their comparison.
 * - {@link runBatch}, {@link bisectSeed}: the whole loop, and narrowing a mismatch to one group.
 *
 * The block tests' tools are exported for the block benchmark: {@link TsBlkfront}, a blkfront in
 * TypeScript that drives a real backend through a domain's memory as a guest would, and
 * {@link blockRig}, the in-thread hypervisor, xenstored and device supervisor around it.
 *
 * ```ts
 * import { boardMachine, runBatch } from "@paravirt/tests";
 * const result = await runBatch(0, 100, { ours: boardMachine() });
 * console.log(result.comparison.mismatches.length);
 * ```
 *
 * @module
 */

export * from "./difftest/elf_image.ts";
export * from "./difftest/generator.ts";
export * from "./difftest/image.ts";
export * from "./difftest/signature.ts";
export * from "./difftest/compare.ts";
export * from "./difftest/qemu.ts";
export * from "./difftest/runner.ts";
export * from "./difftest/our_machine.ts";
export * from "./block/ts_blkfront.ts";
export * from "./block/rig.ts";
export * from "./net/net_testbed.ts";
