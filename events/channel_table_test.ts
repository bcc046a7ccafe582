import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  EEXIST,
  EINVAL,
  ENOENT,
  ENOSPC,
  EPERM,
  ESRCH,
  EVTCHNSTAT_closed,
  EVTCHNSTAT_interdomain,
  EVTCHNSTAT_unbound,
  EVTCHNSTAT_virq,
  SHARED_INFO,
  VCPU_INFO,
  VIRQ_TIMER,
} from "@paravirt/public";
import { type ChannelDirectory, ChannelTable } from "./channel_table.ts";
import { PendingBits } from "./pending_bits.ts";

interface Dom {
  table: ChannelTable;
  page: Int32Array;
  upcalls: number[];
}

function world(count: number, maxPorts = 64): Dom[] {
  const doms: Dom[] = [];
  const directory: ChannelDirectory = { table: (domid) => doms[domid]?.table };
  for (let domid = 0; domid < count; domid++) {
    const page = new Int32Array(new SharedArrayBuffer(4096));
    const table = new ChannelTable(domid, directory, maxPorts);
    table.attach(new PendingBits(page, 0));
    const dom = { table, page, upcalls: [] as number[] };
    table.onUpcall = (vcpu) => dom.upcalls.push(vcpu);
    doms.push(dom);
  }
  return doms;
}

const bit = (page: Int32Array, byteOffset: number, port: number) =>
  (page[byteOffset / 4 + (port >>> 5)] >>> (port & 31)) & 1;
const pending = (d: Dom, port: number) => bit(d.page, SHARED_INFO.offset.evtchn_pending, port);
const upcallPending = (d: Dom) => d.page[VCPU_INFO.offset.evtchn_upcall_pending / 4] & 0xff;

Deno.test("interdomain: alloc_unbound, bind, send both ways, close back to unbound", () => {
  const [a, b] = world(2);
  const pa = a.table.allocUnbound(1);
  assertEquals(pa, 1);
  const pb = b.table.bindInterdomain(0, pa);
  assertEquals(pb, 1);
  // The bind leaves the binder's own port pending (Xen's rule), and delivers an upcall to it.
  assertEquals(pending(b, pb), 1);
  assertEquals(b.upcalls, [0]);
  assertEquals(a.table.send(pa), 0);
  assertEquals(b.upcalls.length, 1, "already pending: no second upcall");
  assertEquals(b.table.send(pb), 0);
  assertEquals(pending(a, pa), 1);
  assertEquals(a.upcalls, [0]);
  assertEquals(upcallPending(a), 1);
  const status = a.table.status(pa);
  assertEquals(typeof status === "object" && status.status, EVTCHNSTAT_interdomain);
  assertEquals(typeof status === "object" && status.remotePort, pb);
  assertEquals(b.table.close(pb), 0);
  const after = a.table.status(pa);
  assertEquals(typeof after === "object" && after.status, EVTCHNSTAT_unbound);
  assertEquals(typeof after === "object" && after.remoteDomain, 1);
  assertEquals(pending(b, pb), 0, "closing clears the pending bit");
});

Deno.test("binding needs permission, an unbound port and an existing domain", () => {
  const [a, b, c] = world(3);
  const pa = a.table.allocUnbound(1);
  assertEquals(c.table.bindInterdomain(0, pa), -EPERM, "port allows domain 1, not 2");
  assertEquals(b.table.bindInterdomain(0, 999), -EINVAL);
  assertEquals(b.table.bindInterdomain(0, 5), -EINVAL, "port 5 is closed");
  assertEquals(b.table.bindInterdomain(7, 1), -ESRCH);
  assertEquals(b.table.bindInterdomain(0, pa) > 0, true);
  assertEquals(c.table.bindInterdomain(0, pa), -EINVAL, "already bound");
});

Deno.test("masking holds delivery; unmask delivers what is pending", () => {
  const [a, b] = world(2);
  const pa = a.table.allocUnbound(1);
  const pb = b.table.bindInterdomain(0, pa);
  b.table.close(pb);
  const pb2 = b.table.bindInterdomain(0, pa);
  b.upcalls.length = 0;
  b.page.fill(0);
  b.table.bits!.mask(pb2);
  a.table.send(pa);
  assertEquals(pending(b, pb2), 1);
  assertEquals(b.upcalls, [], "masked: no upcall");
  assertEquals(b.table.unmask(pb2), 0);
  assertEquals(b.upcalls, [0]);
  assertEquals(upcallPending(b), 1);
});

Deno.test("virqs: one port per virq, EEXIST on rebinding, vCPU 0 only", () => {
  const [a] = world(1);
  const port = a.table.bindVirq(VIRQ_TIMER, 0);
  assertEquals(port > 0, true);
  assertEquals(a.table.bindVirq(VIRQ_TIMER, 0), -EEXIST);
  assertEquals(a.table.bindVirq(99, 0), -EINVAL);
  assertEquals(a.table.bindVirq(1, 3), -ENOENT);
  assertEquals(a.table.raiseVirq(VIRQ_TIMER), true);
  assertEquals(a.upcalls, [0]);
  const status = a.table.status(port);
  assertEquals(typeof status === "object" && status.status, EVTCHNSTAT_virq);
  assertEquals(a.table.close(port), 0);
  assertEquals(a.table.raiseVirq(VIRQ_TIMER), false);
  assertEquals(a.table.bindVirq(VIRQ_TIMER, 0) > 0, true, "free again after close");
});

Deno.test("hostile arguments get errors, never exceptions", () => {
  const [a] = world(1, 8);
  for (const port of [-1, 0, 8, 1e9, NaN, 1.5, Infinity]) {
    assertEquals(a.table.send(port), -EINVAL);
    assertEquals(a.table.close(port), -EINVAL);
    assertEquals(a.table.unmask(port), -EINVAL);
    assertEquals(a.table.isPending(port), false);
  }
  assertEquals(a.table.allocUnbound(-5), -EINVAL);
  assertEquals(a.table.allocUnbound(0x10000), -EINVAL);
  assertEquals(a.table.status(0), {
    status: EVTCHNSTAT_closed,
    vcpu: 0,
    remoteDomain: 0,
    remotePort: 0,
    virq: 0,
  });
  for (let i = 1; i < 8; i++) assertEquals(a.table.allocUnbound(0), i);
  assertEquals(a.table.allocUnbound(0), -ENOSPC, "the port limit holds");
  assertEquals(a.table.openPorts, 7);
  a.table.closeAll();
  assertEquals(a.table.openPorts, 0);
});

Deno.test("IPIs and unbound sends", () => {
  const [a] = world(1);
  const ipi = a.table.bindIpi(0);
  assertEquals(a.table.send(ipi), 0);
  assertEquals(a.upcalls, [0]);
  const unbound = a.table.allocUnbound(0);
  assertEquals(a.table.send(unbound), 0, "dropped silently");
  assertEquals(pending(a, unbound), 0);
});
