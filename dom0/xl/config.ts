/**
 * The meaning of an xl.cfg file: the keys this toolstack understands, their types, ranges and
 * defaults (Xen's `xl.cfg(5)` where it has one), and loading a config with its kernel image.
 *
 * Rules of use: {@link parseConfig} is pure (text in, config out); {@link loadConfig} reads the
 * file and the images it names. Both throw only {@link ConfigError}, naming the file, the line and
 * the key. Unknown keys are errors (a typo must not silently boot a different guest); a key set
 * twice with `=` is an error too.
 *
 * Keys: `name`, `type` (`"pv"` only), `memory` and `maxmem` (MiB), `vcpus`, `kernel` and
 * `ramdisk` (paths relative to the config file), `cmdline` (or Xen's older `root` + `extra`,
 * which `cmdline` overrides), `cpu_weight`, `cap`, `on_poweroff`, `on_reboot`, `on_crash`
 * (`destroy` | `restart` | `preserve`), and `disk` and `vif` (lists of strings, kept for the
 * split-driver work, not acted on yet).
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import {
  ConfigError,
  type ConfigStatement,
  type ConfigValue,
  parseStatements,
} from "./config_syntax.ts";

export { ConfigError } from "./config_syntax.ts";

/** What to do when a domain shuts down for a given reason. */
export type DomainAction = "destroy" | "restart" | "preserve";

/** The actions Xen knows but this toolstack does not do (yet). */
const UNSUPPORTED_ACTIONS = [
  "rename-restart",
  "coredump-destroy",
  "coredump-restart",
  "soft-reset",
];

/** A parsed xl config. */
export interface XlConfig {
  /** The config file it came from (absolute). */
  readonly file: string;
  /** Domain name. */
  readonly name: string;
  /** Memory at boot (MiB). Xen's default: 32. */
  readonly memoryMiB: number;
  /** Memory the domain may grow to (MiB); defaults to `memoryMiB`. */
  readonly maxMemoryMiB: number;
  /** vCPUs (default 1). */
  readonly vcpus: number;
  /** Kernel image path (absolute). */
  readonly kernel: string;
  /** Boot module (initrd) path (absolute), if any. */
  readonly ramdisk: string | undefined;
  /** Kernel command line. */
  readonly cmdline: string;
  /** Credit scheduler weight (default 256). */
  readonly weight: number;
  /** Credit scheduler cap, percent of one CPU (default 0 = none). */
  readonly cap: number;
  /** After a poweroff (default `destroy`). */
  readonly onPoweroff: DomainAction;
  /** After a reboot request (default `restart`). */
  readonly onReboot: DomainAction;
  /** After a crash (default `destroy`). */
  readonly onCrash: DomainAction;
  /** Disk specifications, as written. */
  readonly disk: readonly string[];
  /** Network interface specifications, as written. */
  readonly vif: readonly string[];
}

/** A config and the notes about it that are not errors. */
export interface ParsedConfig {
  /** The config. */
  readonly config: XlConfig;
  /** Things worth telling the user (ignored keys), as `file:line: key: note`. */
  readonly warnings: string[];
}

/** A config with the images it names, read from disk. */
export interface LoadedConfig extends ParsedConfig {
  /** The kernel image. */
  readonly kernel: Uint8Array;
  /** The boot module, if any. */
  readonly ramdisk: Uint8Array | undefined;
}

/** Largest config file read (bytes). */
export const MAX_CONFIG_BYTES = 1 << 20;

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const KNOWN_KEYS = [
  "name",
  "type",
  "memory",
  "maxmem",
  "vcpus",
  "kernel",
  "ramdisk",
  "cmdline",
  "root",
  "extra",
  "cpu_weight",
  "cap",
  "on_poweroff",
  "on_reboot",
  "on_crash",
  "disk",
  "vif",
];

/**
 * Parses config text. `file` names it in errors and anchors relative paths. Throws
 * {@link ConfigError}.
 */
