import assert from "node:assert/strict";
import { Hypervisor } from "@paravirt/hypervisor";
import {
  XenbusStateClosed,
  XenbusStateClosing,
  XenbusStateConnected,
  XenbusStateInitialised,
  XenbusStateInitWait,
} from "@paravirt/public";
import { Xenstored } from "../xenstore/daemon.ts";
import { LocalClient } from "../xenstore/client.ts";
import { localControl } from "../domain_control.ts";
import { DeviceSupervisor } from "./supervisor.ts";

async function setup() {
  const hv = new Hypervisor();
  const xenstored = new Xenstored();
  const logs: string[] = [];
  const supervisor = new DeviceSupervisor({
    control: localControl(hv),
    xenstored,
    log: (line) => logs.push(line),
  });
  const domain = hv.allocateDomain({ name: "guest", memoryMiB: 2 });
  const dom0 = new LocalClient(xenstored);
  dom0.mkdir(`/local/domain/${domain.id}`);
  dom0.setPerms(`/local/domain/${domain.id}`, [`n${domain.id}`]);
  const guest = new LocalClient(xenstored, { domid: domain.id });
  const image = await Deno.makeTempFile({ suffix: ".img" });
  await Deno.truncate(image, 1 << 20);
  const until = async (what: string, done: () => boolean) => {
    const deadline = performance.now() + 10_000;
    while (!done()) {
      assert.ok(performance.now() < deadline, `timed out waiting for ${what}\n${logs.join("\n")}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const cleanup = async () => {
    await supervisor.close();
    dom0.close();
    guest.close();
    await Deno.remove(image);
  };
  return { hv, xenstored, supervisor, domain, dom0, guest, image, until, logs, cleanup };
}

Deno.test("supervisor: attach writes Xen's nodes and reaches InitWait with the features", async () => {
  const s = await setup();
  try {
    const info = await s.supervisor.attachDisk(
      s.domain.id,
      `vdev=xvda, access=rw, target=${s.image}`,
    );
    const back = `/local/domain/0/backend/vbd/${s.domain.id}/51712`;
    const front = `/local/domain/${s.domain.id}/device/vbd/51712`;
    assert.equal(info.backendPath, back);
    assert.equal(info.state, XenbusStateInitWait);
    assert.equal(info.sectors, 2048);
    const read = (path: string) => s.dom0.read(path);
    assert.equal(read(`${back}/frontend`), front);
    assert.equal(read(`${back}/frontend-id`), String(s.domain.id));
    assert.equal(read(`${back}/mode`), "w");
    assert.equal(read(`${back}/params`), s.image);
    assert.equal(read(`${back}/state`), String(XenbusStateInitWait));
    assert.equal(read(`${back}/feature-flush-cache`), "1");
    assert.equal(read(`${back}/feature-barrier`), "1");
    assert.equal(read(`${back}/feature-discard`), "0", "raw files cannot discard");
    assert.equal(read(`${back}/feature-max-indirect-segments`), "256");
    assert.equal(read(`${back}/feature-persistent`), "1");
    assert.equal(read(`${front}/backend`), back);
    assert.equal(read(`${front}/virtual-device`), "51712");
    // The guest may read the backend's nodes and write its own, not the other way round.
    assert.equal(s.guest.read(`${back}/feature-barrier`), "1");
    s.guest.write(`${front}/ring-ref`, "8");
    assert.throws(() => s.guest.write(`${back}/state`, "4"), /EACCES/);
    assert.deepEqual(s.supervisor.listDisks(s.domain.id).map((d) => d.vdev), ["xvda"]);
  } finally {
    await s.cleanup();
  }
});

Deno.test("supervisor: a frontend with a bad ring-ref or protocol is refused with an error node", async () => {
  const s = await setup();
  try {
    await s.supervisor.attachDisk(s.domain.id, `vdev=xvdb, target=${s.image}`);
    const back = `/local/domain/0/backend/vbd/${s.domain.id}/51728`;
    const front = `/local/domain/${s.domain.id}/device/vbd/51728`;
    s.guest.write(`${front}/ring-ref`, "banana");
    s.guest.write(`${front}/event-channel`, "3");
    s.guest.write(`${front}/state`, String(XenbusStateInitialised));
    await s.until("Closing", () => s.dom0.read(`${back}/state`) === String(XenbusStateClosing));
    assert.match(s.dom0.read(`/local/domain/0/error${back}/error`), /ring-ref/);
    // The frontend closes, reconnects with a foreign protocol: refused again.
    s.guest.write(`${front}/state`, String(XenbusStateClosed));
    await s.until("Closed", () => s.dom0.read(`${back}/state`) === String(XenbusStateClosed));
    s.guest.write(`${front}/state`, "1");
    await s.until("InitWait", () => s.dom0.read(`${back}/state`) === String(XenbusStateInitWait));
    s.guest.write(`${front}/ring-ref`, "8");
    s.guest.write(`${front}/protocol`, "x86_64-abi");
    s.guest.write(`${front}/state`, String(XenbusStateInitialised));
    await s.until("Closing", () => s.dom0.read(`${back}/state`) === String(XenbusStateClosing));
    assert.match(s.dom0.read(`/local/domain/0/error${back}/error`), /protocol "x86_64-abi"/);
    // An unbound event channel cannot be bound.
    s.guest.write(`${front}/state`, String(XenbusStateClosed));
    await s.until("Closed", () => s.dom0.read(`${back}/state`) === String(XenbusStateClosed));
    s.guest.write(`${front}/state`, "1");
    await s.until("InitWait", () => s.dom0.read(`${back}/state`) === String(XenbusStateInitWait));
    s.guest.rm(`${front}/protocol`);
    s.guest.write(`${front}/event-channel`, "77");
    s.guest.write(`${front}/state`, String(XenbusStateInitialised));
    await s.until("Closing", () => s.dom0.read(`${back}/state`) === String(XenbusStateClosing));
    assert.match(s.dom0.read(`/local/domain/0/error${back}/error`), /event channel 77/);
    assert.equal(s.supervisor.listDisks()[0].restarts, 0);
  } finally {
    await s.cleanup();
  }
});

Deno.test("supervisor: a ring grant that does not map is refused; a good connect is Connected", async () => {
  const s = await setup();
  try {
    await s.supervisor.attachDisk(s.domain.id, `vdev=xvdc, target=${s.image}`);
    const back = `/local/domain/0/backend/vbd/${s.domain.id}/51744`;
    const front = `/local/domain/${s.domain.id}/device/vbd/51744`;
    const port = s.domain.events.allocUnbound(0);
    s.guest.write(`${front}/ring-ref`, "9"); // never granted
    s.guest.write(`${front}/event-channel`, String(port));
    s.guest.write(`${front}/state`, String(XenbusStateInitialised));
    await s.until("Closing", () => s.dom0.read(`${back}/state`) === String(XenbusStateClosing));
    assert.match(
      s.dom0.read(`/local/domain/0/error${back}/error`),
      /Ring grant 9 cannot be mapped/,
    );
    // Grant page 5 as ref 9 the v1 way, and go round again.
    const view = s.hv.foreignView(s.domain);
    const grants = new DataView(view.buffer, view.grantFrameIndex * 4096);
    grants.setUint32(9 * 8 + 4, view.firstFrame + 5, true);
    grants.setUint16(9 * 8, 1, true); // GTF_permit_access, domid 0
    s.guest.write(`${front}/state`, String(XenbusStateClosed));
    await s.until("Closed", () => s.dom0.read(`${back}/state`) === String(XenbusStateClosed));
    s.guest.write(`${front}/state`, "1");
    await s.until("InitWait", () => s.dom0.read(`${back}/state`) === String(XenbusStateInitWait));
    s.guest.write(`${front}/state`, String(XenbusStateInitialised));
    await s.until("Connected", () => s.dom0.read(`${back}/state`) === String(XenbusStateConnected));
    assert.equal(s.dom0.read(`${back}/sectors`), "2048");
    assert.equal(s.dom0.read(`${back}/sector-size`), "512");
    assert.equal(s.dom0.read(`${back}/info`), "0");
    const listed = s.supervisor.listDisks(s.domain.id)[0];
    assert.equal(listed.ringRef, 9);
    assert.equal(listed.eventChannel, port);
    assert.equal(listed.stateName, "Connected");
  } finally {
    await s.cleanup();
  }
});

Deno.test("supervisor: detach closes, waits for the frontend, and removes every node", async () => {
  const s = await setup();
  try {
    await s.supervisor.attachDisk(s.domain.id, `vdev=xvda, target=${s.image}, access=ro`);
    const back = `/local/domain/0/backend/vbd/${s.domain.id}/51712`;
    const front = `/local/domain/${s.domain.id}/device/vbd/51712`;
    assert.equal(s.dom0.read(`${back}/mode`), "r");
    // A frontend that is not connected is simply removed.
    await s.supervisor.detachDisk(s.domain.id, "xvda");
    assert.throws(() => s.dom0.read(back), /ENOENT/);
    assert.throws(() => s.dom0.read(front), /ENOENT/);
    assert.deepEqual(s.supervisor.listDisks(), []);
    // A connected-looking frontend must close first; forced detach does not wait.
    await s.supervisor.attachDisk(s.domain.id, `vdev=xvda, target=${s.image}`);
    s.guest.write(`${front}/state`, String(XenbusStateConnected));
    const detached = s.supervisor.detachDisk(s.domain.id, 51712, { timeoutMs: 5000 });
    await s.until("Closing", () => s.dom0.read(`${back}/state`) === String(XenbusStateClosing));
    assert.equal(s.dom0.read(`${back}/online`), "0");
    s.guest.write(`${front}/state`, String(XenbusStateClosed));
    await detached;
    assert.throws(() => s.dom0.read(back), /ENOENT/);
    await s.supervisor.attachDisk(s.domain.id, `vdev=xvda, target=${s.image}`);
    s.guest.write(`${front}/state`, String(XenbusStateConnected));
    await s.supervisor.detachDisk(s.domain.id, "xvda", { force: true });
    assert.deepEqual(s.supervisor.listDisks(), []);
  } finally {
    await s.cleanup();
  }
});

Deno.test("supervisor: bad attaches are clear errors and leave nothing behind", async () => {
  const s = await setup();
  try {
    await assert.rejects(s.supervisor.attachDisk(s.domain.id, "vdev=xvda"), /needs a target/);
    await assert.rejects(
      s.supervisor.attachDisk(99, `vdev=xvda, target=${s.image}`),
      /No domain 99/,
    );
    await assert.rejects(
      s.supervisor.attachDisk(s.domain.id, "vdev=xvda, target=/nonexistent.img"),
      /cannot open the disk.*nonexistent/,
    );
    await assert.rejects(
      s.supervisor.attachDisk(s.domain.id, "vdev=xvda, backend=memory"),
      /needs size=/,
    );
    await assert.rejects(
      s.supervisor.attachDisk(s.domain.id, "vdev=xvda, backend=nosuchbackend, target=/x"),
      /cannot open the disk/,
    );
    assert.deepEqual(s.supervisor.listDisks(), []);
    assert.throws(() => s.dom0.read(`/local/domain/0/backend/vbd/${s.domain.id}/51712`), /ENOENT/);
    await s.supervisor.attachDisk(s.domain.id, "vdev=xvda, backend=memory, size=1M");
    await assert.rejects(
      s.supervisor.attachDisk(s.domain.id, `xvda-dup,raw,xvda`.replace("xvda-dup", s.image)),
      /already has a disk xvda/,
    );
    await assert.rejects(s.supervisor.detachDisk(s.domain.id, "xvdz"), /has no disk xvdz/);
  } finally {
    await s.cleanup();
  }
});

Deno.test("supervisor: a frontend whose nodes vanish (its domain was destroyed) loses the device", async () => {
  const s = await setup();
  try {
    const info = await s.supervisor.attachDisk(s.domain.id, `vdev=xvda, target=${s.image}`);
    s.dom0.rm(`/local/domain/${s.domain.id}/device`);
    await s.until("the device to go", () => s.supervisor.listDisks().length === 0);
    assert.throws(() => s.dom0.read(info.backendPath), /ENOENT/);
    assert.ok(s.logs.some((l) => /frontend gone/.test(l)));
  } finally {
    await s.cleanup();
  }
});
