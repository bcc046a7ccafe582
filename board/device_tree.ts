/**
 * The board's device tree: what a kernel booted on it is told about the machine. It describes
 * exactly what the board implements (RV32IMA with Zicsr and Zifencei, Sv32, no FPU, no compressed
 * instructions, no Sstc) and uses the bindings Linux 6.1 and QEMU's `virt` use, so a kernel built
 * for `virt` finds its devices.
 *
 * Rules of use: {@link boardDeviceTree} returns the tree; `encodeFdt` turns it into the blob that
 * `Board.loadKernel` places in RAM. Phandles are fixed numbers (below), so the tree is the same for
 * the same options.
 *
 * @module
 */

import { fdtCells, fdtEmpty, FdtNode, fdtString, fdtStrings, fdtU64 } from "./fdt.ts";
import {
  CLINT_BASE,
  CLINT_SIZE,
  PLIC_BASE,
  PLIC_SIZE,
  RAM_BASE,
  TEST_BASE,
  TEST_SIZE,
  UART_BASE,
  UART_IRQ,
  UART_SIZE,
} from "./layout.ts";
import { PLIC_SOURCES, TIMEBASE_HZ, UART_CLOCK_HZ } from "./params.ts";

/** The ISA string the CPU implements, in the form Linux 6.1's parser accepts. */
export const RISCV_ISA = "rv32ima_zicsr_zifencei";

/** Options for {@link boardDeviceTree}. */
export interface BoardDeviceTreeOptions {
  /** RAM size in bytes. */
  ramSize: number;
  /** Kernel command line (`/chosen/bootargs`; omitted when undefined). */
  bootargs?: string;
  /** Physical range of the initial ramdisk (`linux,initrd-start`/`-end` in `/chosen`). */
  initrd?: { start: number; end: number };
  /** Hart id of the one CPU (default 0). */
  hartId?: number;
}

const PHANDLE_CPU_INTC = 1;
const PHANDLE_PLIC = 2;
const PHANDLE_TEST = 3;

/** Interrupt numbers on the hart's local controller (`riscv,cpu-intc`). */
const IRQ_M_SOFT = 3;
const IRQ_M_TIMER = 7;
const IRQ_S_EXT = 9;
const IRQ_M_EXT = 11;

function reg(base: number, size: number): Uint8Array {
  return fdtCells(0, base, Math.floor(size / 0x1_0000_0000), size % 0x1_0000_0000);
}

/** Builds the device tree of a board with the given RAM, command line and initrd. */
export function boardDeviceTree(options: BoardDeviceTreeOptions): FdtNode {
  const hartId = options.hartId ?? 0;
  const uartPath = `/soc/serial@${UART_BASE.toString(16)}`;
  const root = new FdtNode("")
    .set("#address-cells", fdtCells(2))
    .set("#size-cells", fdtCells(2))
    .set("compatible", fdtStrings("paravirt,board", "riscv-virtio"))
    .set("model", fdtString("paravirt RV32 board"));

  const chosen = root.add(new FdtNode("chosen")).set("stdout-path", fdtString(uartPath));
  if (options.bootargs !== undefined) chosen.set("bootargs", fdtString(options.bootargs));
  if (options.initrd) {
    chosen.set("linux,initrd-start", fdtU64(options.initrd.start));
    chosen.set("linux,initrd-end", fdtU64(options.initrd.end));
  }
  root.add(new FdtNode("aliases")).set("serial0", fdtString(uartPath));

  root.add(new FdtNode(`memory@${RAM_BASE.toString(16)}`))
    .set("device_type", fdtString("memory"))
    .set("reg", reg(RAM_BASE, options.ramSize));

  const cpus = root.add(new FdtNode("cpus"))
    .set("#address-cells", fdtCells(1))
    .set("#size-cells", fdtCells(0))
    .set("timebase-frequency", fdtCells(TIMEBASE_HZ));
  const cpu = cpus.add(new FdtNode(`cpu@${hartId.toString(16)}`))
    .set("device_type", fdtString("cpu"))
    .set("reg", fdtCells(hartId))
    .set("status", fdtString("okay"))
    .set("compatible", fdtString("riscv"))
    .set("riscv,isa", fdtString(RISCV_ISA))
    .set("mmu-type", fdtString("riscv,sv32"));
  cpu.add(new FdtNode("interrupt-controller"))
    .set("#address-cells", fdtCells(0))
    .set("#interrupt-cells", fdtCells(1))
    .set("interrupt-controller", fdtEmpty())
    .set("compatible", fdtString("riscv,cpu-intc"))
    .set("phandle", fdtCells(PHANDLE_CPU_INTC));

  const soc = root.add(new FdtNode("soc"))
    .set("#address-cells", fdtCells(2))
    .set("#size-cells", fdtCells(2))
    .set("compatible", fdtString("simple-bus"))
    .set("ranges", fdtEmpty());
  soc.add(new FdtNode(`test@${TEST_BASE.toString(16)}`))
    .set("compatible", fdtStrings("sifive,test1", "sifive,test0", "syscon"))
    .set("reg", reg(TEST_BASE, TEST_SIZE))
    .set("phandle", fdtCells(PHANDLE_TEST));
  // The syscon poweroff/reboot nodes have no registers of their own: they sit at the root, as on
  // QEMU virt, not on the simple-bus.
  root.add(new FdtNode("poweroff"))
    .set("compatible", fdtString("syscon-poweroff"))
    .set("regmap", fdtCells(PHANDLE_TEST))
    .set("offset", fdtCells(0))
    .set("value", fdtCells(0x5555));
  root.add(new FdtNode("reboot"))
    .set("compatible", fdtString("syscon-reboot"))
    .set("regmap", fdtCells(PHANDLE_TEST))
    .set("offset", fdtCells(0))
    .set("value", fdtCells(0x7777));
  soc.add(new FdtNode(`clint@${CLINT_BASE.toString(16)}`))
    .set("compatible", fdtStrings("sifive,clint0", "riscv,clint0"))
    .set("reg", reg(CLINT_BASE, CLINT_SIZE))
    .set(
      "interrupts-extended",
      fdtCells(PHANDLE_CPU_INTC, IRQ_M_SOFT, PHANDLE_CPU_INTC, IRQ_M_TIMER),
    );
  // PLIC context 0 is hart 0's M-mode, context 1 its S-mode (the order of interrupts-extended).
  soc.add(new FdtNode(`plic@${PLIC_BASE.toString(16)}`))
    .set("compatible", fdtStrings("sifive,plic-1.0.0", "riscv,plic0"))
    .set("reg", reg(PLIC_BASE, PLIC_SIZE))
    .set("#address-cells", fdtCells(0))
    .set("#interrupt-cells", fdtCells(1))
    .set("interrupt-controller", fdtEmpty())
    .set("interrupts-extended", fdtCells(PHANDLE_CPU_INTC, IRQ_M_EXT, PHANDLE_CPU_INTC, IRQ_S_EXT))
    .set("riscv,ndev", fdtCells(PLIC_SOURCES - 1))
    .set("phandle", fdtCells(PHANDLE_PLIC));
  soc.add(new FdtNode(`serial@${UART_BASE.toString(16)}`))
    .set("compatible", fdtString("ns16550a"))
    .set("reg", reg(UART_BASE, UART_SIZE))
    .set("clock-frequency", fdtCells(UART_CLOCK_HZ))
    .set("interrupt-parent", fdtCells(PHANDLE_PLIC))
    .set("interrupts", fdtCells(UART_IRQ));
  return root;
}
