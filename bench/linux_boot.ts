/**
 * `deno task bench:linux [--runs N]`: Linux boot benchmark. Boots the Linux guest (kernel and
 * initramfs from `guests/linux/build.ts`, built once and cached) to its shell prompt, types
 * `poweroff`, and measures, in one run, per machine:
 *
 * - ours: the board in this process with the real-time clock (what `deno task machine --linux`
 *   does); wall time from reading the files to the prompt, and exact instruction counts (minstret)
 *   at the prompt and at power-off;
 * - QEMU TCG: `qemu-system-riscv32 -M virt` with our SBI shim as `-bios` and its CPU trimmed to
 *   ours, the speed reference (wall time to the prompt);
 * - QEMU `-icount shift=0`: slower, but its minstret is exact; the shim prints it at power-off, the
 *   reference instruction count.
 *
 * Prints the table and the ratios. The goal is under 2 seconds to the prompt on our board. Each
 * machine runs N times (default 3) and the fastest run counts. A missing `qemu-system-riscv32`
 * skips QEMU with a note.
 *
 * @module
 */

import { Board } from "@paravirt/board";

const PROMPT = "paravirt$ ";
const BUILD_SCRIPT = new URL("../guests/linux/build.ts", import.meta.url).pathname;
const QEMU = "qemu-system-riscv32";
const QEMU_CPU = "rv32,c=false,f=false,d=false,h=false,zba=false,zbb=false,zbc=false," +
  "zbs=false,sstc=false,Zihintpause=false";
const GOAL_SECONDS = 2;
const TIMEOUT_MS = 180_000;

interface Build {
  image: string;
  initramfs: string;
  qemuFirmware: string;
  cmdline: string;
}

interface Measurement {
  label: string;
  /** Wall time to the prompt, seconds. */
  seconds: number;
  /** Instructions retired when the prompt appeared (ours only). */
  promptInstructions?: number;
  /** Instructions retired at power-off. */
  poweroffInstructions?: number;
  /** Guest's own uptime at the prompt (printk timestamp of "Run /init"), seconds. */
  guestSeconds?: number;
}

function parseRuns(args: string[]): number {
  if (args.length === 0) return 3;
  const value = args[0] === "--runs"
    ? args[1]
    : args[0].startsWith("--runs=")
    ? args[0].slice(7)
    : "";
  const runs = Number(value);
  if (
    !Number.isInteger(runs) || runs < 1 ||
    (args[0] === "--runs" ? args.length !== 2 : args.length !== 1)
  ) {
    console.error("usage: deno task bench:linux [--runs N]");
    Deno.exit(2);
  }
  return runs;
}

