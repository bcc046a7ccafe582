/**
 * Builds the hypervisor's test guests (`test_guests/`: a tiny PV runtime and a probe kernel whose
 * tests are chosen on the command line) with Debian's riscv64-unknown-elf-gcc, caching the image
 * under `.cache/test_guests/` keyed by a hash of the sources, flags and ABI header.
 *
 * @module
 */

import { generateCHeader } from "@paravirt/public";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const SOURCES = ["entry.S", "runtime.c", "probe.c"];
const FLAGS = [
  "-march=rv32ima",
  "-misa-spec=2.2",
  "-mabi=ilp32",
  "-mcmodel=medany",
  "-ffreestanding",
  "-nostdlib",
  "-static",
  "-O2",
  "-Wall",
  "-fno-common",
  "-Wl,--build-id=none",
  "-Wl,--no-warn-rwx-segments",
];

async function sha256(parts: string[]): Promise<string> {
  const data = new TextEncoder().encode(parts.join("\0"));
  const digest = await crypto.subtle.digest("SHA-256", data);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

let building: Promise<Uint8Array> | undefined;

/** Returns the probe guest image, building it if the cache lacks this version. */
export function probeGuest(): Promise<Uint8Array> {
  building ??= build();
  return building;
}

async function build(): Promise<Uint8Array> {
  const dir = join(HERE, "test_guests");
  const header = generateCHeader();
  const texts = await Promise.all(
    [...SOURCES, "pv.h", "link.ld"].map((f) => Deno.readTextFile(join(dir, f))),
  );
  const key = await sha256([...texts, header, ...FLAGS]);
  const cacheDir = join(HERE, "..", ".cache", "test_guests");
  const cached = join(cacheDir, `probe-${key.slice(0, 16)}.elf`);
  try {
    return await Deno.readFile(cached);
  } catch {
    // Not built yet.
  }
  const work = await Deno.makeTempDir({ prefix: "pv-test-guest-" });
  try {
    await Deno.writeTextFile(join(work, "paravirt_abi.h"), header);
    const output = join(work, "probe.elf");
    const result = await new Deno.Command("riscv64-unknown-elf-gcc", {
      args: [
        ...FLAGS,
        "-I",
        work,
        "-T",
        join(dir, "link.ld"),
        ...SOURCES.map((f) => join(dir, f)),
        "-lgcc",
        "-o",
        output,
      ],
      stderr: "piped",
    }).output();
    if (!result.success) {
      throw new Error(
        `Building the test guest failed:\n${new TextDecoder().decode(result.stderr)}`,
      );
    }
    await Deno.mkdir(cacheDir, { recursive: true });
    // Parallel test processes may build at once: publish the image with an atomic rename.
    const staging = `${cached}.${Deno.pid}.tmp`;
    await Deno.copyFile(output, staging);
    await Deno.rename(staging, cached);
    return await Deno.readFile(output);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}
