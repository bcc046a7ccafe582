/**
 * `deno task setup`: installs the Debian packages the tests need, if they are missing.
 *
 * - gcc-riscv64-unknown-elf: rebuilds the guest images to check the committed ones are reproducible.
 * - qemu-system-misc: the reference machine of the differential CPU test and the benchmarks.
 * - device-tree-compiler: `dtc` cross-checks the device tree blobs the board generates.
 * - xenstore-utils: Debian's `xenstore-*` clients (libxenstore), run against our xenstored's socket
 *   by the end-to-end test; they need no running Xen when `XENSTORED_PATH` names the socket.
 *
 * Runs apt-get (through sudo when not root). Prints what it does; changes nothing when all is there.
 *
 * @module
 */

/** A tool the tests run, and the Debian package that provides it. */
interface Requirement {
  command: string;
  debianPackage: string;
}

const REQUIREMENTS: Requirement[] = [
  { command: "riscv64-unknown-elf-gcc", debianPackage: "gcc-riscv64-unknown-elf" },
  { command: "qemu-system-riscv32", debianPackage: "qemu-system-misc" },
  { command: "dtc", debianPackage: "device-tree-compiler" },
  { command: "xenstore-ls", debianPackage: "xenstore-utils" },
];

async function has(command: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("sh", {
      args: ["-c", `command -v ${command}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

async function sh(args: string[]): Promise<void> {
  console.log(`setup: ${args.join(" ")}`);
  const { success } = await new Deno.Command(args[0], {
    args: args.slice(1),
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error(`setup: "${args.join(" ")}" failed`);
}

const missing: string[] = [];
for (const requirement of REQUIREMENTS) {
  if (!(await has(requirement.command))) missing.push(requirement.debianPackage);
}
if (missing.length === 0) {
  console.log("setup: all tools present");
} else {
  const root = Deno.uid() === 0;
  const prefix = root ? [] : ["sudo", "-n"];
  await sh([...prefix, "apt-get", "update", "-qq"]);
  await sh([...prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing]);
}
