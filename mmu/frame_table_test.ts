import assert from "node:assert/strict";
import {
  DOMID_FREE,
  FRAME_TYPE_PT_LEAF,
  FRAME_TYPE_WRITABLE,
  FrameTable,
  PhysicalMemory,
} from "./mod.ts";

Deno.test("frame table tracks owners, refs and exclusive types", () => {
  const memory = new PhysicalMemory();
  memory.addRam(0x8000_0000, 0x4000);
  const table = new FrameTable(memory);
  const frame = 0x80001;
  assert.equal(table.owner(frame), DOMID_FREE);
  table.setOwner(frame, 3);
  assert.equal(table.getPage(frame, 4), false, "another domain cannot reference it");
  assert.equal(table.getPage(0x90000, 3), false, "not RAM");
  assert.equal(table.getPage(frame, 3), true);
  assert.equal(table.refCount(frame), 1);
  assert.equal(table.getType(frame, FRAME_TYPE_PT_LEAF), true);
  assert.equal(table.getType(frame, FRAME_TYPE_WRITABLE), false, "a page table is never writable");
  table.putType(frame);
  assert.equal(table.getType(frame, FRAME_TYPE_WRITABLE), true, "type changes once unreferenced");
  assert.throws(() => table.setOwner(frame, DOMID_FREE), /still referenced/);
  table.putType(frame);
  table.putPage(frame);
  table.setOwner(frame, DOMID_FREE);
  assert.throws(() => table.putPage(frame), /no refs/);
});
