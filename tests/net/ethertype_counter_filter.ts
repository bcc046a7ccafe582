/**
 * A third-party filter module, as a user would write one: it counts frames per ethertype and
 * drops one configured ethertype. The bridge worker loads it by path from a bridge's filter
 * configuration (`{ module: "./ethertype_counter_filter.ts", options: { drop: 0x88b6 } }`), and
 * it passes the filter conformance suite like the built-ins.
 *
 * @module
 */

import { FILTER_DROP, FILTER_PASS, type FilterPacket, type NetFilter } from "@paravirt/drivers";

/** The module contract: a filter from its options. */
export function createFilter(options: unknown): NetFilter {
  const drop = (options as { drop?: unknown } | undefined)?.drop ?? -1;
  if (!Number.isInteger(drop) || (drop as number) < -1 || (drop as number) > 0xffff) {
    throw new RangeError(`Ethertype to drop ${JSON.stringify(drop)} is not 0..65535`);
  }
  const counts = new Map<number, number>();
  return {
    name: "ethertype-counter",
    inspect(packet: FilterPacket) {
      const type = packet.info.ethertype;
      counts.set(type, (counts.get(type) ?? 0) + 1);
      return type === drop ? FILTER_DROP : FILTER_PASS;
    },
    metrics() {
      const out: Record<string, number> = {};
      for (const [type, count] of counts) out[`type.${type}`] = count;
      return out;
    },
  };
}
