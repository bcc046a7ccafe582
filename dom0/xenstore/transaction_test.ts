import assert from "node:assert/strict";
import { XenstoreError } from "./errors.ts";
import { Store } from "./store.ts";
import { Transaction } from "./transaction.ts";

const node = (owner: number, children: string[] = []) => ({
  value: new Uint8Array([1]),
  perms: [{ domid: owner, access: 0 }],
  children,
  generation: 0,
});

Deno.test("the store counts nodes by owner and checks its tree", () => {
  const store = new Store();
  assert.equal(store.owned(0), 1);
  store.put("/", node(0, ["a"]));
  store.put("/a", node(5));
  assert.equal(store.owned(5), 1);
  store.put("/a", node(6));
  assert.deepEqual([store.owned(5), store.owned(6)], [0, 1]);
  assert.deepEqual(store.check(), []);
  store.put("/b", node(6));
  assert.match(store.check().join(), /\/b is not listed by its parent/);
  store.delete("/b");
  store.put("/", node(0, ["a", "zz"]));
  assert.match(store.check().join(), /lists missing child zz/);
});

Deno.test("a transaction is private until commit, then applied at once", () => {
  const store = new Store();
  const tx = new Transaction(store, 1);
  tx.put("/", node(0, ["a"]));
  tx.put("/a", node(5));
  assert.equal(store.get("/a"), undefined);
  assert.equal(tx.owned(5), 1);
  assert.equal(store.owned(5), 0);
  assert.ok(tx.commit());
  assert.equal(store.owned(5), 1);
  assert.deepEqual(store.check(), []);
});

Deno.test("a commit fails if a node it read, wrote or found missing changed meanwhile", () => {
  const store = new Store();
  store.put("/", node(0, ["a"]));
  store.put("/a", node(0));
  const reader = new Transaction(store, 1);
  reader.get("/a");
  const absent = new Transaction(store, 2);
  assert.equal(absent.get("/b"), undefined);
  const elsewhere = new Transaction(store, 3);
  elsewhere.get("/");
  store.put("/a", node(0)); // someone writes /a
  assert.ok(!reader.commit());
  assert.ok(absent.commit(), "/b is still missing");
  assert.ok(elsewhere.commit(), "/ did not change");
  const blind = new Transaction(store, 4);
  blind.get("/b");
  store.put("/", node(0, ["a", "b"]));
  store.put("/b", node(0)); // /b appears
  assert.ok(!blind.commit());
});

Deno.test("a transaction touching too many nodes is ENOSPC", () => {
  const tx = new Transaction(new Store(), 1, 2);
  tx.get("/a");
  tx.get("/b");
  tx.get("/a"); // already touched: free
  assert.throws(() => tx.get("/c"), (e) => e instanceof XenstoreError && e.code === "ENOSPC");
});
