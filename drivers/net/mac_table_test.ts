import assert from "node:assert/strict";
import { MacTable } from "./mac_table.ts";

Deno.test("mac table: learns, moves, ages out, and forgets a port", () => {
  const table = new MacTable({ capacity: 8, ageMs: 1000 });
  table.learn(0xa, 1, 0);
  table.learn(0xb, 2, 0);
  assert.equal(table.lookup(0xa, 500), 1);
  table.learn(0xa, 3, 600);
  assert.equal(table.lookup(0xa, 600), 3);
  assert.equal(table.moves, 1);
  assert.equal(table.lookup(0xb, 1001), -1, "aged out");
  assert.equal(table.lookup(0xa, 1500), 3, "refreshed at 600");
  table.forgetPort(3);
  assert.equal(table.lookup(0xa, 1500), -1);
  assert.equal(table.size, 0);
});

Deno.test("mac table: a full table learns nothing new until entries age", () => {
  const table = new MacTable({ capacity: 4, ageMs: 1000 });
  for (let mac = 1; mac <= 10; mac++) table.learn(mac, 1, 0);
  assert.equal(table.size, 4);
  assert.equal(table.refused, 6);
  assert.equal(table.lookup(5, 0), -1);
  table.learn(99, 2, 2000); // the old entries have aged: swept to make room
  assert.equal(table.lookup(99, 2000), 2);
  assert.equal(table.size, 1);
  assert.throws(() => new MacTable({ capacity: 0 }), RangeError);
  assert.throws(() => new MacTable({ ageMs: -1 }), RangeError);
});

Deno.test("mac table: save and restore keep valid entries only", () => {
  const table = new MacTable({ capacity: 4 });
  table.learn(0x00163e000001, 2, 10);
  const copy = new MacTable({ capacity: 4 });
  copy.restore([
    ...table.save(),
    { mac: -1, port: 0, seen: 0 },
    { mac: 2 ** 48, port: 0, seen: 0 },
    { mac: 5, port: 1.5, seen: 0 },
  ]);
  assert.equal(copy.size, 1);
  assert.equal(copy.lookup(0x00163e000001, 20), 2);
});
