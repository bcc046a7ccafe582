import assert from "node:assert/strict";
import { XenstoreError } from "./errors.ts";
import {
  accessFor,
  formatPerm,
  parsePerm,
  PERM_BOTH,
  PERM_NONE,
  PERM_OWNER,
  PERM_READ,
  PERM_WRITE,
} from "./permissions.ts";

Deno.test("permission strings round-trip and bad ones are EINVAL", () => {
  assert.deepEqual(parsePerm("r5"), { domid: 5, access: PERM_READ });
  assert.deepEqual(parsePerm("w0"), { domid: 0, access: PERM_WRITE });
  assert.deepEqual(parsePerm("b65535"), { domid: 65535, access: PERM_BOTH });
  assert.deepEqual(parsePerm("n12"), { domid: 12, access: PERM_NONE });
  for (const text of ["r5", "w0", "b7", "n3"]) assert.equal(formatPerm(parsePerm(text)), text);
  for (const bad of ["", "r", "x5", "r-1", "r65536", "r5x", "R5", "r 5", "r123456"]) {
    assert.throws(
      () => parsePerm(bad),
      (e) => e instanceof XenstoreError && e.code === "EINVAL",
      bad,
    );
  }
});

Deno.test("owner, listed domains, default, privilege and targets", () => {
  const perms = [
    { domid: 5, access: PERM_NONE }, // owner 5, default none
    { domid: 6, access: PERM_READ },
    { domid: 7, access: PERM_WRITE },
  ];
  const all = PERM_BOTH | PERM_OWNER;
  assert.equal(accessFor(perms, { domid: 5, privileged: false }), all);
  assert.equal(accessFor(perms, { domid: 6, privileged: false }), PERM_READ);
  assert.equal(accessFor(perms, { domid: 7, privileged: false }), PERM_WRITE);
  assert.equal(accessFor(perms, { domid: 8, privileged: false }), PERM_NONE);
  assert.equal(accessFor(perms, { domid: 0, privileged: true }), all);
  // Dom0 listed as "none" still bypasses: privilege is not a permission entry.
  assert.equal(accessFor([{ domid: 3, access: 0 }], { domid: 0, privileged: true }), all);
  // The first entry's access is the default for everyone not listed.
  assert.equal(accessFor([{ domid: 0, access: PERM_READ }], { domid: 9, privileged: false }), 1);
  // A device model acting for domain 5 gets 5's rights.
  assert.equal(accessFor(perms, { domid: 20, privileged: false, target: 5 }), all);
  assert.equal(accessFor(perms, { domid: 20, privileged: false, target: 6 }), PERM_READ);
  // Its own entry wins over its target's.
  const own = [...perms, { domid: 21, access: PERM_BOTH }];
  assert.equal(accessFor(own, { domid: 21, privileged: false, target: 6 }), PERM_BOTH);
});
