import assert from "node:assert/strict";
import { Xenstored } from "../xenstore/daemon.ts";
import { LocalClient } from "../xenstore/client.ts";
import { removeDeviceDir } from "./_xs_cleanup.ts";

Deno.test("device directories go with the parents they leave empty, up to the stop path", () => {
  const xs = new LocalClient(new Xenstored());
  try {
    xs.write("/local/domain/0/backend/vbd/3/51712/state", "4");
    xs.write("/local/domain/0/backend/vbd/3/51728/state", "4");
    xs.write("/local/domain/0/backend/vif/3/0/state", "4");
    removeDeviceDir(xs, "/local/domain/0/backend/vbd/3/51712");
    assert.deepEqual(xs.directory("/local/domain/0/backend/vbd/3"), ["51728"]);
    removeDeviceDir(xs, "/local/domain/0/backend/vbd/3/51728");
    assert.deepEqual(xs.directory("/local/domain/0/backend"), ["vif"]);
    removeDeviceDir(xs, "/local/domain/0/backend/vif/3/0");
    assert.deepEqual(xs.directory("/local/domain/0/backend"), []);
    removeDeviceDir(xs, "/local/domain/0/backend/vif/3/0"); // gone already: nothing happens
  } finally {
    xs.close();
  }
});
