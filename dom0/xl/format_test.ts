import assert from "node:assert/strict";
import type { DomainSummary, HostInfo } from "@paravirt/hypervisor";
import {
  formatInfo,
  formatList,
  formatSchedCredit,
  LIST_HEADER,
  SCHED_CREDIT_HEADER,
  stateField,
} from "./format.ts";

const NONE = {
  running: false,
  blocked: false,
  paused: false,
  shutdown: false,
  crashed: false,
  dying: false,
};

function domain(id: number, name: string, extra: Partial<DomainSummary> = {}): DomainSummary {
  return {
    id,
    name,
    pages: 1024,
    maxPages: 1024,
    vcpus: 1,
    state: "running",
    flags: NONE,
    shutdownReason: null,
    cpuTimeNs: 0,
    weight: 256,
    cap: 0,
    built: true,
    ...extra,
  };
}

Deno.test("format: xl list is Xen's layout, column for column", () => {
  const text = formatList(
    [
      domain(3, "crashed", {
        flags: { ...NONE, shutdown: true, crashed: true },
        cpuTimeNs: 0.04e9,
      }),
      domain(1, "web", {
        pages: 16384,
        vcpus: 2,
        flags: { ...NONE, running: true },
        cpuTimeNs: 12.34e9,
      }),
      domain(2, "idle", { flags: { ...NONE, blocked: true }, cpuTimeNs: 123456.78e9 }),
    ],
    { pid: 1, socket: "/s", startedAt: 0, rssBytes: 80.5 * 2 ** 20, cpuTimeNs: 1.24e9 },
  );
  assert.equal(
    text,
    "Name                                        ID   Mem VCPUs\tState\tTime(s)\n" +
      "Domain-0                                     0    80     1     r-----       1.2\n" +
      "web                                          1    64     2     r-----      12.3\n" +
      "idle                                         2     4     1     -b----  123456.8\n" +
      "crashed                                      3     4     1     ---sc-       0.0\n",
  );
  // The printf widths: %-40s %5d %5lu %5d, five spaces, six flags, two spaces, %8.1f.
  const row = text.split("\n")[2];
  assert.equal(row.length, 40 + 1 + 5 + 1 + 5 + 1 + 5 + 5 + 6 + 2 + 8);
  assert.equal(formatList([], undefined), LIST_HEADER + "\n");
  // A long name pushes the columns right, as printf does.
  assert.match(formatList([domain(7, "n".repeat(50))], undefined), /n{50} {5}7/);
});

Deno.test("format: the six state flags", () => {
  assert.equal(stateField(NONE), "------");
  assert.equal(
    stateField({
      running: true,
      blocked: true,
      paused: true,
      shutdown: true,
      crashed: true,
      dying: true,
    }),
    "rbpscd",
  );
  assert.equal(stateField({ ...NONE, paused: true }), "--p---");
  assert.equal(stateField({ ...NONE, dying: true }), "-----d");
});

Deno.test("format: xl sched-credit, the pool listing and the -d form", () => {
  const entries = [
    { id: 2, name: "b", weight: 512, cap: 20 },
    { id: 1, name: "a", weight: 256, cap: 0 },
  ];
  assert.equal(
    formatSchedCredit(entries, { pool: true, timesliceMs: 30 }),
    "Cpupool Pool-0: tslice=30ms ratelimit=1000us migration-delay=0us\n" +
      "Name                                ID Weight  Cap\n" +
      "Domain-0                             0    256    0\n" +
      "a                                    1    256    0\n" +
      "b                                    2    512   20\n",
  );
  assert.equal(
    formatSchedCredit([entries[0]], { timesliceMs: 30 }),
    SCHED_CREDIT_HEADER + "\n" + "b                                    2    512   20\n",
  );
});

Deno.test("format: xl info is key : value with Xen's key width", () => {
  const info: HostInfo = {
    totalPages: 0xF0000,
    freePages: 0xF0000 - 1029,
    pageSize: 4096,
    scheduler: "credit",
    timesliceMs: 30,
    uptimeNs: 5e9,
    startedAtMs: 0,
    versionMajor: 4,
    versionMinor: 17,
    versionExtra: "-paravirt",
    domains: 1,
    instructions: 1,
    hypercalls: 1,
    guestCpuTimeNs: 0,
  };
  const lines = formatInfo(info, { host: "h", denoVersion: "2.9.6", arch: "x86_64" }).split("\n");
  assert.ok(lines.includes("total_memory           : 3840"));
  assert.ok(lines.includes("free_memory            : 3835"));
  assert.ok(lines.includes("xen_version            : 4.17-paravirt"));
  assert.ok(lines.includes("xen_scheduler          : credit"));
  assert.ok(lines.includes("xend_config_format     : 4"));
  for (const line of lines.filter((l) => l)) assert.match(line, /^[a-z_]{1,23} *: /);
  for (const line of lines.filter((l) => l)) assert.equal(line.indexOf(":"), 23);
});
