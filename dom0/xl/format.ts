/**
 * `xl`'s output, in Xen's formats (the printf formats of Xen 4.17's xl, reproduced with padding
 * helpers): `list`, `sched-credit` and `info`.
 *
 * Rules of use: pure functions from data to text (each line ends with a newline).
 *
 * @module
 */

import type { DomainFlags, DomainSummary, HostInfo, SchedCreditEntry } from "@paravirt/hypervisor";
import type { DaemonStatus } from "./protocol.ts";

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
