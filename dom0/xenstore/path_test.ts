import assert from "node:assert/strict";
import { XENSTORE_ABS_PATH_MAX, XENSTORE_REL_PATH_MAX } from "@paravirt/public";
import { XenstoreError } from "./errors.ts";
import {
  baseName,
  childPath,
  domainPath,
  isAbsolutePath,
  isChildPath,
  parentPath,
  relativeTo,
  resolvePath,
} from "./path.ts";

function einval(fn: () => unknown) {
  assert.throws(fn, (e) => e instanceof XenstoreError && e.code === "EINVAL");
}

Deno.test("absolute paths follow Xen's character and slash rules", () => {
  for (const good of ["/", "/a", "/local/domain/0", "/A-Z_a-z0-9@", "/x/@special-ish"]) {
    assert.ok(isAbsolutePath(good), good);
  }
  for (const bad of ["", "a", "//", "/a/", "/a//b", "/a b", "/a.b", "/ä", "/a\0b", "/a:b"]) {
    assert.ok(!isAbsolutePath(bad), JSON.stringify(bad));
  }
  assert.ok(isAbsolutePath("/" + "x".repeat(XENSTORE_ABS_PATH_MAX - 1)));
  assert.ok(!isAbsolutePath("/" + "x".repeat(XENSTORE_ABS_PATH_MAX)));
});

Deno.test("relative paths resolve against the caller's home", () => {
  assert.deepEqual(resolvePath("device/vbd/51712", 5), {
    path: "/local/domain/5/device/vbd/51712",
    relative: true,
  });
  assert.deepEqual(resolvePath("/vm", 5), { path: "/vm", relative: false });
  assert.equal(resolvePath("name", 0).path, "/local/domain/0/name");
  einval(() => resolvePath("", 5));
  einval(() => resolvePath("a/", 5));
  einval(() => resolvePath("a//b", 5));
  einval(() => resolvePath("x".repeat(XENSTORE_REL_PATH_MAX + 1), 5));
  assert.equal(resolvePath("x".repeat(XENSTORE_REL_PATH_MAX), 5).relative, true);
});

Deno.test("special paths are accepted only where allowed", () => {
  einval(() => resolvePath("@releaseDomain", 0));
  assert.deepEqual(resolvePath("@releaseDomain", 0, { allowSpecial: true }), {
    path: "@releaseDomain",
    relative: false,
  });
  einval(() => resolvePath("@", 0, { allowSpecial: true }));
  einval(() => resolvePath("@a/b", 0, { allowSpecial: true }));
});

Deno.test("child, parent and relative helpers", () => {
  assert.ok(isChildPath("/a/b", "/a"));
  assert.ok(isChildPath("/a", "/a"));
  assert.ok(isChildPath("/a", "/"));
  assert.ok(isChildPath("/", "/"));
  assert.ok(!isChildPath("/ab", "/a"));
  assert.ok(!isChildPath("/a", "/a/b"));
  assert.ok(isChildPath("@releaseDomain", "@releaseDomain"));
  assert.ok(!isChildPath("@releaseDomain", "/"));
  assert.equal(parentPath("/a/b/c"), "/a/b");
  assert.equal(parentPath("/a"), "/");
  assert.equal(baseName("/a/b/c"), "c");
  assert.equal(childPath("/", "a"), "/a");
  assert.equal(childPath("/a", "b"), "/a/b");
  assert.equal(domainPath(7), "/local/domain/7");
  assert.equal(relativeTo("/local/domain/7/device/vif", 7), "device/vif");
  assert.equal(relativeTo("/local/domain/7", 7), "/local/domain/7");
  assert.equal(relativeTo("/local/domain/77/x", 7), "/local/domain/77/x");
});
