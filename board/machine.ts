/**
 * The native board: one hart, RAM at 0x8000_0000 and the QEMU-virt-compatible devices (UART, CLINT,
 * PLIC, test finisher, HTIF), with the loop that runs a bare-metal program until it stops.
 *
 * Rules of use: construct, `loadElf` (a bare-metal program starting in M-mode) or `loadKernel` (a
 * kernel starting in S-mode under the board's SBI firmware, with a device tree and an optional
 * initrd), then `await run()`. Output arrives through `onOutput`; input
 * is attached with `attachInput` (read lazily: only once the program looks at the UART's receive
 * side). The loop yields to the event loop only while input is attached, so a CPU-bound program
 * runs without interruption. WFI sleeps (real-time clock) or skips time (instruction clock).
 *
 * @module
 */

import { type Exit, Hart, IRQ_M_EXT, IRQ_S_EXT, run } from "@paravirt/cpu";
import { PhysicalMemory } from "@paravirt/mmu";
import { type ElfImage, parseElf } from "@paravirt/elf";
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
import {
  DEFAULT_RAM_SIZE,
  FDT_MAX_SIZE,
  INSTRUCTIONS_PER_TICK,
  MAX_RAM_SIZE,
  SLICE,
  TIMEBASE_HZ,
  YIELD_MS,
} from "./params.ts";
import { type Clock, InstructionClock, RealtimeClock } from "./clock.ts";
import { Uart16550 } from "./uart16550.ts";
import { Plic } from "./plic.ts";
import { Clint } from "./clint.ts";
import { type FinisherRequest, TestFinisher } from "./test_finisher.ts";
import { Htif } from "./htif.ts";
import { SbiFirmware, type SbiPlatform, type SbiResetKind } from "./sbi.ts";
import { boardDeviceTree } from "./device_tree.ts";
import { encodeFdt } from "./fdt.ts";

/** Options for a {@link Board}. */
export interface BoardOptions {
  /** RAM size in bytes (default 128 MiB; a multiple of 4 KiB, at most 2 GiB). */
  ramSize?: number;
  /** `mtime` source: host time (default) or the deterministic instruction clock. */
  clock?: "realtime" | "instructions";
}

/** How a run ended. */
export type RunOutcome =
  /** The program signalled success (test finisher 0x5555, HTIF exit 0). */
  | "pass"
  /** The program signalled failure with a code. */
  | "fail"
  /** The program asked for a reset (test finisher 0x7777). */
  | "reset"
  /** The instruction limit was reached. */
  | "limit"
  /** The hart waits for an interrupt that nothing can raise. */
  | "hang";

/** Result of {@link Board.run}. */
export interface RunResult {
  /** How the run ended. */
  readonly outcome: RunOutcome;
  /** 0 for pass, the failure code for fail, -1 otherwise. */
  readonly exitCode: number;
  /** Instructions retired (minstret). */
  readonly instructions: number;
}

/** Options for {@link Board.run}. */
export interface RunOptions {
  /** Stop after about this many instructions (default: no limit). */
  maxInstructions?: number;
  /**
   * Handles exits the board itself does not (ecalls and traps claimed through `hart.hostTraps`, as
   * an SBI firmware in TypeScript does). Returns false to end the run with an error.
   */
  onHostExit?: (exit: Exit) => boolean;
}

/** Options for {@link Board.loadKernel}. */
export interface KernelOptions {
  /** Kernel command line (`/chosen/bootargs`). */
  cmdline?: string;
  /** Initial ramdisk, placed near the top of RAM and named in `/chosen`. */
  initrd?: Uint8Array;
}

/** Where {@link Board.loadKernel} put things (physical addresses). */
export interface KernelLayout {
  /** The image's format: an ELF loaded by `p_paddr`, or a RISC-V Linux `Image` at RAM's base. */
  readonly format: "elf" | "image";
  /** Physical entry point (where S-mode starts). */
  readonly entry: number;
  /** First byte of the kernel in RAM. */
  readonly kernelStart: number;
  /** First byte past the kernel's memory (including its zeroed part). */
  readonly kernelEnd: number;
  /** The device tree blob's address (a1 at entry). */
  readonly fdtAddress: number;
  /** The device tree blob's size. */
  readonly fdtSize: number;
  /** The initrd's range, when one was given. */
  readonly initrd?: { readonly start: number; readonly end: number };
}

