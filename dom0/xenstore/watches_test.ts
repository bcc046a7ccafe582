import assert from "node:assert/strict";
import { type Watch, WatchTable } from "./watches.ts";

function watch(owner: string, path: string, token = "t"): Watch<string> {
  return { owner, path, token, given: path, relative: false };
}

Deno.test("a change fires watches at and above it, a removal also those below", () => {
  const table = new WatchTable<string>();
  for (const path of ["/", "/a", "/a/b", "/a/b/c", "/ab", "/x"]) table.add(watch("o", path));
  const fired = (path: string, removed: boolean) =>
    table.matches(path, removed).map(([w, p]) => `${w.path}:${p}`).sort();
  assert.deepEqual(fired("/a/b", false), ["/:/a/b", "/a/b:/a/b", "/a:/a/b"]);
  assert.deepEqual(fired("/a/b", true), [
    "/:/a/b",
    "/a/b/c:/a/b/c",
    "/a/b:/a/b",
    "/a:/a/b",
  ]);
  assert.deepEqual(fired("@releaseDomain", false), []);
});

Deno.test("watches are per owner and token; duplicates and unknowns are refused", () => {
  const table = new WatchTable<string>();
  assert.ok(table.add(watch("o", "/a", "1")));
  assert.ok(!table.add(watch("o", "/a", "1")));
  assert.ok(table.add(watch("o", "/a", "2")));
  assert.ok(table.add(watch("p", "/a", "1")));
  assert.ok(table.add(watch("o", "@releaseDomain", "1")));
  assert.equal(table.count("o"), 3);
  assert.equal(table.matches("@releaseDomain", false).length, 1);
  assert.ok(!table.remove("o", "/a", "3"));
  assert.ok(table.remove("o", "/a", "2"));
  table.removeAll("o");
  assert.equal(table.count("o"), 0);
  assert.deepEqual(table.matches("/a", false).map(([w]) => w.owner), ["p"]);
});
