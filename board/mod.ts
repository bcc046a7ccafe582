/**
 * The native board: a QEMU-`virt`-compatible machine (RAM at 0x8000_0000, 16550 UART, CLINT, PLIC,
 * SiFive test finisher, HTIF) around one hart, and the loop that runs a bare-metal ELF on it.
 *
 * ```ts
 * import { runElf } from "@paravirt/board";
 * const result = await runElf(await Deno.readFile("guests/bin/hello.elf"));
 * console.log(result.output, result.exitCode);
 * ```
 *
 * @module
 */

export * from "./layout.ts";
export * from "./params.ts";
export * from "./clock.ts";
export * from "./uart16550.ts";
export * from "./plic.ts";
export * from "./clint.ts";
export * from "./test_finisher.ts";
export * from "./htif.ts";
export * from "./machine.ts";
export * from "./fdt.ts";
export * from "./device_tree.ts";
export * from "./sbi.ts";