const IMAGE_MAGIC = "RISCV\0\0\0";
const IMAGE_MAGIC2 = "RSC\x05";

/** The emulated machine. */
export class Board {
  /** Physical address space. */
  readonly memory: PhysicalMemory = new PhysicalMemory();
  /** The hart. */
  readonly hart: Hart;
  /** The UART at 0x1000_0000. */
  readonly uart: Uart16550 = new Uart16550();
  /** The PLIC at 0x0c00_0000. */
  readonly plic: Plic = new Plic();
  /** The CLINT at 0x0200_0000. */
  readonly clint: Clint;
  /** The test finisher at 0x0010_0000. */
  readonly finisher: TestFinisher = new TestFinisher();
  /** RAM size in bytes. */
  readonly ramSize: number;
  /** Receives everything the program prints (UART and HTIF). */
  onOutput: (bytes: Uint8Array) => void = () => {};

  /** The SBI firmware, once {@link loadKernel} installed it. */
  firmware: SbiFirmware | undefined;

  #htif: Htif | undefined;
  #suspended = false;
  #finished: { outcome: RunOutcome; exitCode: number } | undefined;
  #input: ReadableStream<Uint8Array> | undefined;
  #inputOpen = false;
  #wake: (() => void) | undefined;

  /** Builds the board with empty RAM. */
  constructor(options: BoardOptions = {}) {
    const ramSize = options.ramSize ?? DEFAULT_RAM_SIZE;
    if (
      !Number.isInteger(ramSize) || ramSize <= 0 || ramSize % 4096 !== 0 || ramSize > MAX_RAM_SIZE
    ) {
      throw new RangeError(`RAM size ${ramSize} is not a positive multiple of 4096 up to 2 GiB`);
    }
    this.ramSize = ramSize;
    this.memory.addRam(RAM_BASE, ramSize);
    this.hart = new Hart(this.memory);
    const clock: Clock = options.clock === "instructions"
      ? new InstructionClock(this.hart)
      : new RealtimeClock();
    this.clint = new Clint(this.hart, clock);
    this.hart.readTime = () => this.clint.mtime;
    this.memory.addMmio(TEST_BASE, TEST_SIZE, this.finisher);
    this.memory.addMmio(CLINT_BASE, CLINT_SIZE, this.clint);
    this.memory.addMmio(PLIC_BASE, PLIC_SIZE, this.plic);
    this.memory.addMmio(UART_BASE, UART_SIZE, this.uart);
    this.uart.onTransmit = (bytes) => this.onOutput(bytes);
    this.uart.onInterrupt = (level) => this.plic.setLevel(UART_IRQ, level);
    this.uart.onReceiveInterest = () => this.#startInput();
    this.plic.onOutput = (context, level) => {
      const bit = 1 << (context === 0 ? IRQ_M_EXT : IRQ_S_EXT);
      this.hart.mipLines = level ? this.hart.mipLines | bit : this.hart.mipLines & ~bit;
    };
    this.finisher.onFinish = (request) => this.#finish(request);
  }

  /**
   * Loads an ELF executable into RAM at its segments' physical addresses and points the hart at its
   * entry (a0 = hart id). Serves HTIF when the image has a `tohost` symbol. Throws `ElfFormatError`
   * for a malformed image and RangeError when a segment falls outside RAM.
   */
  loadElf(bytes: Uint8Array): ElfImage {
    const image = this.#loadSegments(bytes);
    this.hart.pc = image.entry | 0;
    this.hart.x[10] = this.hart.hartId;
    const tohost = image.symbols.get("tohost");
    if (tohost !== undefined && tohost >= RAM_BASE && tohost + 8 <= RAM_BASE + this.ramSize) {
      const fromhost = image.symbols.get("fromhost");
      this.#htif = new Htif(this.memory, tohost, fromhost);
      this.#htif.onOutput = (out) => this.onOutput(out);
      this.#htif.onExit = (code) =>
        this.#finish(code === 0 ? { kind: "pass" } : { kind: "fail", code });
    }
    return image;
  }

