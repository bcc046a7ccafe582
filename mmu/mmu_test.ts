import assert from "node:assert/strict";
import {
  ACCESS_FETCH,
  ACCESS_LOAD,
  ACCESS_STORE,
  FRAME_DIRTY,
  makePte,
  Mmu,
  PhysicalMemory,
  PTE_A,
  PTE_D,
  PTE_R,
  PTE_U,
  PTE_V,
  PTE_W,
  PTE_X,
  SATP_MODE_SV32,
  TLB_ENTRIES,
  XLATE_ACCESS_FAULT,
  XLATE_MMIO,
  XLATE_PAGE_FAULT,
  XLATE_RAM,
  XLATE_RAM_WATCHED,
} from "./mod.ts";

const RAM = 0x8000_0000;
const ROOT = 0x80010; // frame of the root table
const LEAF = 0x80011; // frame of a leaf table

/** A 1 MiB machine with a root table mapping VA 0x4000_0000.. through a leaf table. */
function setup() {
  const memory = new PhysicalMemory();
  memory.addRam(RAM, 1 << 20);
  const mmu = new Mmu(memory);
  // root[0x100] (VA 0x4000_0000) -> leaf table
  memory.write32(ROOT * 4096 + 0x100 * 4, makePte(LEAF, PTE_V));
  const satp = SATP_MODE_SV32 | ROOT;
  mmu.setContext(satp, false, false);
  const map = (vpn0: number, frame: number, flags: number) =>
    memory.write32(LEAF * 4096 + vpn0 * 4, makePte(frame, flags));
  const pte = (vpn0: number) => memory.read32(LEAF * 4096 + vpn0 * 4);
  return { memory, mmu, map, pte };
}

Deno.test("M-mode and bare S-mode translate by identity", () => {
  const { memory, mmu } = setup();
  assert.equal(mmu.translate(RAM + 0x123, ACCESS_LOAD, 3), XLATE_RAM);
  assert.equal(mmu.offset, 0x123);
  mmu.setContext(0, false, false);
  assert.equal(mmu.translate(RAM + 0x5000, ACCESS_STORE, 1), XLATE_RAM);
  assert.equal(mmu.offset, 0x5000);
  assert.equal(mmu.translate(0x1000, ACCESS_LOAD, 3), XLATE_ACCESS_FAULT);
  memory.addMmio(0x1000_0000, 0x100, null);
  assert.equal(mmu.translate(0x1000_0004, ACCESS_LOAD, 3), XLATE_MMIO);
  assert.equal(mmu.address, 0x1000_0004);
  assert.equal(
    mmu.translate(0x1000_0004, ACCESS_FETCH, 3),
    XLATE_ACCESS_FAULT,
    "no fetch from MMIO",
  );
});

Deno.test("Sv32 4 KiB page maps, fills the TLB and sets A and D", () => {
  const { mmu, map, pte } = setup();
  map(5, 0x80020, PTE_V | PTE_R | PTE_W);
  const va = 0x4000_5abc;
  assert.equal(mmu.translate(va, ACCESS_LOAD, 1), XLATE_RAM);
  assert.equal(mmu.address, 0x80020 * 4096 + 0xabc);
  assert.equal(pte(5) & (PTE_A | PTE_D), PTE_A, "a load sets A only");
  const set = mmu.set(ACCESS_LOAD, 1);
  const slot = (va >>> 12) & (TLB_ENTRIES - 1);
  assert.equal(set.tag[slot], va >>> 12);
  assert.equal(set.offset[slot], (0x80020 - 0x80000) * 4096);
  assert.equal(mmu.translate(va, ACCESS_STORE, 1), XLATE_RAM);
  assert.equal(pte(5) & (PTE_A | PTE_D), PTE_A | PTE_D, "a store sets D");
});

Deno.test("Sv32 permission rules: R/W/X, U vs S, SUM, MXR", () => {
  const { mmu, map } = setup();
  map(1, 0x80021, PTE_V | PTE_R); // read-only, supervisor
  map(2, 0x80022, PTE_V | PTE_X); // execute-only
  map(3, 0x80023, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U); // user page
  const va = (vpn0: number) => 0x4000_0000 + vpn0 * 4096;
  assert.equal(mmu.translate(va(1), ACCESS_STORE, 1), XLATE_PAGE_FAULT, "no W");
  assert.equal(mmu.translate(va(1), ACCESS_FETCH, 1), XLATE_PAGE_FAULT, "no X");
  assert.equal(mmu.translate(va(1), ACCESS_LOAD, 0), XLATE_PAGE_FAULT, "U on an S page");
  assert.equal(mmu.translate(va(2), ACCESS_LOAD, 1), XLATE_PAGE_FAULT, "X-only without MXR");
  assert.equal(mmu.translate(va(2), ACCESS_FETCH, 1), XLATE_RAM);
  assert.equal(mmu.translate(va(3), ACCESS_LOAD, 0), XLATE_RAM);
  assert.equal(mmu.translate(va(3), ACCESS_LOAD, 1), XLATE_PAGE_FAULT, "S on a U page, SUM=0");
  assert.equal(mmu.translate(va(3), ACCESS_FETCH, 1), XLATE_PAGE_FAULT, "S never runs U code");
  mmu.setContext(mmu.satp, true, true);
  assert.equal(mmu.translate(va(3), ACCESS_LOAD, 1), XLATE_RAM, "SUM=1");
  assert.equal(mmu.translate(va(3), ACCESS_FETCH, 1), XLATE_PAGE_FAULT, "SUM does not allow fetch");
  assert.equal(mmu.translate(va(2), ACCESS_LOAD, 1), XLATE_RAM, "MXR makes X readable");
});