async function build(): Promise<Build> {
  const { success, stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      BUILD_SCRIPT,
      "--json",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error("The Linux guest's build failed");
  return JSON.parse(new TextDecoder().decode(stdout));
}

function guestSeconds(log: string): number | undefined {
  const m = log.match(/\[\s*(\d+\.\d+)\] Run \/init as init process/);
  return m ? Number(m[1]) : undefined;
}

async function ours(b: Build): Promise<Measurement> {
  const started = performance.now();
  const image = await Deno.readFile(b.image);
  const initrd = await Deno.readFile(b.initramfs);
  const board = new Board({ clock: "realtime" });
  let input!: ReadableStreamDefaultController<Uint8Array>;
  board.attachInput(new ReadableStream({ start: (c) => void (input = c) }));
  let output = "";
  let seconds = 0;
  let promptInstructions = 0;
  const decoder = new TextDecoder();
  board.onOutput = (bytes) => {
    output += decoder.decode(bytes, { stream: true });
    if (promptInstructions === 0 && output.includes(PROMPT)) {
      seconds = (performance.now() - started) / 1000;
      promptInstructions = board.hart.instret;
      input.enqueue(new TextEncoder().encode("poweroff\n"));
    }
  };
  board.loadKernel(image, { cmdline: b.cmdline, initrd });
  const result = await board.run({ maxInstructions: 5e9 });
  input.close();
  if (result.outcome !== "pass" || promptInstructions === 0) {
    throw new Error(
      `Our board did not boot to the prompt and power off: ${result.outcome}\n${
        output.slice(-2000)
      }`,
    );
  }
  return {
    label: "ours (board, real-time clock)",
    seconds,
    promptInstructions,
    poweroffInstructions: result.instructions,
    guestSeconds: guestSeconds(output),
  };
}

async function qemu(b: Build, icount: boolean): Promise<Measurement> {
  const args = [
    "-M",
    "virt",
    "-cpu",
    QEMU_CPU,
    "-m",
    "128M",
    "-nographic",
    "-bios",
    b.qemuFirmware,
    "-kernel",
    b.image,
    "-initrd",
    b.initramfs,
    "-append",
    b.cmdline,
    ...(icount ? ["-icount", "shift=0"] : []),
  ];
  const started = performance.now();
  const child = new Deno.Command(QEMU, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
  const writer = child.stdin.getWriter();
  let output = "";
  let seconds = 0;
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    output += decoder.decode(chunk, { stream: true });
    if (seconds === 0 && output.includes(PROMPT)) {
      seconds = (performance.now() - started) / 1000;
      await writer.write(new TextEncoder().encode("poweroff\n"));
    }
  }
  clearTimeout(timer);
  await writer.close().catch(() => {});
  const status = await child.status;
  await child.stderr.cancel();
  const count = output.match(/qemu-sbi: minstret=0x([0-9a-f]{8}):0x([0-9a-f]{8})/);
  if (!status.success || seconds === 0 || !count) {
    throw new Error(`QEMU did not boot to the prompt and power off\n${output.slice(-2000)}`);
  }
  return {
    label: icount ? "QEMU -icount shift=0 (exact count)" : "QEMU TCG",
    seconds,
    // Without -icount, QEMU's minstret counts host ticks, not instructions: only icount's is shown.
    poweroffInstructions: icount
      ? parseInt(count[1], 16) * 2 ** 32 + parseInt(count[2], 16)
      : undefined,
    guestSeconds: guestSeconds(output),
  };
}

async function hasQemu(): Promise<boolean> {
  try {
    return (await new Deno.Command(QEMU, { args: ["--version"], stdout: "null" }).output()).success;
  } catch {
    return false;
  }
}

async function fastest(runs: number, measure: () => Promise<Measurement>): Promise<Measurement> {
  let best: Measurement | undefined;
  for (let i = 0; i < runs; i++) {
    const m = await measure();
    if (!best || m.seconds < best.seconds) best = m;
  }
  return best!;
}

const millions = (n?: number) => n === undefined ? "-" : `${(n / 1e6).toFixed(2)} M`;

const runs = parseRuns(Deno.args);
const b = await build();
console.log(`Linux boot to the shell prompt (fastest of ${runs}); kernel ${b.image}`);
const rows: Measurement[] = [await fastest(runs, () => ours(b))];
if (await hasQemu()) {
  rows.push(await fastest(runs, () => qemu(b, false)));
  rows.push(await fastest(1, () => qemu(b, true)));
} else {
  console.log(`(${QEMU} not installed: Debian package qemu-system-misc; QEMU rows skipped)`);
}
console.log(
  "\n" + "machine".padEnd(38) + "to prompt".padStart(11) + "guest uptime".padStart(14) +
    "insns@prompt".padStart(14) + "insns@poweroff".padStart(16) + "MIPS".padStart(8),
);
for (const r of rows) {
  const mips = r.promptInstructions ? (r.promptInstructions / r.seconds / 1e6).toFixed(1) : "-";
  console.log(
    r.label.padEnd(38) + `${r.seconds.toFixed(3)} s`.padStart(11) +
      (r.guestSeconds === undefined ? "-" : `${r.guestSeconds.toFixed(3)} s`).padStart(14) +
      millions(r.promptInstructions).padStart(14) + millions(r.poweroffInstructions).padStart(16) +
      mips.padStart(8),
  );
}
const [us, tcg, icount] = rows;
console.log();
if (tcg) {
  console.log(
    `wall time to the prompt, ours / QEMU TCG: ${(us.seconds / tcg.seconds).toFixed(2)}x`,
  );
}
if (icount) {
  console.log(
    `instructions to power-off, ours / QEMU (exact): ${
      (us.poweroffInstructions! / icount.poweroffInstructions!).toFixed(3)
    }x`,
  );
}
console.log(
  `goal: under ${GOAL_SECONDS} s to the prompt on our board: ${
    us.seconds < GOAL_SECONDS ? "met" : "NOT met"
  } (${us.seconds.toFixed(3)} s)`,
);