  /**
   * Boots a kernel the way firmware does on real hardware: loads it, generates the board's device
   * tree (with `cmdline` and the initrd's range in `/chosen`), places the tree and the initrd at the
   * top of RAM, installs the SBI firmware and starts the hart in S-mode at the kernel's physical
   * entry with a0 = hart id, a1 = the tree's address and paging off.
   *
   * `bytes` is either an ELF executable, loaded by physical address (`p_paddr`) and entered at
   * `e_entry` translated through the `PT_LOAD` segment that contains it (kernels are linked at
   * virtual addresses), or a RISC-V Linux `Image` (magic "RISCV"/"RSC\x05"), loaded at RAM's base
   * as QEMU does without firmware. Throws `ElfFormatError` for a malformed ELF and RangeError for an
   * unknown format or when the pieces do not fit in RAM.
   */
  loadKernel(bytes: Uint8Array, options: KernelOptions = {}): KernelLayout {
    const ramEnd = RAM_BASE + this.ramSize;
    let format: "elf" | "image";
    let entry: number;
    let kernelStart: number;
    let kernelEnd: number;
    let writeKernel: () => void;
    // Everything is checked before anything is written, so a refused kernel leaves RAM untouched.
    if (
      bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c &&
      bytes[3] === 0x46
    ) {
      format = "elf";
      const image = this.#checkSegments(bytes);
      writeKernel = () => this.#writeSegments(image);
      const home = image.segments.find((s) =>
        image.entry >= s.virtualAddress && image.entry < s.virtualAddress + s.memorySize
      );
      if (!home) {
        throw new RangeError(
          `Entry point 0x${image.entry.toString(16)} lies in no loadable segment`,
        );
      }
      entry = home.physicalAddress + (image.entry - home.virtualAddress);
      kernelStart = Math.min(...image.segments.map((s) => s.physicalAddress));
      kernelEnd = Math.max(...image.segments.map((s) => s.physicalAddress + s.memorySize));
    } else if (isLinuxImage(bytes)) {
      format = "image";
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const effective = Number(view.getBigUint64(16, true));
      const size = Math.max(bytes.length, effective);
      if (size > this.ramSize) {
        throw new RangeError(
          `Kernel image of ${size} bytes does not fit in ${this.ramSize} of RAM`,
        );
      }
      writeKernel = () => this.memory.writeBytes(RAM_BASE, bytes);
      entry = kernelStart = RAM_BASE;
      kernelEnd = RAM_BASE + size;
    } else {
      throw new RangeError("Kernel is neither an ELF executable nor a RISC-V Linux Image");
    }

    const fdtAddress = ramEnd - FDT_MAX_SIZE;
    let initrd: { start: number; end: number } | undefined;
    if (options.initrd) {
      const start = Math.floor((fdtAddress - options.initrd.length) / 4096) * 4096;
      if (start < kernelEnd) {
        throw new RangeError(
          `Initrd of ${options.initrd.length} bytes does not fit between the kernel (ending at ` +
            `0x${kernelEnd.toString(16)}) and the device tree at 0x${fdtAddress.toString(16)}`,
        );
      }
      initrd = { start, end: start + options.initrd.length };
    }
    if (fdtAddress < kernelEnd) {
      throw new RangeError(
        `Kernel ending at 0x${kernelEnd.toString(16)} leaves no room for the device tree`,
      );
    }
    const fdt = encodeFdt(
      boardDeviceTree({
        ramSize: this.ramSize,
        bootargs: options.cmdline,
        initrd,
        hartId: this.hart.hartId,
      }),
      { bootCpuId: this.hart.hartId },
    );
    if (fdt.length > FDT_MAX_SIZE) {
      throw new RangeError(
        `Device tree of ${fdt.length} bytes exceeds ${FDT_MAX_SIZE} (command line too long?)`,
      );
    }
    writeKernel();
    if (initrd) this.memory.writeBytes(initrd.start, options.initrd!);
    this.memory.writeBytes(fdtAddress, fdt);

    const firmware = new SbiFirmware(this.#sbiPlatform());
    firmware.enterSupervisor({ entry, argument: fdtAddress });
    this.firmware = firmware;
    return {
      format,
      entry,
      kernelStart,
      kernelEnd,
      fdtAddress,
      fdtSize: fdt.length,
      ...(initrd ? { initrd } : {}),
    };
  }

  #sbiPlatform(): SbiPlatform {
    return {
      hart: this.hart,
      setTimer: (deadline) => this.clint.setSupervisorTimer(deadline),
      consoleWrite: (bytes) => {
        this.uart.flush(); // keep UART and SBI console output in order
        this.onOutput(bytes);
      },
      consoleRead: () => this.uart.takeInput(),
      reset: (kind: SbiResetKind) =>
        this.#finish(
          kind === "shutdown"
            ? { kind: "pass" }
            : kind === "failure"
            ? { kind: "fail", code: 1 }
            : { kind: "reset" },
        ),
      suspend: () => {
        this.#suspended = true;
      },
      stopHart: () => {
        this.#finished = { outcome: "hang", exitCode: -1 };
        this.hart.requestStop({ kind: "halt", code: -1 });
      },
    };
  }

  #loadSegments(bytes: Uint8Array): ElfImage {
    const image = this.#checkSegments(bytes);
    this.#writeSegments(image);
    return image;
  }

  /** Parses an ELF and checks that every segment lies in RAM, writing nothing. */
  #checkSegments(bytes: Uint8Array): ElfImage {
    const image = parseElf(bytes);
    for (const [i, segment] of image.segments.entries()) {
      const start = segment.physicalAddress;
      if (start < RAM_BASE || start + segment.memorySize > RAM_BASE + this.ramSize) {
        throw new RangeError(
          `Segment ${i} at 0x${
            start.toString(16)
          } (${segment.memorySize} bytes) lies outside RAM ` +
            `0x${RAM_BASE.toString(16)}-0x${(RAM_BASE + this.ramSize).toString(16)}`,
        );
      }
    }
    return image;
  }

  #writeSegments(image: ElfImage): void {
    for (const segment of image.segments) {
      this.memory.writeBytes(segment.physicalAddress, segment.data);
      const zeros = segment.memorySize - segment.data.length;
      if (zeros > 0) {
        this.memory.writeBytes(
          segment.physicalAddress + segment.data.length,
          new Uint8Array(zeros),
        );
      }
    }
  }

  /**
   * Feeds `input` to the UART's receive side. Reading starts only when the program first looks at
   * the receiver, so a program that never reads input never blocks on it.
   */
  attachInput(input: ReadableStream<Uint8Array>): void {
    this.#input = input;
  }

  /** Runs the program until it stops, waits with no way to wake, or reaches the limit. */
  async run(options: RunOptions = {}): Promise<RunResult> {
    const hart = this.hart;
    const clint = this.clint;
    const clock = clint.clock;
    const limit = options.maxInstructions ?? Infinity;
    let lastYield = performance.now();
    for (;;) {
      clint.update();
      let slice = SLICE;
      const remaining = limit - hart.instret;
      if (remaining < slice) slice = Math.max(1, Math.ceil(remaining));
      if (!clock.realtime) {
        const ticks = clint.ticksToDeadline();
        if (ticks > 0 && ticks * INSTRUCTIONS_PER_TICK < slice) {
          slice = ticks * INSTRUCTIONS_PER_TICK;
        }
      }
      const exit = run(hart, slice);
      this.uart.flush();
      if (this.#finished) return this.#result(this.#finished.outcome, this.#finished.exitCode);
      switch (exit.kind) {
        case "budget":
          if (hart.instret >= limit) return this.#result("limit", -1);
          if (this.#inputOpen && performance.now() - lastYield > YIELD_MS) {
            await new Promise((resolve) => setTimeout(resolve, 0));
            lastYield = performance.now();
          }
          break;
        case "wfi":
          if (!(await this.#idle())) return this.#result("hang", -1);
          lastYield = performance.now();
          break;
        case "halt":
          return this.#result(exit.code === 0 ? "pass" : "fail", exit.code);
        case "ecall":
        case "breakpoint":
        case "trap":
        case "mmio": {
          const handled = options.onHostExit
            ? options.onHostExit(exit)
            : this.firmware?.handle(exit) ?? false;
          if (!handled) {
            throw new Error(
              `Unhandled ${exit.kind} exit at pc 0x${(hart.pc >>> 0).toString(16)}: ${
                JSON.stringify(exit)
              }`,
            );
          }
          if (this.#suspended) {
            this.#suspended = false;
            if (!(await this.#idle())) return this.#result("hang", -1);
            lastYield = performance.now();
          }
          break;
        }
        default: {
          const unreachable: never = exit;
          throw new Error(`Unknown exit ${JSON.stringify(unreachable)}`);
        }
      }
    }
  }

  #result(outcome: RunOutcome, exitCode: number): RunResult {
    this.uart.flush();
    return { outcome, exitCode, instructions: this.hart.instret };
  }

  #finish(request: FinisherRequest): void {
    switch (request.kind) {
      case "pass":
        this.#finished = { outcome: "pass", exitCode: 0 };
        break;
      case "fail":
        this.#finished = { outcome: "fail", exitCode: request.code };
        break;
      case "reset":
        this.#finished = { outcome: "reset", exitCode: -1 };
        break;
    }
    this.hart.requestStop({ kind: "halt", code: this.#finished.exitCode });
  }

  /** Waits in WFI until an interrupt can be pending. Returns false when nothing can ever wake it. */
  async #idle(): Promise<boolean> {
    const hart = this.hart;
    const clint = this.clint;
    clint.update();
    if ((hart.mip & hart.mie) !== 0) return true;
    const ticks = clint.ticksToEnabledDeadline(hart.mie);
    const timerArmed = ticks !== Infinity;
    if (!clint.clock.realtime && timerArmed) {
      (clint.clock as InstructionClock).skip(ticks);
      return true;
    }
    if (!timerArmed && !this.#inputOpen) return false;
    const waitMs = timerArmed ? ticks / (TIMEBASE_HZ / 1000) : 1000;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, waitMs);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
    return true;
  }

  #startInput(): void {
    const input = this.#input;
    if (!input || this.#inputOpen) return;
    this.#inputOpen = true;
    (async () => {
      try {
        for await (const chunk of input) {
          this.uart.receive(chunk);
          this.#wake?.();
        }
      } catch {
        // The input closed under us; the program simply sees no more bytes.
      }
      this.#inputOpen = false;
      this.#wake?.();
    })();
  }
}

/** Result of {@link runElf}. */
export interface RunElfResult {
  /** 0 for pass, the program's failure code, or -1 when it did not finish by itself. */
  readonly exitCode: number;
  /** How the run ended. */
  readonly outcome: RunOutcome;
  /** Everything the program printed (UART and HTIF), decoded as UTF-8. */
  readonly output: string;
  /** Instructions retired. */
  readonly instructions: number;
}

/** Options for {@link runElf}. */
export interface RunElfOptions {
  /** Stop after this many instructions. */
  maxInstructions?: number;
  /** Clock (default "instructions", so runs are reproducible). */
  clock?: "realtime" | "instructions";
  /** RAM size in bytes. */
  ramSize?: number;
}

/** Runs an ELF image on a fresh board and collects its output: the one-call form for tests. */
export async function runElf(
  image: Uint8Array,
  options: RunElfOptions = {},
): Promise<RunElfResult> {
  const board = new Board({ clock: options.clock ?? "instructions", ramSize: options.ramSize });
  const chunks: Uint8Array[] = [];
  board.onOutput = (bytes) => chunks.push(bytes);
  board.loadElf(image);
  const result = await board.run({ maxInstructions: options.maxInstructions });
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return {
    exitCode: result.exitCode,
    outcome: result.outcome,
    output: new TextDecoder().decode(all),
    instructions: result.instructions,
  };
}

/** Whether `bytes` starts with a RISC-V Linux `Image` header (magic at 0x30 and 0x38). */
function isLinuxImage(bytes: Uint8Array): boolean {
  if (bytes.length < 64) return false;
  const text = String.fromCharCode(...bytes.subarray(0x30, 0x3c));
  return text === IMAGE_MAGIC + IMAGE_MAGIC2;
}
