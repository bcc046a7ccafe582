/**
 * The board's limits and rates, one commented constant each.
 *
 * @module
 */

/** Default RAM size: 128 MiB, as `qemu-system-riscv32 -M virt` gives by default. */
export const DEFAULT_RAM_SIZE = 128 << 20;
/** Largest RAM the board maps below the top of the 32-bit space (2 GiB from 0x8000_0000). */
export const MAX_RAM_SIZE = 0x8000_0000;
/** CLINT timebase: 10 MHz, as on QEMU virt (`timebase-frequency` in the device tree). */
export const TIMEBASE_HZ = 10_000_000;
/** Instructions per timer tick for the deterministic clock: 100 at a virtual 1 GHz (QEMU icount 0). */
export const INSTRUCTIONS_PER_TICK = 100;
/** Instructions per `run()` slice: bounds timer and input latency to well under a millisecond. */
export const SLICE = 1 << 17;
/** Host milliseconds between yields to the event loop while input is attached. */
export const YIELD_MS = 20;
/** PLIC interrupt sources (1..PLIC_SOURCES-1 usable; 0 means none). */
export const PLIC_SOURCES = 32;
/** PLIC contexts: hart 0 M-mode and hart 0 S-mode. */
export const PLIC_CONTEXTS = 2;
/** UART input clock told to drivers (`clock-frequency`): 3.6864 MHz, as on QEMU virt. */
export const UART_CLOCK_HZ = 3_686_400;
/** Room reserved at the top of RAM for the device tree a kernel boot places there. */
export const FDT_MAX_SIZE = 64 << 10;
