/**
 * Test support: the Linux guest's build, through its script (`guests/linux/build.ts --json`) in a
 * child process — it builds the kernel when the cache is empty (minutes) and answers from the cache
 * otherwise. Progress goes to this process's stderr.
 *
 * @module
 */

/** Where the build's results are. */
export interface LinuxBuildPaths {
  /** The kernel `Image`. */
  readonly image: string;
  /** The initramfs. */
  readonly initramfs: string;
  /** Our M-mode SBI shim for QEMU's `-bios`. */
  readonly qemuFirmware: string;
  /** The command line the guest boots with. */
  readonly cmdline: string;
}

const SCRIPT = new URL("../../guests/linux/build.ts", import.meta.url).pathname;

/** Runs the build (or finds it cached) and returns its paths. */
export async function linuxBuild(): Promise<LinuxBuildPaths> {
  const { success, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-run", "--allow-env", SCRIPT, "--json"],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error("The Linux guest's build failed (see its output above)");
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** QEMU's CPU trimmed to our hart: RV32IMA with S and U, nothing else Linux could use. */
export const QEMU_CPU = "rv32,c=false,f=false,d=false,h=false,zba=false,zbb=false,zbc=false," +
  "zbs=false,sstc=false,Zihintpause=false";

/** Arguments for `qemu-system-riscv32` booting the build on `virt` with our SBI shim. */
export function qemuArgs(build: LinuxBuildPaths, extra: string[] = []): string[] {
  return [
    "-M",
    "virt",
    "-cpu",
    QEMU_CPU,
    "-m",
    "128M",
    "-nographic",
    "-bios",
    build.qemuFirmware,
    "-kernel",
    build.image,
    "-initrd",
    build.initramfs,
    "-append",
    build.cmdline,
    ...extra,
  ];
}