export function parseConfig(text: string, file: string): ParsedConfig {
  const path = resolve(file);
  const statements = parseStatements(text, file);
  const entries = new Map<string, ConfigStatement>();
  for (const statement of statements) {
    const { key, op, line } = statement;
    if (!KNOWN_KEYS.includes(key)) {
      throw new ConfigError(file, line, key, `unknown key (known: ${KNOWN_KEYS.join(", ")})`);
    }
    const earlier = entries.get(key);
    if (op === "=" || earlier === undefined) {
      if (earlier && op === "=") {
        throw new ConfigError(file, line, key, `set twice (first on line ${earlier.line})`);
      }
      entries.set(key, statement);
      continue;
    }
    entries.set(key, { ...statement, value: append(file, earlier.value, statement) });
  }

  const get = (key: string) => entries.get(key);
  const fail = (s: ConfigStatement, problem: string): never => {
    throw new ConfigError(file, s.value.line, s.key, problem);
  };
  const string = (key: string): string | undefined => {
    const s = get(key);
    if (!s) return undefined;
    if (s.value.kind !== "string") fail(s, `expected a quoted string, found ${kindOf(s.value)}`);
    return (s.value as { value: string }).value;
  };
  const integer = (key: string, min: number, max: number): number | undefined => {
    const s = get(key);
    if (!s) return undefined;
    let n: number;
    if (s.value.kind === "number") n = s.value.value;
    else if (s.value.kind === "string" && /^(0|[1-9][0-9]{0,15})$/.test(s.value.value)) {
      n = Number(s.value.value);
    } else return fail(s, `expected an integer, found ${kindOf(s.value)}`);
    if (n < min || n > max) fail(s, `${n} is outside ${min}..${max}`);
    return n;
  };
  const action = (key: string, fallback: DomainAction): DomainAction => {
    const value = string(key);
    if (value === undefined) return fallback;
    if (value === "destroy" || value === "restart" || value === "preserve") return value;
    const s = get(key)!;
    if (UNSUPPORTED_ACTIONS.includes(value)) {
      fail(s, `"${value}" is not supported here (use destroy, restart or preserve)`);
    }
    return fail(s, `"${value}" is not an action (destroy, restart or preserve)`);
  };
  const strings = (key: string): string[] => {
    const s = get(key);
    if (!s) return [];
    if (s.value.kind !== "list") {
      return fail(s, `expected a [list] of strings, found ${kindOf(s.value)}`);
    }
    return s.value.items.map((item) => {
      if (item.kind !== "string") fail(s, `expected strings in the list, found ${kindOf(item)}`);
      return (item as { value: string }).value;
    });
  };
  const required = (key: string): ConfigStatement => {
    const s = get(key);
    if (!s) throw new ConfigError(file, 0, key, "missing (every config needs one)");
    return s;
  };

  const warnings: string[] = [];
  const type = string("type");
  if (type !== undefined && type !== "pv") {
    fail(get("type")!, `"${type}" guests are not supported (only "pv")`);
  }
  required("name");
  const name = string("name")!;
  if (!NAME.test(name)) fail(get("name")!, `${JSON.stringify(name)} is not 1-64 of [A-Za-z0-9._-]`);
  if (/^[0-9]+$/.test(name)) {
    fail(get("name")!, `"${name}" is a number, which xl would take for a domain id`);
  }
  const memoryMiB = integer("memory", 1, 1024) ?? 32;
  const maxMemoryMiB = integer("maxmem", 1, 1024) ?? memoryMiB;
  if (maxMemoryMiB < memoryMiB) {
    fail(get("maxmem")!, `${maxMemoryMiB} MiB is below memory (${memoryMiB} MiB)`);
  }
  const vcpus = integer("vcpus", 1, 8) ?? 1;
  required("kernel");
  const kernel = string("kernel")!;
  if (kernel === "") fail(get("kernel")!, "empty path");
  const ramdisk = string("ramdisk");
  if (ramdisk === "") fail(get("ramdisk")!, "empty path");
  let cmdline = string("cmdline");
  const root = string("root");
  const extra = string("extra");
  if (cmdline !== undefined) {
    for (const key of ["root", "extra"]) {
      const s = get(key);
      if (s) warnings.push(`${file}:${s.line}: ${key}: ignored because cmdline is set`);
    }
  } else {
    cmdline = [root === undefined ? undefined : `root=${root}`, extra].filter((p) => p).join(" ");
  }
  if (new TextEncoder().encode(cmdline).length > 1023) {
    fail(get("cmdline") ?? get("extra") ?? get("root")!, "longer than 1023 bytes");
  }
  const weight = integer("cpu_weight", 1, 65535) ?? 256;
  const cap = integer("cap", 0, 100) ?? 0;
  const base = dirname(path);
  return {
    config: {
      file: path,
      name,
      memoryMiB,
      maxMemoryMiB,
      vcpus,
      kernel: resolve(base, kernel),
      ramdisk: ramdisk === undefined ? undefined : resolve(base, ramdisk),
      cmdline,
      weight,
      cap,
      onPoweroff: action("on_poweroff", "destroy"),
      onReboot: action("on_reboot", "restart"),
      onCrash: action("on_crash", "destroy"),
      disk: strings("disk"),
      vif: strings("vif"),
    },
    warnings,
  };
}

