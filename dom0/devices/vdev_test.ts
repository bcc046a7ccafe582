import assert from "node:assert/strict";
import { devidToVdev, vdevToDevid } from "./vdev.ts";

Deno.test("vdev names map to Xen's virtual-device numbers and back", () => {
  assert.equal(vdevToDevid("xvda"), 51712);
  assert.equal(vdevToDevid("xvdb"), 51728);
  assert.equal(vdevToDevid("xvda1"), 51713);
  assert.equal(vdevToDevid("xvdp"), 51952);
  assert.equal(vdevToDevid("xvdq"), (1 << 28) | (16 << 8));
  assert.equal(vdevToDevid("xvdaa"), (1 << 28) | (26 << 8));
  assert.equal(vdevToDevid("hda"), 768);
  assert.equal(vdevToDevid("hdc"), 5632);
  assert.equal(vdevToDevid("sda"), 2048);
  assert.equal(vdevToDevid("51712"), 51712);
  for (const name of ["xvda", "xvdb3", "xvdp", "xvdq", "xvdaa", "xvdzz"]) {
    assert.equal(devidToVdev(vdevToDevid(name)), name);
  }
  for (const bad of ["", "xvd", "vda", "xvdA", "hde", "xvda16x", "0", "-1"]) {
    assert.throws(() => vdevToDevid(bad), TypeError, bad);
  }
});
