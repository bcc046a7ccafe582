/**
 * Every guest image that can run on QEMU `virt` passes there: QEMU is the reference
 * machine, so an image that fails on it is wrong, not our CPU. Runs QEMU with its CPU
 * trimmed to our hart and `-icount shift=0` (deterministic). Needs `qemu-system-riscv32`
 * (Debian package qemu-system-misc), which CI installs; without it the test fails and
 * names the package.
 *
 * @module
 */

import { GUEST_IMAGE_NAMES, GUEST_IMAGES, guestImagePath } from "./mod.ts";

const QEMU = "qemu-system-riscv32";
const QEMU_CPU = "rv32,c=false,f=false,d=false,h=false,zba=false,zbb=false,zbc=false," +
  "zbs=false,mvendorid=0,marchid=0,mimpid=0";

async function hasQemu(): Promise<boolean> {
  try {
    return (await new Deno.Command(QEMU, { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

for (const name of GUEST_IMAGE_NAMES) {
  if (!GUEST_IMAGES[name].runsOnQemu) continue;
  Deno.test(`guest image ${name} passes on QEMU virt`, async () => {
    if (!(await hasQemu())) {
      throw new Error(`${QEMU} was not found: install the Debian package qemu-system-misc`);
    }
    const args = ["-M", "virt", "-bios", "none", "-nographic", "-cpu", QEMU_CPU];
    args.push("-icount", "shift=0", "-kernel", guestImagePath(name));
    const result = await new Deno.Command(QEMU, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    if (result.code !== 0) {
      const output = new TextDecoder().decode(result.stdout);
      const stderr = new TextDecoder().decode(result.stderr);
      throw new Error(
        `${name}.elf exited with ${result.code} on QEMU (${QEMU} ${args.join(" ")}):\n` +
          `${output}${stderr}`,
      );
    }
  });
}
