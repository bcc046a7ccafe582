/**
 * The board's physical memory map, compatible with QEMU's `virt` machine where it matters so the
 * same binaries run on both:
 *
 * ```
 *   0x0000_1000  boot ROM (none here)
 *   0x0010_0000  SiFive test finisher ........ 0x1000   (0x5555 pass, code<<16|0x3333 fail)
 *   0x0200_0000  CLINT ........................ 0x10000  (msip +0, mtimecmp +0x4000, mtime +0xbff8)
 *   0x0c00_0000  PLIC ......................... 0x600000 (context 0 = hart 0 M, 1 = hart 0 S)
 *   0x1000_0000  16550 UART ................... 0x100    (PLIC source 10)
 *   0x8000_0000  RAM .......................... ramSize  (default 128 MiB)
 * ```
 *
 * @module
 */

/** SiFive test finisher. */
export const TEST_BASE = 0x0010_0000;
/** Size of the test finisher window. */
export const TEST_SIZE = 0x1000;
/** Core-local interruptor (software and timer interrupts). */
export const CLINT_BASE = 0x0200_0000;
/** Size of the CLINT window. */
export const CLINT_SIZE = 0x10000;
/** Platform-level interrupt controller. */
export const PLIC_BASE = 0x0c00_0000;
/** Size of the PLIC window (enough for 2 contexts). */
export const PLIC_SIZE = 0x60_0000;
/** 16550-compatible UART. */
export const UART_BASE = 0x1000_0000;
/** Size of the UART window. */
export const UART_SIZE = 0x100;
/** PLIC interrupt source of the UART (as on QEMU virt). */
export const UART_IRQ = 10;
/** First byte of RAM. */
export const RAM_BASE = 0x8000_0000;
