/**
 * Tests of the image list and paths in mod.ts.
 *
 * @module
 */

import {
  cpubenchHostSources,
  GUEST_IMAGE_NAMES,
  GUEST_IMAGES,
  type GuestImageName,
  guestImagePath,
  guestImageUrl,
} from "./mod.ts";

Deno.test("the image record and the name list agree", () => {
  const keys = Object.keys(GUEST_IMAGES).sort();
  const names = [...GUEST_IMAGE_NAMES].sort();
  if (JSON.stringify(keys) !== JSON.stringify(names)) {
    throw new Error(`GUEST_IMAGES keys ${keys} differ from GUEST_IMAGE_NAMES ${names}`);
  }
});

Deno.test("every listed image exists as bin/<name>.elf and starts with the ELF magic", async () => {
  for (const name of GUEST_IMAGE_NAMES) {
    const url = guestImageUrl(name);
    if (!url.pathname.endsWith(`/bin/${name}.elf`)) throw new Error(`Odd URL ${url.href}`);
    const bytes = await Deno.readFile(guestImagePath(name));
    const magic = [...bytes.subarray(0, 4)].map((b) => b.toString(16)).join(" ");
    if (magic !== "7f 45 4c 46") throw new Error(`${name}.elf has magic ${magic}`);
  }
});

Deno.test("an unknown image name is a RangeError that quotes it", () => {
  try {
    guestImagePath("nope" as GuestImageName);
  } catch (error) {
    if (error instanceof RangeError && error.message.includes('"nope"')) return;
    throw error;
  }
  throw new Error("guestImagePath accepted an unknown name");
});

Deno.test("the host benchmark sources exist", async () => {
  for (const path of cpubenchHostSources()) await Deno.stat(path);
});
