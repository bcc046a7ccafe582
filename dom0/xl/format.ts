/**
 * `xl`'s output, in Xen's formats (the printf formats of Xen 4.17's xl, reproduced with padding
 * helpers): `list`, `sched-credit`, `info`, `block-list` and `network-list`.
 *
 * Rules of use: pure functions from data to text (each line ends with a newline).
 *
 * @module
 */

import type { DomainFlags, DomainSummary, HostInfo, SchedCreditEntry } from "@paravirt/hypervisor";
import type { BlockListRow, BridgeListEntry, DaemonStatus, NetworkListRow } from "./protocol.ts";

/** The first line of `xl list` (Xen's, tabs included). */
export const LIST_HEADER =
  "Name                                        ID   Mem VCPUs\tState\tTime(s)";

const left = (text: string, width: number): string => text.padEnd(width);
const right = (text: string | number, width: number): string => String(text).padStart(width);

/** Xen's six-character state field: `r`, `b`, `p`, `s`, `c`, `d` or `-` in each place. */
export function stateField(flags: DomainFlags): string {
  return (flags.running ? "r" : "-") + (flags.blocked ? "b" : "-") +
    (flags.paused ? "p" : "-") + (flags.shutdown ? "s" : "-") + (flags.crashed ? "c" : "-") +
    (flags.dying ? "d" : "-");
}

/** One row: `%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f`. */
function listRow(
  name: string,
  id: number,
  memMiB: number,
  vcpus: number,
  state: string,
  seconds: number,
): string {
  return `${left(name, 40)} ${right(id, 5)} ${right(memMiB, 5)} ${right(vcpus, 5)}     ${state}  ${
    right(seconds.toFixed(1), 8)
  }`;
}

/** The Domain-0 row's values: the daemon process is the control domain. */
function dom0Row(dom0: DaemonStatus): string {
  return listRow(
    "Domain-0",
    0,
    Math.floor(dom0.rssBytes / (1 << 20)),
    1,
    "r-----",
    dom0.cpuTimeNs / 1e9,
  );
}

/** `xl list`: the header, Domain-0, then the guests by id. */
export function formatList(domains: DomainSummary[], dom0: DaemonStatus | undefined): string {
  const lines = [LIST_HEADER];
  if (dom0) lines.push(dom0Row(dom0));
  for (const d of [...domains].sort((a, b) => a.id - b.id)) {
    lines.push(
      listRow(
        d.name,
        d.id,
        Math.floor(d.pages / 256),
        d.vcpus,
        stateField(d.flags),
        d.cpuTimeNs / 1e9,
      ),
    );
  }
  return lines.join("\n") + "\n";
}

/** The first line of `xl sched-credit` for the pool: timeslice and Xen's default rate limits. */
export function schedCreditPoolLine(timesliceMs: number): string {
  return `Cpupool Pool-0: tslice=${timesliceMs}ms ratelimit=1000us migration-delay=0us`;
}

/** The header of `xl sched-credit`: `%-33s %4s %6s %4s`. */
export const SCHED_CREDIT_HEADER = `${left("Name", 33)} ${right("ID", 4)} ${right("Weight", 6)} ${
  right("Cap", 4)
}`;

/**
 * `xl sched-credit`: with `pool`, the pool line, the header, Domain-0 and every domain (the
 * listing form); without, the header and the given rows (the `-d <dom>` form).
 */
export function formatSchedCredit(
  entries: SchedCreditEntry[],
  options: { pool?: boolean; timesliceMs: number },
): string {
  const lines: string[] = [];
  const row = (name: string, id: number, weight: number, cap: number) =>
    `${left(name, 33)} ${right(id, 4)} ${right(weight, 6)} ${right(cap, 4)}`;
  if (options.pool) lines.push(schedCreditPoolLine(options.timesliceMs));
  lines.push(SCHED_CREDIT_HEADER);
  // Domain-0 is not scheduled by the pCPU (it is the daemon's own thread); Xen shows its
  // defaults.
  if (options.pool) lines.push(row("Domain-0", 0, 256, 0));
  for (const e of [...entries].sort((a, b) => a.id - b.id)) {
    lines.push(row(e.name, e.id, e.weight, e.cap));
  }
  return lines.join("\n") + "\n";
}

/** Facts about the host process for `xl info` (the CLI fills them). */
export interface HostFacts {
  /** Host name. */
  host: string;
  /** The Deno version running the toolstack. */
  denoVersion: string;
  /** The host CPU architecture. */
  arch: string;
}

