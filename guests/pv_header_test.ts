/**
 * The committed `pv/include/paravirt_abi.h` must be exactly what `@paravirt/public` generates,
 * so the PV kernel is compiled against the ABI the hypervisor implements. Regenerate it with
 * `deno task guests`.
 *
 * @module
 */

import { generateCHeader } from "@paravirt/public";
import { PV_HEADER } from "./build.ts";

Deno.test("the committed paravirt_abi.h is the generated one", async () => {
  const path = decodeURIComponent(new URL(`./pv/${PV_HEADER}`, import.meta.url).pathname);
  const committed = await Deno.readTextFile(path);
  const generated = generateCHeader();
  if (committed !== generated) {
    const a = committed.split("\n");
    const b = generated.split("\n");
    let line = 0;
    while (line < a.length && a[line] === b[line]) line++;
    throw new Error(
      `guests/pv/${PV_HEADER} differs from generateCHeader() at line ${line + 1}:\n` +
        `  committed: ${a[line] ?? "(end of file)"}\n  generated: ${b[line] ?? "(end of file)"}\n` +
        "Run `deno task guests` and commit the header with the images.",
    );
  }
});
