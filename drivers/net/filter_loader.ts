/**
 * Turns the filter entries of a bridge configuration (`{ module, options }`) into a
 * {@link FilterChain}: built-in filters by name ({@link PACKET_FILTER_MODULE},
 * {@link INTRUSION_DETECTOR_MODULE}), anything else as a module specifier (a path or URL,
 * resolved against the loader's base) whose module exports `createFilter` (see `filter.ts`).
 *
 * Rules of use: loading runs in the bridge worker, which may read no files. Its launcher
 * (`BridgeWorker.start`) therefore makes the filter modules part of the worker's static module
 * graph — loaded under the parent's permissions, as a worker's modules are — and hands them over
 * as {@link FilterModules}; a module not handed over is imported, which in a worker without read
 * permission fails with a clear error.
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

/** Filter modules loaded ahead, by resolved specifier (see {@link loadFilter}). */
export type FilterModules = Readonly<Record<string, { readonly createFilter?: unknown }>>;

/** Whether `module` names a built-in filter. */
export function isBuiltinFilter(module: string): boolean {
  return module === PACKET_FILTER_MODULE || module === INTRUSION_DETECTOR_MODULE;
}

/**
 * Resolves a filter module specifier: a path (`./x.ts`, `../x.ts`, `/x.ts`) or URL against
 * `base` (default: the working directory), a bare specifier through the import map.
 */
export function resolveFilterModule(module: string, base?: string | URL): string {
  if (/^(\.{0,2}\/|[a-z][a-z0-9+.-]*:)/i.test(module)) {
    return new URL(module, base ?? `file://${Deno.cwd()}/`).href;
  }
  return import.meta.resolve(module);
}

/**
 * Loads the filter a configuration entry names: a built-in, or a module exporting
 * `createFilter` — taken from `modules` (modules loaded ahead, keyed by resolved specifier) or
 * else imported (resolved against `base`). Throws a TypeError for a module without a
 * `createFilter`, and whatever the module throws for bad options.
 */
export async function loadFilter(
  spec: FilterSpec,
  base?: string | URL,
  modules?: FilterModules,
): Promise<NetFilter> {
  if (typeof spec?.module !== "string" || spec.module === "") {
    throw new TypeError(`Filter entry ${JSON.stringify(spec)} names no module`);
  }
  let factory: FilterFactory | undefined;
  if (spec.module === PACKET_FILTER_MODULE) {
    factory = createPacketFilter;
  } else if (spec.module === INTRUSION_DETECTOR_MODULE) {
    factory = createIntrusionDetector;
  } else {
    const specifier = resolveFilterModule(spec.module, base);
    const module = modules?.[specifier] ?? await import(specifier);
    factory = module.createFilter as FilterFactory | undefined;
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

/** Loads every filter of a configuration, in order (see {@link loadFilter}). */
export async function loadFilterChain(
  specs: readonly FilterSpec[],
  base?: string | URL,
  modules?: FilterModules,
): Promise<FilterChain> {
  if (!Array.isArray(specs)) throw new TypeError(`Filters ${JSON.stringify(specs)} is not a list`);
  const filters: NetFilter[] = [];
  for (const spec of specs) filters.push(await loadFilter(spec, base, modules));
  const names = new Set<string>();
  for (const filter of filters) {
    if (names.has(filter.name)) throw new RangeError(`Two filters are named "${filter.name}"`);
    names.add(filter.name);
  }
  return new FilterChain(filters);
}
