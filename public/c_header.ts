/**
 * Generates the C header of the ABI for guest code: every numeric constant of this package as a
 * `#define` and every structure as a C struct with `_Static_assert`s on its size and offsets, so
 * the guest kernel and the hypervisor cannot drift apart.
 *
 * @module
 */

import type { FieldType, Struct } from "./struct.ts";
import * as blkif from "./blkif.ts";
import * as console from "./console.ts";
import * as domid from "./domid.ts";
import * as errno from "./errno.ts";
import * as eventChannel from "./event_channel.ts";
import * as grantTable from "./grant_table.ts";
import * as hypercall from "./hypercall.ts";
import * as memory from "./memory.ts";
import * as mmu from "./mmu.ts";
import * as multicall from "./multicall.ts";
import * as netif from "./netif.ts";
import * as sched from "./sched.ts";
import * as sharedInfo from "./shared_info.ts";
import * as startInfo from "./start_info.ts";
import * as vcpu from "./vcpu.ts";
import * as version from "./version.ts";
import * as xenbus from "./xenbus.ts";
import * as xsWire from "./xs_wire.ts";

const MODULES: Record<string, Record<string, unknown>> = {
  domid,
  errno,
  "event channels": eventChannel,
  "grant tables": grantTable,
  hypercalls: hypercall,
  memory,
  mmu,
  multicall,
  "network interfaces (io/netif.h)": netif,
  scheduler: sched,
  "shared info": sharedInfo,
  "start info": startInfo,
  vcpu,
  version,
  "xenstore wire protocol": xsWire,
  "xenbus states": xenbus,
  "block devices (io/blkif.h)": blkif,
  "console ring (io/console.h)": console,
};

const C_TYPES: Record<FieldType, string> = {
  u8: "uint8_t",
  i8: "int8_t",
  u16: "uint16_t",
  i16: "int16_t",
  u32: "uint32_t",
  i32: "int32_t",
  u64: "uint64_t",
  i64: "int64_t",
};

function isStruct(value: unknown): value is Struct {
  return typeof value === "object" && value !== null && "fields" in value && "size" in value;
}

function cName(name: string): string {
  return name.replace(/^HYPERVISOR_/, "__HYPERVISOR_");
}

/** Emits `value` as a C struct with its assertions, after any structure it nests (once each). */
function emitStruct(value: Struct, lines: string[], emitted: Set<Struct>): void {
  if (emitted.has(value)) return;
  emitted.add(value);
  for (const field of value.fields) {
    if (typeof field.type !== "string") emitStruct(field.type, lines, emitted);
  }
  lines.push(`/* ${value.doc} */`, `struct ${value.name} {`);
  for (const field of value.fields) {
    const array = field.count > 1 ? `[${field.count}]` : "";
    const note = field.note ? ` /* ${field.note.replaceAll("*/", "* /")} */` : "";
    const type = typeof field.type === "string" ? C_TYPES[field.type] : `struct ${field.type.name}`;
    lines.push(`  ${type} ${field.name}${array};${note}`);
  }
  lines.push("};");
  lines.push(
    `_Static_assert(sizeof(struct ${value.name}) == ${value.size}, "${value.name} size");`,
  );
  for (const field of value.fields) {
    lines.push(
      `_Static_assert(offsetof(struct ${value.name}, ${field.name}) == ${field.offset}, ` +
        `"${value.name}.${field.name}");`,
    );
  }
}

/** Returns the text of `paravirt_abi.h`. */
export function generateCHeader(): string {
  const lines = [
    "/* paravirt hypervisor ABI for RV32 guests. GENERATED from @paravirt/public by",
    " * `deno task guests`; do not edit. Numbers and layouts follow Xen's public headers with the",
    " * ARM/RISC-V rules (64-bit xen_ulong_t, 8-byte aligned 64-bit fields). */",
    "#ifndef PARAVIRT_ABI_H",
    "#define PARAVIRT_ABI_H",
    "#include <stdint.h>",
    "#include <stddef.h>",
    "",
  ];
  const emitted = new Set<Struct>();
  for (const [title, module] of Object.entries(MODULES)) {
    lines.push(`/* ---- ${title} ---- */`);
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === "number" && Number.isInteger(value)) {
        const literal = value < 0 ? `(${value})` : `0x${value.toString(16)}u`;
        lines.push(`#define ${cName(name)} ${literal}`);
      } else if (typeof value === "string" && /^[A-Z0-9_]+$/.test(name)) {
        lines.push(`#define ${name} ${JSON.stringify(value)}`);
      }
    }
    for (const value of Object.values(module)) {
      if (isStruct(value)) emitStruct(value, lines, emitted);
    }
    lines.push("");
  }
  lines.push("#endif /* PARAVIRT_ABI_H */", "");
  return lines.join("\n");
}
