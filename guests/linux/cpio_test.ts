import assert from "node:assert/strict";
import { readCpio, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, writeCpio } from "./cpio.ts";

const ENTRIES = [
  { name: "dev", mode: S_IFDIR | 0o755 },
  { name: "dev/console", mode: S_IFCHR | 0o600, rdev: { major: 5, minor: 1 } },
  { name: "init", mode: S_IFREG | 0o755, data: new TextEncoder().encode("#!hello\n") },
  { name: "bin", mode: S_IFDIR | 0o755 },
  { name: "bin/sh", mode: S_IFLNK | 0o777, data: new TextEncoder().encode("/init") },
];

Deno.test("a newc archive round-trips and is laid out on 4-byte boundaries", () => {
  const archive = writeCpio(ENTRIES);
  assert.equal(archive.length % 4, 0);
  const text = new TextDecoder().decode(archive.subarray(0, 110));
  assert.match(text, /^070701/);
  // First member: ino 1, mode 040755, nlink 2, name "dev\0" (4 bytes).
  assert.equal(text.slice(6, 14), "00000001");
  assert.equal(text.slice(14, 22), (S_IFDIR | 0o755).toString(16).padStart(8, "0"));
  assert.equal(text.slice(94, 102), "00000004");
  const back = readCpio(archive);
  assert.equal(back.length, ENTRIES.length);
  for (const [i, entry] of ENTRIES.entries()) {
    assert.equal(back[i].name, entry.name);
    assert.equal(back[i].mode, entry.mode);
    assert.deepEqual(back[i].data, "data" in entry ? entry.data : undefined);
  }
  assert.deepEqual(back[1].rdev, { major: 5, minor: 1 });
  assert.match(new TextDecoder().decode(archive.subarray(archive.length - 124)), /TRAILER!!!/);
});

Deno.test("bad members and bad archives are refused with a RangeError", () => {
  assert.throws(() => writeCpio([{ name: "/init", mode: S_IFREG }]), /not a clean relative path/);
  assert.throws(() => writeCpio([{ name: "a/../b", mode: S_IFREG }]), /not a clean relative path/);
  assert.throws(() => writeCpio([{ name: "x", mode: 0o644 }]), /unsupported mode/);
  assert.throws(() => writeCpio([{ name: "c", mode: S_IFCHR | 0o600 }]), /needs device numbers/);
  assert.throws(
    () => writeCpio([{ name: "d", mode: S_IFDIR | 0o755, data: new Uint8Array(1) }]),
    /has data but is not a file/,
  );
  assert.throws(
    () => writeCpio([{ name: "a", mode: S_IFDIR }, { name: "a", mode: S_IFDIR }]),
    /appears twice/,
  );
  const archive = writeCpio(ENTRIES);
  assert.throws(() => readCpio(archive.subarray(0, 200)), /overruns|without a trailer/);
  const bad = archive.slice();
  bad[0] = 0x39;
  assert.throws(() => readCpio(bad), /Bad cpio magic/);
  const badField = archive.slice();
  badField[10] = 0x78; // 'x' inside the inode field
  assert.throws(() => readCpio(badField), /Bad header field/);
});

async function hasCpio(): Promise<boolean> {
  try {
    return (await new Deno.Command("cpio", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "GNU cpio lists our archive with the same members and modes",
  ignore: !(await hasCpio()),
  fn: async () => {
    const child = new Deno.Command("cpio", {
      args: ["-t", "-v", "--quiet"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(writeCpio(ENTRIES));
    await writer.close();
    const { success, stdout, stderr } = await child.output();
    assert.ok(success, new TextDecoder().decode(stderr));
    const lines = new TextDecoder().decode(stdout).trim().split("\n");
    assert.equal(lines.length, 5);
    assert.match(lines[0], /^drwxr-xr-x .* dev$/);
    assert.match(lines[1], /^crw------- .* 5,\s+1 .* dev\/console$/);
    assert.match(lines[2], /^-rwxr-xr-x .* 8 .* init$/);
    assert.match(lines[4], /^lrwxrwxrwx .* bin\/sh -> \/init$/);
  },
});
