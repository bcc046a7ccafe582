import assert from "node:assert/strict";
import { blockBackendConformance } from "./conformance.ts";
import * as file from "./file_backend.ts";
import { BlockIoError } from "./backend.ts";

async function image(bytes: number): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".img" });
  await Deno.truncate(path, bytes);
  return path;
}

blockBackendConformance({
  name: "file",
  create: async () => {
    const target = await image(4 << 20);
    return { module: file, target, cleanup: () => Deno.remove(target) };
  },
});

Deno.test("file backend: read-only opens the image read-only", async () => {
  const target = await image(64 * 1024);
  try {
    await Deno.chmod(target, 0o444);
    const isRoot = Deno.uid() === 0;
    if (!isRoot) {
      await assert.rejects(
        file.open({ target, readOnly: false, params: {}, retained: [], retain: () => {} }),
        "a read-write open of a read-only file fails",
      );
    }
    const disk = await file.open({ target, readOnly: true, params: {}, retained: [], retain() {} });
    assert.equal(disk.info.readOnly, true);
    assert.equal(disk.info.sectors, 128);
    await assert.rejects(disk.write(0, new Uint8Array(512)), BlockIoError);
    await disk.close();
  } finally {
    await Deno.remove(target);
  }
});

Deno.test("file backend: bad targets are clear errors", async () => {
  const options = { readOnly: true, params: {}, retained: [], retain() {} };
  await assert.rejects(file.open(options), /needs a target/);
  await assert.rejects(
    file.open({ ...options, target: "/nonexistent/disk.img" }),
    /ENOENT|No such/,
  );
  const tiny = await image(100);
  try {
    await assert.rejects(file.open({ ...options, target: tiny }), /no whole 512-byte sector/);
  } finally {
    await Deno.remove(tiny);
  }
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(file.open({ ...options, target: dir }), /not a regular file|EISDIR/);
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("file backend: a tail short of a sector is left unused", async () => {
  const target = await image(3 * 512 + 100);
  try {
    const disk = await file.open({
      target,
      readOnly: false,
      params: {},
      retained: [],
      retain() {},
    });
    assert.equal(disk.info.sectors, 3);
    await disk.close();
  } finally {
    await Deno.remove(target);
  }
});
