/**
 * Turns the filter entries of a bridge configuration (`{ module, options }`) into a
 * {@link FilterChain}: built-in filters by name ({@link PACKET_FILTER_MODULE},
 * {@link INTRUSION_DETECTOR_MODULE}), anything else as a module specifier (a path or URL,
 * resolved against the loader's base) whose module exports `createFilter` (see `filter.ts`).
 *
 * Rules of use: loading runs in the bridge worker, whose module loading is checked against its
 * parent's permissions — a filter module can only be read from where the host may read.
 * Configuration mistakes throw (TypeError/RangeError quoting the entry); nothing half-loaded is
 * returned.
 *
 * @module
 */

import { FilterChain, type FilterFactory, type NetFilter } from "./filter.ts";
import { createPacketFilter } from "./packet_filter.ts";
import { createIntrusionDetector } from "./intrusion_detector.ts";

/** Module name of the built-in packet filter. */
export const PACKET_FILTER_MODULE = "packet-filter";
/** Module name of the built-in intrusion detector. */
export const INTRUSION_DETECTOR_MODULE = "intrusion-detector";

/** A filter in a configuration: which module, with which options. */
export interface FilterSpec {
  /** A built-in name ({@link PACKET_FILTER_MODULE}, ...) or a module specifier. */
  readonly module: string;
  /** Options handed to the module's `createFilter`. */
  readonly options?: unknown;
}

/**
 * Loads the filter a configuration entry names: a built-in, or a module (resolved against
 * `base`) exporting `createFilter`. Throws a TypeError for a module without one, and whatever
 * the module throws for bad options.
 */
export async function loadFilter(spec: FilterSpec, base?: string | URL): Promise<NetFilter> {
  if (typeof spec?.module !== "string" || spec.module === "") {
    throw new TypeError(`Filter entry ${JSON.stringify(spec)} names no module`);
  }
  let factory: FilterFactory | undefined;
  if (spec.module === PACKET_FILTER_MODULE) {
    factory = createPacketFilter;
  } else if (spec.module === INTRUSION_DETECTOR_MODULE) {
    factory = createIntrusionDetector;
  } else {
    const specifier = base ? new URL(spec.module, base).href : spec.module;
    const module = await import(specifier);
    factory = module.createFilter;
  }
  if (typeof factory !== "function") {
    throw new TypeError(`Filter module ${JSON.stringify(spec.module)} exports no createFilter`);
  }
  const filter = await factory(spec.options);
  if (typeof filter?.inspect !== "function" || typeof filter.name !== "string") {
    throw new TypeError(`Filter module ${JSON.stringify(spec.module)} made no filter`);
  }
  return filter;
}

/** Loads every filter of a configuration, in order. */
export async function loadFilterChain(
  specs: readonly FilterSpec[],
  base?: string | URL,
): Promise<FilterChain> {
  if (!Array.isArray(specs)) throw new TypeError(`Filters ${JSON.stringify(specs)} is not a list`);
  const filters: NetFilter[] = [];
  for (const spec of specs) filters.push(await loadFilter(spec, base));
  const names = new Set<string>();
  for (const filter of filters) {
    if (names.has(filter.name)) throw new RangeError(`Two filters are named "${filter.name}"`);
    names.add(filter.name);
  }
  return new FilterChain(filters);
}
