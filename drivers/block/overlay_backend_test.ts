import assert from "node:assert/strict";
import { blockBackendConformance } from "./conformance.ts";
import * as overlay from "./overlay_backend.ts";

async function base(bytes: number, fill: number): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".img" });
  await Deno.writeFile(path, new Uint8Array(bytes).fill(fill));
  return path;
}

blockBackendConformance({
  name: "overlay",
  create: async () => {
    const target = await base(3 << 20, 0x5a);
    return { module: overlay, target, cleanup: () => Deno.remove(target) };
  },
});

Deno.test("overlay backend: the base is never written; overlay sectors shadow it", async () => {
  const target = await base(4 << 20, 0x11);
  const retained: SharedArrayBuffer[] = [];
  try {
    const disk = await overlay.open({
      target,
      readOnly: false,
      params: {},
      retained,
      retain: (b) => retained.push(b),
    });
    await disk.write(2047, new Uint8Array(1024).fill(0x22)); // spans two chunks
    const out = new Uint8Array(4 * 512);
    await disk.read(2046, out);
    assert.deepEqual([out[0], out[512], out[1024], out[1536]], [0x11, 0x22, 0x22, 0x11]);
    assert.equal(retained.length, 3, "directory and two chunks");
    await disk.discard(2047, 1);
    await disk.read(2046, out);
    assert.deepEqual([out[0], out[512], out[1024], out[1536]], [0x11, 0x11, 0x22, 0x11]);
    await disk.close();
    const file = await Deno.readFile(target);
    assert.ok(file.every((b) => b === 0x11), "the base image is untouched");
  } finally {
    await Deno.remove(target);
  }
});

Deno.test("overlay backend: the base opens read-only even for a writable disk", async () => {
  const target = await base(1 << 20, 0);
  try {
    await Deno.chmod(target, 0o444);
    const disk = await overlay.open({
      target,
      readOnly: false,
      params: {},
      retained: [],
      retain() {},
    });
    await disk.write(0, new Uint8Array(512).fill(1));
    await disk.close();
  } finally {
    await Deno.remove(target);
  }
});
