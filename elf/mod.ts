/**
 * Reading RV32 RISC-V ELF executables: the header, loadable segments and symbols, validated
 * strictly so a malformed image gets a clear {@link ElfFormatError}.
 *
 * ```ts
 * import { parseElf } from "@paravirt/elf";
 * const image = parseElf(await Deno.readFile("guests/bin/hello.elf"));
 * console.log(image.entry.toString(16), image.segments.length);
 * ```
 *
 * @module
 */

export * from "./parse.ts";
