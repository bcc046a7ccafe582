/**
 * The PV kernel's xenstore client and grant table against the real xenstored (over the guest's
 * ring page) and the real grant mapper: the `xstest` kernel job checks every request type,
 * transactions (commit, discard, conflict), watches, a value larger than the ring, and the grant
 * table's setup, grant and revoke — with dom0 on the other side writing the watched node, mapping
 * the granted page and seeing the revoke refused while mapped.
 *
 * @module
 */

import assert from "node:assert/strict";
import { GNTST_general_error } from "@paravirt/public";
import { GrantMapper, type GrantMapping } from "@paravirt/drivers";
import { SHUTDOWN_crash, SHUTDOWN_poweroff } from "@paravirt/public";
import { createGuest, newHost, runGuests, tryRead } from "./_harness.ts";

Deno.test("xstest: the kernel's xenstore client and grant table against xenstored and dom0", async () => {
  const host = newHost();
  const guest = await createGuest(host, "xs", "app=xstest peer=1");
  const data = `${guest.home}/data/xs-test`;
  const view = host.hv.foreignView(guest.domain);
  const mapper = new GrantMapper(view);
  let mapping: GrantMapping | undefined;
  const steps: string[] = [];
  host.hv.unpause(guest.domain);
  await runGuests(host, [guest], {
    step: () => {
      if (!steps.includes("poke") && tryRead(host.dom0, `${data}/ready`) === "1") {
        host.dom0.write(`${data}/poke`, "from dom0");
        steps.push("poke");
      }
      const gref = tryRead(host.dom0, `${data}/gref`);
      if (gref !== undefined && !steps.includes("map")) {
        const mapped = mapper.map(Number(gref), true);
        assert.ok(typeof mapped !== "number", `mapping gref ${gref} failed: ${mapped}`);
        mapping = mapped;
        mapped.bytes.set(new TextEncoder().encode("written by dom0\0"));
        host.dom0.write(`${data}/mapped`, "1");
        steps.push("map");
      }
      if (mapping && tryRead(host.dom0, `${data}/revoke-busy`) === "1") {
        mapper.unmap(mapping);
        mapping = undefined;
        host.dom0.write(`${data}/unmapped`, "1");
        steps.push("unmap");
      }
      if (
        gref !== undefined && tryRead(host.dom0, `${data}/revoked`) === "1" &&
        !steps.includes("after")
      ) {
        // Revoked: dom0 can no longer map it.
        assert.equal(mapper.map(Number(gref), false), GNTST_general_error);
        steps.push("after");
      }
    },
  });
  await host.close();
  const out = guest.output();
  assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, out);
  assert.doesNotMatch(out, /FAIL/);
  assert.match(out, /xstest: poke=from dom0\n/);
  assert.match(out, /xstest: revoke while mapped ok\n/);
  assert.match(out, /xstest: summary checks=\d+ failed=0 /);
  assert.deepEqual(steps, ["poke", "map", "unmap", "after"]);
  // What the guest wrote is in the store, with the guest as owner.
  assert.equal(host.dom0.read(`${data}/big`).length, 2000);
  assert.equal(host.dom0.read(`${data}/tx`), "inside");
  assert.equal(tryRead(host.dom0, `${data}/discarded`), undefined);
  assert.equal(host.xenstored.metrics.internalErrors, 0);
});

Deno.test("xstest: without xenstored the client times out instead of hanging", async () => {
  // The ring is never served: the first request fails with -ETIMEDOUT (after 1.5 s), every later
  // one at once with -EIO, and the job fails.
  const host = newHost();
  const { hv } = host;
  const domain = hv.createDomain(
    { name: "lonely", memoryMiB: 8, cmdline: "app=xstest xs_timeout_ms=1500" },
    await Deno.readFile(new URL("../../guests/bin/pvkernel.elf", import.meta.url)),
  );
  const decoder = new TextDecoder();
  let out = "";
  domain.console.listen((b) => out += decoder.decode(b, { stream: true }));
  hv.unpause(domain);
  await runGuests(host, [{ domain, home: "", output: () => out }], { timeoutMs: 120_000 });
  assert.equal(domain.shutdownReason, SHUTDOWN_crash, out);
  assert.match(out, /xstest: write FAIL rc=-110/);
  assert.match(out, /xenbus: xenstored does not read our ring; the xenstore connection is broken/);
  assert.match(out, /xstest: read FAIL rc=-5 /);
});