function kindOf(value: ConfigValue): string {
  switch (value.kind) {
    case "string":
      return `the string ${JSON.stringify(value.value)}`;
    case "number":
      return `the number ${value.text}`;
    case "list":
      return "a list";
  }
}

/** `key += value`: lists grow, strings concatenate; anything else is an error. */
function append(file: string, before: ConfigValue, statement: ConfigStatement): ConfigValue {
  const after = statement.value;
  if (before.kind === "list") {
    const items = after.kind === "list" ? after.items : [after];
    return { kind: "list", items: [...before.items, ...items], line: before.line };
  }
  if (before.kind === "string" && after.kind === "string") {
    return { kind: "string", value: before.value + after.value, line: before.line };
  }
  throw new ConfigError(
    file,
    statement.line,
    statement.key,
    `"+=" needs a list or two strings, found ${kindOf(before)} and ${kindOf(after)}`,
  );
}

/**
 * Reads and parses a config file and the images it names. Throws {@link ConfigError} for a file
 * that cannot be read, is too large, is not UTF-8 text, or is wrong; a missing kernel names the
 * `kernel` line.
 */
export async function loadConfig(file: string): Promise<LoadedConfig> {
  let bytes: Uint8Array;
  try {
    const info = await Deno.stat(file);
    if (!info.isFile) throw new ConfigError(file, 0, undefined, "not a regular file");
    if (info.size > MAX_CONFIG_BYTES) {
      throw new ConfigError(file, 0, undefined, `${info.size} bytes is too large for a config`);
    }
    bytes = await Deno.readFile(file);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(file, 0, undefined, `cannot read the config: ${reason(error)}`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError(file, 0, undefined, "not UTF-8 text");
  }
  const parsed = parseConfig(text, file);
  const lineOf = (key: string) => {
    const s = parseStatements(text, file).find((st) => st.key === key);
    return s?.line ?? 0;
  };
  const readImage = async (key: string, path: string) => {
    try {
      return await Deno.readFile(path);
    } catch (error) {
      throw new ConfigError(file, lineOf(key), key, `cannot read ${path}: ${reason(error)}`);
    }
  };
  const kernel = await readImage("kernel", parsed.config.kernel);
  const ramdisk = parsed.config.ramdisk === undefined
    ? undefined
    : await readImage("ramdisk", parsed.config.ramdisk);
  return { ...parsed, kernel, ramdisk };
}

function reason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotCapable) return "not allowed by Deno's permissions";
  return error instanceof Error ? error.message : String(error);
}
