/**
 * `deno task machine <file.elf> [--max-insns N] [--clock realtime|instructions] [--ram-mib M]`:
 * runs a bare-metal RV32 ELF on the board with the console on stdout and stdin.
 *
 * `deno task machine --kernel <file> [--initrd <file>] [--append "<cmdline>"]` boots a kernel (an
 * ELF loaded by physical address, or a RISC-V Linux `Image`) in S-mode under the board's SBI
 * firmware, with a generated device tree; the kernel powering off through SBI system reset or the
 * test device ends the process with 0.
 *
 * `deno task machine --linux [--append "<cmdline>"]` boots the Linux guest: it runs the guest's
 * build (`guests/linux/build.ts`, which builds Linux and its initramfs once and then answers from
 * its cache) and boots the result with the console on the terminal. Typing `poweroff` at the shell
 * ends the process with 0.
 *
 * Exit status: 0 when the program signals pass (test finisher 0x5555 or HTIF tohost == 1), the
 * program's failure code otherwise; 124 when the instruction limit is reached, 125 when the hart
 * waits forever, 2 for a usage error or an image that cannot be loaded (with a message saying why).
 * On a terminal, input is raw; type Ctrl-A then x to quit.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ElfFormatError } from "@paravirt/elf";
import { Board } from "./machine.ts";

const USAGE =
  "usage: deno task machine <file.elf> [--max-insns N] [--clock realtime|instructions] " +
  "[--ram-mib M]\n       deno task machine --kernel <file> [--initrd <file>] [--append <cmdline>] " +
  "[--max-insns N] [--clock ...] [--ram-mib M]\n       deno task machine --linux [--append <cmdline>]";

function fail(message: string): never {
  console.error(`machine: ${message}`);
  Deno.exit(2);
}

function writeAll(bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += Deno.stdout.writeSync(bytes.subarray(done));
}

/** Filters terminal input: Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A. */
function escapeFilter(onQuit: () => void): TransformStream<Uint8Array, Uint8Array> {
  let escaped = false;
  return new TransformStream({
    transform(chunk, controller) {
      const out: number[] = [];
      for (const byte of chunk) {
        if (escaped) {
          escaped = false;
          if (byte === 0x78) return onQuit();
          out.push(byte);
        } else if (byte === 0x01) {
          escaped = true;
        } else {
          out.push(byte);
        }
      }
      if (out.length > 0) controller.enqueue(new Uint8Array(out));
    },
  });
}

/**
 * Builds the Linux guest or finds it in the cache, by running its build script (in the same
 * repository) with `--json`; its progress goes to stderr.
 */
async function linuxGuest(): Promise<{ image: string; initramfs: string; cmdline: string }> {
  const script = new URL("../guests/linux/build.ts", import.meta.url);
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-run",
        "--allow-env",
        script.href,
        "--json",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).output();
  } catch (error) {
    fail(`cannot run the Linux build (${script.pathname}): ${(error as Error).message}`);
  }
  if (!output.success) fail("the Linux guest could not be built (see above)");
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

async function readInput(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    fail(`cannot read ${path}: ${(error as Error).message}`);
  }
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      allowPositionals: true,
      options: {
        "max-insns": { type: "string" },
        "clock": { type: "string", default: "realtime" },
        "ram-mib": { type: "string", default: "128" },
        "kernel": { type: "string" },
        "initrd": { type: "string" },
        "append": { type: "string" },
        "linux": { type: "boolean" },
        "help": { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.linux) {
    if (values.kernel !== undefined || values.initrd !== undefined || positionals.length > 0) {
      fail(`--linux boots the Linux guest: give no other image\n${USAGE}`);
    }
    const linux = await linuxGuest();
    values.kernel = linux.image;
    values.initrd = linux.initramfs;
    values.append ??= linux.cmdline;
  }
  const kernelMode = values.kernel !== undefined;
  if (kernelMode ? positionals.length !== 0 : positionals.length !== 1) fail(USAGE);
  if (!kernelMode && (values.initrd !== undefined || values.append !== undefined)) {
    fail(`--initrd and --append need --kernel\n${USAGE}`);
  }
  let maxInstructions: number | undefined;
  if (values["max-insns"] !== undefined) {
    maxInstructions = Number(values["max-insns"]);
    if (!Number.isSafeInteger(maxInstructions) || maxInstructions <= 0) {
      fail(`--max-insns wants a positive integer, not "${values["max-insns"]}"`);
    }
  }
  const clock = values.clock;
  if (clock !== "realtime" && clock !== "instructions") {
    fail(`--clock wants "realtime" or "instructions", not "${clock}"`);
  }
  const ramMib = Number(values["ram-mib"]);
  if (!Number.isInteger(ramMib) || ramMib <= 0 || ramMib > 2048) {
    fail(`--ram-mib wants an integer from 1 to 2048, not "${values["ram-mib"]}"`);
  }
  const path = kernelMode ? values.kernel! : positionals[0];
  const bytes = await readInput(path);
  const initrd = values.initrd === undefined ? undefined : await readInput(values.initrd);
  const board = new Board({ clock, ramSize: ramMib * (1 << 20) });
  board.onOutput = writeAll;
  try {
    if (kernelMode) board.loadKernel(bytes, { cmdline: values.append, initrd });
    else board.loadElf(bytes);
  } catch (error) {
    if (error instanceof ElfFormatError || error instanceof RangeError) {
      fail(
        `${path} is not a loadable RV32 ${kernelMode ? "kernel" : "executable"}: ${error.message}`,
      );
    }
    throw error;
  }
  const terminal = Deno.stdin.isTerminal();
  let raw = false;
  const restore = () => {
    if (raw) Deno.stdin.setRaw(false);
    raw = false;
  };
  const input = terminal
    ? Deno.stdin.readable.pipeThrough(escapeFilter(() => {
      restore();
      console.error("\nmachine: quit");
      Deno.exit(0);
    }))
    : Deno.stdin.readable;
  board.attachInput(
    new ReadableStream({
      start() {
        if (terminal) {
          Deno.stdin.setRaw(true);
          raw = true;
        }
      },
      async pull(controller) {
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
    }),
  );
  const reader = input.getReader();
  const result = await board.run({ maxInstructions });
  restore();
  switch (result.outcome) {
    case "pass":
    case "reset":
      return 0;
    case "fail":
      return result.exitCode;
    case "limit":
      console.error(`machine: stopped after ${result.instructions} instructions (--max-insns)`);
      return 124;
    case "hang":
      console.error("machine: the hart waits for an interrupt that nothing can raise");
      return 125;
  }
}

Deno.exit(await main());