/** `xl info`: Xen's keys that mean something here, `%-23s: %s` each. */
export function formatInfo(info: HostInfo, facts: HostFacts): string {
  const mib = (pages: number) => String(Math.floor(pages * info.pageSize / (1 << 20)));
  const version = `${info.versionMajor}.${info.versionMinor}${info.versionExtra}`;
  const rows: [string, string][] = [
    ["host", facts.host],
    // Xen shows domain 0's uname here; our domain 0 is a Deno process.
    ["release", facts.denoVersion],
    ["version", `Deno ${facts.denoVersion}`],
    ["machine", facts.arch],
    ["nr_cpus", "1"],
    ["max_cpu_id", "0"],
    ["nr_nodes", "1"],
    ["cores_per_socket", "1"],
    ["threads_per_core", "1"],
    ["virt_caps", "pv"],
    ["total_memory", mib(info.totalPages)],
    ["free_memory", mib(info.freePages)],
    ["sharing_freed_memory", "0"],
    ["sharing_used_memory", "0"],
    ["outstanding_claims", "0"],
    ["free_cpus", "0"],
    ["xen_major", String(info.versionMajor)],
    ["xen_minor", String(info.versionMinor)],
    ["xen_extra", info.versionExtra],
    ["xen_version", version],
    ["xen_caps", "xen-3.0-riscv32"],
    ["xen_scheduler", info.scheduler],
    ["xen_pagesize", String(info.pageSize)],
    ["xen_changeset", ""],
    ["xen_commandline", ""],
    ["cc_compiler", `TypeScript on Deno ${facts.denoVersion} (${facts.arch})`],
    ["cc_compile_by", ""],
    ["cc_compile_domain", ""],
    ["cc_compile_date", ""],
    ["build_id", ""],
    ["xend_config_format", "4"],
  ];
  return rows.map(([key, value]) => `${left(key, 23)}: ${value}`).join("\n") + "\n";
}

/** The header of `xl block-list`: `%-5s %-3s %-6s %-5s %-6s %-8s %-30s`. */
export const BLOCK_LIST_HEADER = `${left("Vdev", 5)} ${left("BE", 3)} ${left("handle", 6)} ${
  left("state", 5)
} ${left("evt-ch", 6)} ${left("ring-ref", 8)} ${left("BE-path", 30)}`;

/**
 * `xl block-list`: the header, then one row per disk, `%-5d %-3d %-6d %-5d %-6d %-8d %-30s`
 * (device id, backend domain, frontend domain, frontend state, event channel, ring reference,
 * backend path; -1 for what the frontend has not written).
 */
export function formatBlockList(rows: readonly BlockListRow[]): string {
  const lines = [BLOCK_LIST_HEADER];
  for (const r of rows) {
    lines.push(
      `${left(String(r.devid), 5)} ${left(String(r.backendId), 3)} ${
        left(String(r.frontendId), 6)
      } ${left(String(r.state), 5)} ${left(String(r.eventChannel), 6)} ${
        left(String(r.ringRef), 8)
      } ${left(r.backendPath, 30)}`,
    );
  }
  return lines.join("\n") + "\n";
}

/** The header of `xl network-list`: `%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-5s %-30s`. */
export const NETWORK_LIST_HEADER = `${left("Idx", 3)} ${left("BE", 2)} ${left("Mac Addr.", 17)} ${
  left("handle", 6)
} ${left("state", 5)} ${left("evt-ch", 6)} ${right("tx-", 5)}/${left("rx-ring-ref", 5)} ${
  left("BE-path", 30)
}`;

/**
 * `xl network-list`: the header, then one row per vif, `%-3d %-2d <mac>%6d %5d %6d %5d/%-11d
 * %-30s` (device id, backend domain, MAC, handle, frontend state, event channel, tx and rx ring
 * references, backend path; -1 for what the frontend has not written).
 */
export function formatNetworkList(rows: readonly NetworkListRow[]): string {
  const lines = [NETWORK_LIST_HEADER];
  for (const r of rows) {
    lines.push(
      `${left(String(r.devid), 3)} ${left(String(r.backendId), 2)} ${r.mac}${right(r.devid, 6)} ${
        right(r.state, 5)
      } ${right(r.eventChannel, 6)} ${right(r.txRingRef, 5)}/${left(String(r.rxRingRef), 11)} ${
        left(r.backendPath, 30)
      }`,
    );
  }
  return lines.join("\n") + "\n";
}

/** The header of `xl bridge-list` (ours). */
export const BRIDGE_LIST_HEADER =
  "Name                 Ports Forwarded   Flooded  Filtered  Alerts Restarts Filters";

/**
 * `xl bridge-list` (ours): one row per bridge — ports, frames forwarded and flooded, frames the
 * filter chain dropped, alerts, worker restarts, the chain; `long` adds each port's counters and
 * each filter's.
 */
export function formatBridgeList(bridges: readonly BridgeListEntry[], long = false): string {
  const lines = [BRIDGE_LIST_HEADER];
  for (const b of bridges) {
    const m = b.metrics;
    const n = (value: number | undefined, width: number) => right(value ?? "-", width);
    lines.push(
      `${left(b.name, 20)} ${n(m?.ports.length, 5)} ${n(m?.forwarded, 9)} ${n(m?.flooded, 9)} ${
        n(m?.filters.dropped, 9)
      } ${n(b.alerts, 7)} ${n(b.restarts, 8)} ${b.filters.join(",") || "-"}${
        b.error ? ` (down: ${b.error})` : ""
      }`,
    );
    if (!long || !m) continue;
    for (const p of m.ports) {
      lines.push(
        `  port ${p.name}: in ${p.framesIn} frames ${p.bytesIn} bytes, out ${p.framesOut} ` +
          `frames ${p.bytesOut} bytes, filtered ${p.filtered}, dropped ${p.dropsOut}` +
          (p.broken ? `, broken: ${p.broken}` : ""),
      );
    }
    for (const [name, counters] of Object.entries(m.filters.filters)) {
      lines.push(
        `  filter ${name}: ${Object.entries(counters).map(([k, v]) => `${k}=${v}`).join(" ")}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}
