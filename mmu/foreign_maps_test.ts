import assert from "node:assert/strict";
import { ForeignMaps } from "./foreign_maps.ts";

Deno.test("foreign maps: tables and writable backend mappings exclude each other", () => {
  const maps = new ForeignMaps(4);
  assert.ok(maps.tryMapWritable(1));
  assert.ok(maps.tryMapWritable(1));
  assert.equal(maps.writableMaps(1), 2);
  assert.equal(maps.tryMarkTable(1), false, "mapped writable: cannot become a table");
  maps.unmapWritable(1);
  maps.unmapWritable(1);
  maps.unmapWritable(1); // one too many is ignored
  assert.equal(maps.writableMaps(1), 0);
  assert.ok(maps.tryMarkTable(1));
  assert.ok(maps.isTable(1));
  assert.equal(maps.tryMapWritable(1), false, "a table cannot be mapped writable");
  maps.unmarkTable(1);
  assert.ok(maps.tryMapWritable(1));
  for (const bad of [-1, 4, 1.5, NaN]) {
    assert.equal(maps.tryMapWritable(bad), false);
    assert.equal(maps.tryMarkTable(bad), false);
  }
  assert.throws(() => new ForeignMaps(0), RangeError);
});
