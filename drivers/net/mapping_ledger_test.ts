import assert from "node:assert/strict";
import { GTF_reading, GTF_writing } from "@paravirt/public";
import { ForeignMaps } from "@paravirt/mmu";
import { createMappingLedger, MappingLedger } from "./mapping_ledger.ts";
import { Netback } from "./netback.ts";
import { testGuest } from "./_test_guest.ts";

Deno.test("mapping ledger: what a killed netback left mapped is released", () => {
  const guest = testGuest();
  const ledger = createMappingLedger();
  // A netback maps its rings and is then "killed": it never unmaps.
  new Netback({
    source: guest.source,
    doorbell: guest.doorbell,
    txSlot: 0,
    rxSlot: 0,
    txRingRef: guest.front.txRingRef,
    rxRingRef: guest.front.rxRingRef,
    link: guest.link,
    ledger,
  });
  const foreign = new ForeignMaps(guest.source.buffer.byteLength / 4096, guest.source.foreignMaps);
  const inUse = (gref: number) => guest.front.grantFlags(gref) & (GTF_reading | GTF_writing);
  assert.equal(foreign.writableMaps(0), 1, "the tx ring page is mapped writable");
  assert.equal(inUse(guest.front.txRingRef), GTF_reading | GTF_writing);
  assert.equal(foreign.tryMarkTable(0), false, "so it cannot become a page table");
  const record = new MappingLedger(ledger);
  assert.equal(record.recorded, 2);
  assert.equal(record.release(guest.source), 2);
  assert.equal(foreign.writableMaps(0), 0);
  assert.equal(foreign.writableMaps(1), 0);
  assert.equal(inUse(guest.front.txRingRef), 0);
  assert.equal(inUse(guest.front.rxRingRef), 0);
  assert.equal(foreign.tryMarkTable(0), true, "a page table again");
  assert.equal(record.release(guest.source), 0, "released once");
});

Deno.test("mapping ledger: a netback that stops clears its own entries", () => {
  const guest = testGuest();
  const ledger = createMappingLedger();
  const netback = new Netback({
    source: guest.source,
    doorbell: guest.doorbell,
    txSlot: 0,
    rxSlot: 0,
    txRingRef: guest.front.txRingRef,
    rxRingRef: guest.front.rxRingRef,
    link: guest.link,
    ledger,
  });
  netback.stop();
  assert.equal(new MappingLedger(ledger).recorded, 0);
  assert.throws(() => new MappingLedger(new SharedArrayBuffer(4)), RangeError);
});