Deno.test("Sv32 malformed entries fault: invalid, W without R, leaf at level 0 missing", () => {
  const { memory, mmu, map } = setup();
  map(4, 0x80024, PTE_W | PTE_R); // V clear
  map(6, 0x80026, PTE_V | PTE_W); // reserved W-only
  assert.equal(mmu.translate(0x4000_4000, ACCESS_LOAD, 1), XLATE_PAGE_FAULT);
  assert.equal(mmu.translate(0x4000_6000, ACCESS_LOAD, 1), XLATE_PAGE_FAULT);
  assert.equal(mmu.translate(0x5000_0000, ACCESS_LOAD, 1), XLATE_PAGE_FAULT, "empty root entry");
  // A level-0 entry that is a pointer (no R/X) is a fault: there is no level below.
  map(7, LEAF, PTE_V);
  assert.equal(mmu.translate(0x4000_7000, ACCESS_LOAD, 1), XLATE_PAGE_FAULT);
  // A pointer to a table outside RAM is an access fault.
  memory.write32(ROOT * 4096 + 0x101 * 4, makePte(0x1000, PTE_V));
  assert.equal(mmu.translate(0x4040_0000, ACCESS_LOAD, 1), XLATE_ACCESS_FAULT);
});

Deno.test("Sv32 superpages: aligned ones map 4 MiB, misaligned ones fault", () => {
  const { memory, mmu } = setup();
  memory.write32(ROOT * 4096 + 0x200 * 4, makePte(0x80000, PTE_V | PTE_R | PTE_W | PTE_X));
  assert.equal(mmu.translate(0x8000_0000 + 0x12345, ACCESS_LOAD, 1), XLATE_RAM);
  assert.equal(mmu.address, RAM + 0x12345);
  memory.write32(ROOT * 4096 + 0x201 * 4, makePte(0x80001, PTE_V | PTE_R));
  assert.equal(mmu.translate(0x8040_0000, ACCESS_LOAD, 1), XLATE_PAGE_FAULT);
});

Deno.test("TLB sets are flushed by context changes and kept per privilege", () => {
  const { mmu, map } = setup();
  map(5, 0x80020, PTE_V | PTE_R | PTE_U);
  const slot = (0x4000_5000 >>> 12) & (TLB_ENTRIES - 1);
  assert.equal(mmu.translate(0x4000_5000, ACCESS_LOAD, 0), XLATE_RAM);
  assert.equal(mmu.set(ACCESS_LOAD, 0).tag[slot], 0x40005);
  assert.equal(mmu.set(ACCESS_LOAD, 1).tag[slot], -1, "the S set is separate");
  mmu.translate(RAM, ACCESS_LOAD, 3);
  mmu.setContext(mmu.satp, true, false);
  assert.equal(mmu.set(ACCESS_LOAD, 0).tag[slot], -1, "SUM change flushes U/S sets");
  assert.equal(mmu.set(ACCESS_LOAD, 3).tag[0], 0x80000, "M's identity set survives");
});

Deno.test("flushPage drops one page's translations and keeps the others", () => {
  const { mmu, map } = setup();
  map(5, 0x80020, PTE_V | PTE_R | PTE_W);
  map(6, 0x80021, PTE_V | PTE_R | PTE_W);
  const slot5 = (0x4000_5000 >>> 12) & (TLB_ENTRIES - 1);
  const slot6 = (0x4000_6000 >>> 12) & (TLB_ENTRIES - 1);
  for (const va of [0x4000_5000, 0x4000_6000]) {
    assert.equal(mmu.translate(va, ACCESS_LOAD, 1), XLATE_RAM);
    assert.equal(mmu.translate(va, ACCESS_STORE, 1), XLATE_RAM);
  }
  map(5, 0x80030, PTE_V | PTE_R | PTE_W); // remap page 5, then flush just it
  mmu.flushPage(0x4000_5abc);
  assert.equal(mmu.set(ACCESS_LOAD, 1).tag[slot5], -1);
  assert.equal(mmu.set(ACCESS_STORE, 1).tag[slot5], -1);
  assert.equal(mmu.set(ACCESS_LOAD, 1).tag[slot6], 0x40006, "page 6 stays cached");
  assert.equal(mmu.translate(0x4000_5000, ACCESS_LOAD, 1), XLATE_RAM);
  assert.equal(mmu.address, 0x8003_0000, "the new mapping is seen");
});

