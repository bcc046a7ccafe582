/**
 * The guest's console frontend against the real console backend: the device supervisor's console
 * device maps the guest's console ring, binds its event channel and runs the console backend in
 * a worker with no permissions; the guest (`console=auto`) finds the backend in xenstore, moves
 * its output to the ring, and the `echo` application answers lines typed into the device — what
 * `xl console` does.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DeviceSupervisor } from "@paravirt/dom0";
import { SHUTDOWN_poweroff } from "@paravirt/public";
import { createGuest, newHost, runGuests } from "./_harness.ts";

Deno.test("e2e consfront: console=auto finds the console backend; typed lines come back over the ring", async () => {
  const host = newHost();
  const supervisor = new DeviceSupervisor({ control: host.control, xenstored: host.xenstored });
  try {
    const guest = await createGuest(host, "con", "console=auto app=echo lines=2");
    const device = await supervisor.attachConsole(guest.domain.id);
    const decoder = new TextDecoder();
    let ring = "";
    device.output.listen((bytes) => ring += decoder.decode(bytes, { stream: true }));
    let typed = false;
    host.hv.unpause(guest.domain);
    await runGuests(host, [guest], {
      step: async () => {
        if (!typed && ring.includes("echo: ready\n")) {
          typed = true;
          await device.input(new TextEncoder().encode("typed at the console\rsecond\n"));
        }
      },
    });
    // The worker may still be passing the last lines on.
    for (let i = 0; i < 200 && !ring.includes("powering off"); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, guest.output() + ring);
    assert.match(
      guest.output(),
      /pvkernel: console: switching to the console ring \(port \d+\)\n$/,
    );
    assert.match(ring, /^pvkernel: console: on the ring\n/);
    assert.match(ring, /echo: typed at the console\necho: second\n/);
    assert.match(ring, /pvkernel: all 1 app\(s\) done, powering off\n$/);
  } finally {
    await supervisor.close();
    await host.close();
  }
});
