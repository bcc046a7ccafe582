/**
 * The native board: one hart, RAM at 0x8000_0000 and the QEMU-virt-compatible devices (UART, CLINT,
 * PLIC, test finisher, HTIF), with the loop that runs a bare-metal program until it stops.
 *
 * Rules of use: construct, `loadElf`, then `await run()`. Output arrives through `onOutput`; input
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

  #htif: Htif | undefined;
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
        case "mmio":
          if (!options.onHostExit?.(exit)) {
            throw new Error(`Unhandled ${exit.kind} exit at pc 0x${(hart.pc >>> 0).toString(16)}`);
          }
          break;
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
    const ticks = clint.ticksToDeadline();
    const timerArmed = clint.mtimecmp < Number.MAX_SAFE_INTEGER && (hart.mie & (1 << 7)) !== 0;
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
