import assert from "node:assert/strict";
import {
  GNTST_bad_gntref,
  GNTST_bad_page,
  GNTST_general_error,
  GNTST_okay,
  GTF_permit_access,
  GTF_reading,
  GTF_readonly,
  GTF_writing,
} from "@paravirt/public";
import { ForeignMaps } from "@paravirt/mmu";
import { GrantMapper, type GrantSource } from "./grant_mapper.ts";

const PAGES = 16;
const FIRST = 0x10000;

function domain() {
  const buffer = new SharedArrayBuffer((PAGES + 2) * 4096);
  const foreign = new ForeignMaps(PAGES + 2);
  const source: GrantSource = {
    domid: 3,
    buffer,
    firstFrame: FIRST,
    maxPages: PAGES,
    grantFrameIndex: PAGES + 1,
    grantFrames: 1,
    foreignMaps: foreign.buffer,
  };
  const view = new DataView(buffer);
  const grant = (gref: number, flags: number, domid: number, frame: number) => {
    const at = (PAGES + 1) * 4096 + gref * 8;
    view.setUint16(at, flags, true);
    view.setUint16(at + 2, domid, true);
    view.setUint32(at + 4, frame, true);
  };
  const flags = (gref: number) => view.getUint16((PAGES + 1) * 4096 + gref * 8, true);
  return { source, buffer, foreign, grant, flags };
}

Deno.test("grants: Xen's checks and status codes", () => {
  const { source, grant, foreign } = domain();
  const mapper = new GrantMapper(source);
  grant(1, GTF_permit_access, 0, FIRST + 2);
  grant(2, GTF_permit_access | GTF_readonly, 0, FIRST + 3);
  grant(3, GTF_permit_access, 5, FIRST + 4); // for another domain
  grant(4, 0, 0, FIRST + 4); // not a grant
  grant(5, GTF_permit_access, 0, FIRST + PAGES); // a special frame
  grant(6, GTF_permit_access, 0, FIRST - 1); // outside the domain
  grant(7, GTF_permit_access, 0, FIRST + 7);
  assert.equal(mapper.map(9999, false), GNTST_bad_gntref);
  assert.equal(mapper.map(-1, false), GNTST_bad_gntref);
  assert.equal(mapper.map(2, true), GNTST_general_error, "read-only grant mapped for writing");
  assert.equal(mapper.map(3, false), GNTST_general_error, "granted to another domain");
  assert.equal(mapper.map(4, false), GNTST_general_error, "no permit_access");
  assert.equal(mapper.map(5, false), GNTST_bad_page);
  assert.equal(mapper.map(6, false), GNTST_bad_page);
  foreign.tryMarkTable(7);
  assert.equal(mapper.map(7, true), GNTST_general_error, "a page table is never writable");
  const ro = mapper.map(2, false);
  assert.ok(typeof ro === "object");
  assert.equal(mapper.mapped, 1);
});

Deno.test("grants: in-use flags follow the mappings; writable maps block page-table use", () => {
  const { source, grant, flags, foreign, buffer } = domain();
  const mapper = new GrantMapper(source);
  grant(1, GTF_permit_access, 0, FIRST + 2);
  const a = mapper.map(1, true);
  const b = mapper.map(1, false);
  assert.ok(typeof a === "object" && typeof b === "object");
  assert.equal(flags(1) & (GTF_reading | GTF_writing), GTF_reading | GTF_writing);
  assert.equal(foreign.tryMarkTable(2), false, "mapped writable: not a page table");
  a.bytes[0] = 0xab;
  assert.equal(new Uint8Array(buffer)[2 * 4096], 0xab, "the view is the frontend's frame");
  assert.equal(mapper.unmap(a), GNTST_okay);
  assert.equal(flags(1) & (GTF_reading | GTF_writing), GTF_reading);
  assert.equal(mapper.unmap(b), GNTST_okay);
  assert.equal(flags(1) & (GTF_reading | GTF_writing), 0);
  assert.equal(mapper.unmap(b), -4, "a second unmap is refused");
  assert.ok(foreign.tryMarkTable(2));
});

Deno.test("grants: copy to and from, with bounds checked", () => {
  const { source, grant, buffer } = domain();
  const mapper = new GrantMapper(source);
  grant(1, GTF_permit_access, 0, FIRST + 5);
  assert.equal(mapper.copyTo(1, 100, new Uint8Array([1, 2, 3])), GNTST_okay);
  const out = new Uint8Array(3);
  assert.equal(mapper.copyFrom(1, 100, 3, out), GNTST_okay);
  assert.deepEqual([...out], [1, 2, 3]);
  assert.equal(new Uint8Array(buffer)[5 * 4096 + 101], 2);
  assert.equal(mapper.copyTo(1, 4095, new Uint8Array(2)), GNTST_general_error);
  assert.equal(mapper.copyFrom(1, -1, 1, out), GNTST_general_error);
  assert.equal(mapper.mapped, 0, "copies leave nothing mapped");
});