Deno.test("flushPage inside a cached megapage drops every piece of it", () => {
  const { memory, mmu, map } = setup();
  const megapage = ROOT * 4096 + 0x200 * 4; // VA 0x8000_0000, 4 MiB
  memory.write32(megapage, makePte(0x80000, PTE_V | PTE_R | PTE_W));
  map(5, 0x80020, PTE_V | PTE_R);
  for (const va of [0x8000_1000, 0x8000_2000, 0x4000_5000]) {
    assert.equal(mmu.translate(va, ACCESS_LOAD, 1), XLATE_RAM);
  }
  // Make the megapage execute-only and flush with an address in it that was never cached itself.
  memory.write32(megapage, makePte(0x80000, PTE_V | PTE_X));
  mmu.flushPage(0x8000_3000);
  const slot = (0x8000_2000 >>> 12) & (TLB_ENTRIES - 1);
  assert.equal(mmu.set(ACCESS_LOAD, 1).tag[slot], -1, "another piece of the megapage went too");
  assert.equal(mmu.translate(0x8000_2000, ACCESS_LOAD, 1), XLATE_PAGE_FAULT, "the new PTE rules");
  // Once flushed, a page flush elsewhere is precise again.
  mmu.translate(0x4000_5000, ACCESS_LOAD, 1);
  mmu.flushPage(0x4000_9000);
  const slot5 = (0x4000_5000 >>> 12) & (TLB_ENTRIES - 1);
  assert.equal(mmu.set(ACCESS_LOAD, 1).tag[slot5], 0x40005, "a flush of page 9 keeps page 5");
});

Deno.test("dirty logging and store watches keep frames out of the store TLB", () => {
  const { memory, mmu } = setup();
  memory.setDirtyLogging(true);
  assert.equal(mmu.translate(RAM + 0x3000, ACCESS_STORE, 3), XLATE_RAM);
  assert.deepEqual(memory.collectDirty(), [0x80003]);
  assert.equal(mmu.set(ACCESS_STORE, 3).tag[0x80003 & (TLB_ENTRIES - 1)], -1, "flushed");
  assert.deepEqual(memory.collectDirty(), []);
  memory.write8(RAM + 0x7001, 1);
  assert.deepEqual(memory.collectDirty(), [0x80007], "host writes are logged too");
  const seen: number[] = [];
  memory.watchStores(RAM + 0x9000, (address) => seen.push(address));
  assert.equal(mmu.translate(RAM + 0x9010, ACCESS_STORE, 3), XLATE_RAM_WATCHED);
  assert.equal(mmu.translate(RAM + 0x9010, ACCESS_LOAD, 3), XLATE_RAM, "loads are unaffected");
  memory.notifyStore(RAM + 0x9010, 4);
  assert.deepEqual(seen, [RAM + 0x9010]);
  assert.equal(memory.regions[0].frameFlags[9] & FRAME_DIRTY, FRAME_DIRTY);
});

Deno.test("physical memory rejects overlaps and finds free frames", () => {
  const memory = new PhysicalMemory();
  memory.addRam(RAM, 0x10000);
  assert.throws(() => memory.addRam(RAM + 0x8000, 0x1000), /overlaps RAM/);
  memory.addMmio(0x1000_0000, 0x1000, null);
  assert.throws(() => memory.addRam(0x1000_0000, 0x1000), /overlaps MMIO/);
  assert.throws(() => memory.addRam(RAM + 0x10000, 100), /whole 4 KiB frames/);
  assert.equal(memory.findFreeFrames(4, 0x80000), 0x80010);
  const second = memory.addRam(RAM + 0x20000, 0x2000);
  assert.equal(memory.findFreeFrames(16, 0x80000), 0x80010, "fits the hole exactly");
  assert.equal(memory.findFreeFrames(17, 0x80000), 0x80022);
  assert.equal(memory.findFreeFrames(2, 0x80000), 0x80010);
  memory.writeBytes(RAM + 0xfffe, new Uint8Array([1, 2]));
  assert.deepEqual([...memory.readBytes(RAM + 0xfffe, 2)], [1, 2]);
  assert.throws(() => memory.readBytes(RAM + 0xffff, 2), /not RAM/);
  memory.removeRegion(second);
  assert.equal(memory.regionOf(0x80020), undefined);
});
