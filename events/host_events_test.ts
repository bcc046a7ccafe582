import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { type ChannelDirectory, ChannelTable } from "./channel_table.ts";
import { HostEvents } from "./host_events.ts";
import { PendingBits } from "./pending_bits.ts";

Deno.test("host events: a guest's send reaches the handler of dom0's port, once", () => {
  const tables: ChannelTable[] = [];
  const directory: ChannelDirectory = { table: (domid) => tables[domid] };
  const dom0 = new ChannelTable(0, directory);
  const guest = new ChannelTable(1, directory);
  tables.push(dom0, guest);
  guest.attach(new PendingBits(new Int32Array(new SharedArrayBuffer(4096)), 0));
  const host = new HostEvents(dom0);
  const seen: number[] = [];
  const port = dom0.allocUnbound(1);
  const far = dom0.allocUnbound(1);
  for (let i = 0; i < 40; i++) dom0.allocUnbound(1); // push a port into a later bitmap word
  const late = dom0.allocUnbound(1);
  host.handle(port, (p) => seen.push(p));
  host.handle(late, (p) => seen.push(p));
  const gp = guest.bindInterdomain(0, port);
  const gl = guest.bindInterdomain(0, late);
  assertEquals(host.dispatch(), 0, "nothing sent yet");
  guest.send(gp);
  guest.send(gl);
  guest.send(gp);
  assertEquals(host.due, true);
  assertEquals(host.dispatch(), 2);
  assertEquals(seen, [port, late]);
  assertEquals(host.dispatch(), 0);
  assertEquals(far > 0, true);
});

Deno.test("host events: a throwing handler is reported and the others still run", () => {
  const tables: ChannelTable[] = [];
  const directory: ChannelDirectory = { table: (domid) => tables[domid] };
  const dom0 = new ChannelTable(0, directory);
  tables.push(dom0);
  const host = new HostEvents(dom0);
  const errors: number[] = [];
  host.onHandlerError = (port) => errors.push(port);
  const a = dom0.bindIpi(0);
  const b = dom0.bindIpi(0);
  let ran = false;
  host.handle(a, () => {
    throw new Error("boom");
  });
  host.handle(b, () => ran = true);
  dom0.send(a);
  dom0.send(b);
  assertEquals(host.dispatch(), 2);
  assertEquals(errors, [a]);
  assertEquals(ran, true);
});
