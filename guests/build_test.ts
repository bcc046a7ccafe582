/**
 * The committed images in `bin/` must be exactly what `build.ts` produces from `native/`:
 * rebuilds everything into a temporary directory and compares byte for byte. Needs
 * Debian's `riscv64-unknown-elf-gcc` (package gcc-riscv64-unknown-elf), which CI installs;
 * without it the test fails and names the package.
 *
 * @module
 */

import { GUEST_IMAGE_NAMES, guestImagePath } from "./mod.ts";
import { buildImages, hasCompiler, MISSING_COMPILER_MESSAGE } from "./build.ts";

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return i;
  }
  return n;
}

async function readIfPresent(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

Deno.test("committed guest images are byte-identical to a fresh build", async () => {
  if (!(await hasCompiler())) throw new Error(MISSING_COMPILER_MESSAGE);
  const dir = await Deno.makeTempDir({ prefix: "guests-build-" });
  try {
    await buildImages({ outDir: dir });
    const problems: string[] = [];
    for (const name of GUEST_IMAGE_NAMES) {
      const committed = await readIfPresent(guestImagePath(name));
      const fresh = await Deno.readFile(`${dir}/${name}.elf`);
      if (committed === undefined) {
        problems.push(`guests/bin/${name}.elf is missing`);
      } else if (
        committed.length !== fresh.length || firstDifference(committed, fresh) < fresh.length
      ) {
        problems.push(
          `guests/bin/${name}.elf differs from a fresh build: ${committed.length} vs ` +
            `${fresh.length} bytes, first difference at byte ${firstDifference(committed, fresh)}`,
        );
      }
    }
    const known = new Set(GUEST_IMAGE_NAMES.map((name) => `${name}.elf`));
    const binDir = guestImagePath("hello").replace(/\/[^/]*$/, "");
    for await (const entry of Deno.readDir(binDir)) {
      if (entry.name.endsWith(".elf") && !known.has(entry.name)) {
        problems.push(`guests/bin/${entry.name} is not built by build.ts (a stale image?)`);
      }
    }
    if (problems.length > 0) {
      throw new Error(
        `${problems.join("\n")}\nRun \`deno task guests\` and commit guests/bin/ with the sources.`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
