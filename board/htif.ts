/**
 * The Host-Target Interface as test binaries (riscv-tests, bare-metal benchmarks) use it: the
 * program stores 64-bit commands to its `tohost` symbol, the host answers in `fromhost`.
 *
 * Supported commands: device 0 with bit 0 set ends the program with exit code `tohost >> 1` (0 is
 * pass); device 0 with an even value points at a `magic_mem` block of eight 64-bit words holding a
 * system call (`write` = 64 to fd 1 or 2, `exit` = 93); device 1 command 1 prints a character.
 *
 * Rules of use: the `tohost` frame is watched (see `PhysicalMemory.watchStores`), so every store to
 * it reaches {@link Htif.onStore} after the bytes are in memory. A command is acted on when its
 * high word is written, or at once for an exit written as a single low word (riscv-tests do that).
 *
 * @module
 */

import type { PhysicalMemory } from "@paravirt/mmu";

const SYS_WRITE = 64;
const SYS_EXIT = 93;
const TWO_32 = 4294967296;

/** The HTIF host side for one program. */
export class Htif {
  /** Called with bytes the program prints. */
  onOutput: (bytes: Uint8Array) => void = () => {};
  /** Called with the program's exit code. */
  onExit: (code: number) => void = () => {};
  readonly #memory: PhysicalMemory;
  readonly #tohost: number;
  readonly #fromhost: number | undefined;

  /** Serves the `tohost` (and optional `fromhost`) words at these physical addresses. */
  constructor(memory: PhysicalMemory, tohost: number, fromhost?: number) {
    this.#memory = memory;
    this.#tohost = tohost;
    this.#fromhost = fromhost;
    memory.watchStores(tohost, (address, size) => this.onStore(address, size));
  }

  /** Handles a store into the watched frame. */
  onStore(address: number, size: number): void {
    const tohost = this.#tohost;
    if (address + size <= tohost || address >= tohost + 8) return;
    const memory = this.#memory;
    const lowWord = memory.read32(tohost) >>> 0;
    const highWord = memory.read32(tohost + 4) >>> 0;
    const wroteHigh = address + size > tohost + 4;
    if (lowWord === 0 && highWord === 0) return;
    if (!wroteHigh && !(highWord === 0 && (lowWord & 1) === 1)) return;
    const device = highWord >>> 24;
    const command = (highWord >>> 16) & 0xff;
    memory.write32(tohost, 0);
    memory.write32(tohost + 4, 0);
    if (device === 0 && (lowWord & 1) === 1) {
      this.onExit(((highWord & 0xffff) * TWO_32 + lowWord - 1) / 2);
    } else if (device === 0) {
      this.#syscall(lowWord);
      this.#acknowledge(0, 0, 1);
    } else if (device === 1 && command === 1) {
      this.onOutput(new Uint8Array([lowWord & 0xff]));
      this.#acknowledge(1, 1, 0);
    }
  }

  #syscall(block: number): void {
    const memory = this.#memory;
    const which = memory.read32(block);
    const arg = (i: number) => memory.read32(block + 8 + 8 * i) >>> 0;
    let result = -38; // -ENOSYS
    if (which === SYS_WRITE && (arg(0) === 1 || arg(0) === 2)) {
      const length = Math.min(arg(2), 1 << 20);
      this.onOutput(memory.readBytes(arg(1), length));
      result = length;
    } else if (which === SYS_EXIT) {
      this.onExit(arg(0));
      result = 0;
    }
    memory.write32(block, result);
    memory.write32(block + 4, result < 0 ? -1 : 0);
  }

  #acknowledge(device: number, command: number, payload: number): void {
    if (this.#fromhost === undefined) return;
    this.#memory.write32(this.#fromhost, payload);
    this.#memory.write32(this.#fromhost + 4, ((device << 24) | (command << 16)) >>> 0);
  }
}
