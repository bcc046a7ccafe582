import assert from "node:assert/strict";
import { parseDiskSpec } from "./disk_spec.ts";

Deno.test("disk lines: keyword form, with a backend module and parameters", () => {
  const spec = parseDiskSpec(
    "format=raw, vdev=xvda, access=rw, target=./disk.img, backend=./my_block.ts",
    "/vm",
  );
  assert.deepEqual(spec, {
    target: "/vm/disk.img",
    format: "raw",
    vdev: "xvda",
    devid: 51712,
    readOnly: false,
    backend: "./my_block.ts",
    backendModule: "file:///vm/my_block.ts",
    params: {},
  });
  const memory = parseDiskSpec("vdev=xvdb, backend=memory, size=64M, access=ro");
  assert.equal(memory.backendModule, "memory");
  assert.equal(memory.readOnly, true);
  assert.equal(memory.target, undefined);
  assert.deepEqual(memory.params, { size: "64M" });
  assert.equal(parseDiskSpec("vdev=xvdc,target=/a b.img", "/").backendModule, "file");
  assert.equal(
    parseDiskSpec("vdev=xvdc,target=/x,backend=/opt/my disk.ts").backendModule,
    "file:///opt/my%20disk.ts",
  );
  assert.equal(parseDiskSpec("vdev=xvdc,target=/x,backend=jsr:@a/b").backendModule, "jsr:@a/b");
});

Deno.test("disk lines: positional form", () => {
  const spec = parseDiskSpec("img/disk.img,raw,xvdb,ro", "/vm");
  assert.equal(spec.target, "/vm/img/disk.img");
  assert.equal(spec.vdev, "xvdb");
  assert.equal(spec.readOnly, true);
  assert.equal(parseDiskSpec("/d.img,,xvdc").readOnly, false, "access defaults to rw");
});

Deno.test("disk lines: broken lines are clear errors", () => {
  const bad: [string, RegExp][] = [
    ["target=/d.img", /names no vdev/],
    ["vdev=xvda", /needs a target/],
    ["vdev=xvda,target=/d,format=qcow2", /format "qcow2" is not raw/],
    ["vdev=xvda,target=/d,access=rwx", /access "rwx"/],
    ["vdev=xvda,target=/d,vdev=xvdb", /given twice/],
    ["vdev=nope,target=/d", /Virtual device "nope"/],
    ["a,raw,xvda,rw,extra", /unexpected positional value "extra"/],
    ["vdev=xvda,target=/d,Bad Key=1", /is not a key/],
    ["vdev=xvda,target=/d,devtype=cdrom", /devtype "cdrom"/],
  ];
  for (const [line, message] of bad) assert.throws(() => parseDiskSpec(line), message, line);
});
