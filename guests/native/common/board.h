/*
 * board.h — physical addresses of the board's devices (QEMU `virt` compatible).
 *
 * Rules of use: this is the only place a native guest learns where a device lives; never
 * write a device address as a literal elsewhere. All addresses are physical: code running
 * with translation on must map them (identity maps are what the test programs use).
 */
#ifndef BOARD_H
#define BOARD_H

#include <stdint.h>

/* RAM: the image is linked and loaded at the start of RAM (see link.ld). */
#define RAM_BASE 0x80000000u

/* SiFive test device ("finisher"): a 32-bit store ends the machine. */
#define TEST_BASE 0x00100000u
#define TEST_PASS 0x5555u /* exit status 0 */
#define TEST_FAIL 0x3333u /* (code << 16) | TEST_FAIL: exit status `code` */

/* CLINT: per-hart software-interrupt and timer registers (hart 0 only here). */
#define CLINT_BASE 0x02000000u
#define CLINT_MSIP (CLINT_BASE + 0x0000u)     /* 32-bit, bit 0 = mip.MSIP of hart 0 */
#define CLINT_MTIMECMP (CLINT_BASE + 0x4000u) /* 64-bit, hart 0 */
#define CLINT_MTIME (CLINT_BASE + 0xBFF8u)    /* 64-bit, free-running */

/* PLIC: platform-level interrupt controller (not used by the native tests yet). */
#define PLIC_BASE 0x0C000000u

/* 16550 UART, byte registers. */
#define UART_BASE 0x10000000u
#define UART_THR (UART_BASE + 0u) /* transmit holding register (write) */
#define UART_LSR (UART_BASE + 5u) /* line status register */
#define UART_LSR_THRE 0x20u       /* LSR bit 5: THR empty, ready for a byte */

/*
 * A physical address with no device and no RAM behind it on both boards, for access-fault
 * tests. (QEMU `virt` puts its PCIe MMIO window at 0x4000_0000, so that one is not a hole.)
 */
#define UNMAPPED_ADDR 0x08000000u

static inline void mmio_write32(uint32_t addr, uint32_t value) {
  *(volatile uint32_t *)addr = value;
}

static inline uint32_t mmio_read32(uint32_t addr) {
  return *(volatile uint32_t *)addr;
}

static inline void mmio_write8(uint32_t addr, uint8_t value) {
  *(volatile uint8_t *)addr = value;
}

static inline uint8_t mmio_read8(uint32_t addr) {
  return *(volatile uint8_t *)addr;
}

#endif
