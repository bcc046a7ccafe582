/**
 * Disk lines of a guest config (`xl-disk-configuration`), with one addition: `backend=` names the
 * module that serves the disk (a built-in name, a file path, or a module specifier).
 *
 * ```
 * disk = ['format=raw, vdev=xvda, access=rw, target=./disk.img, backend=./my_block.ts']
 * disk = ['./disk.img,raw,xvdb,ro']            # positional: target, format, vdev, access
 * disk = ['vdev=xvdc, backend=memory, size=64M']
 * ```
 *
 * Keys: `target` (the image; a relative path is taken from the config's directory), `format`
 * (only `raw`), `vdev` (`xvdX`, `hdX` or `sdX` style names, or a number), `access` (`rw`/`w`
 * or `ro`/`r`; default `rw`), `devtype` (`disk`), `backend` (default `file`), and any other
 * `key=value` pair, which goes to the backend module as a parameter (`size=64M`). Positional
 * values fill target, format, vdev, access in that order, as xl's legacy syntax does. Unlike xl,
 * `target` need not come last (the `backend=` example above follows it), so a target cannot
 * contain a comma.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { toFileUrl } from "./_file_url.ts";
import { vdevToDevid } from "./vdev.ts";

/** A parsed disk line. */
export interface DiskSpec {
  /** The image as an absolute path (absent for backends that need none). */
  readonly target?: string;
  /** `raw`. */
  readonly format: string;
  /** The virtual device name as written (`xvda`). */
  readonly vdev: string;
  /** The xenbus device id (the `virtual-device` number, 51712 for `xvda`). */
  readonly devid: number;
  /** Whether the guest may only read. */
  readonly readOnly: boolean;
  /** The backend module as written (`file`, `./my_block.ts`, `jsr:@x/y`). */
  readonly backend: string;
  /** The module to import: a built-in name stays a name; a path becomes a file URL. */
  readonly backendModule: string;
  /** The other `key=value` pairs, for the backend. */
  readonly params: Readonly<Record<string, string>>;
}

const KNOWN = new Set(["target", "format", "vdev", "access", "devtype", "backend"]);
const POSITIONAL = ["target", "format", "vdev", "access"];

/**
 * Parses one disk line; relative paths are taken from `baseDir` (default: the current
 * directory). Throws a TypeError naming the problem for a line that is not a usable disk.
 */
export function parseDiskSpec(line: string, baseDir: string = Deno.cwd()): DiskSpec {
  if (typeof line !== "string") throw new TypeError(`Disk line ${line} is not a string`);
  const values: Record<string, string> = {};
  const params: Record<string, string> = {};
  let position = 0;
  for (const raw of line.split(",")) {
    const item = raw.trim();
    if (item === "") {
      position++; // an empty positional value keeps its default ("d.img,,xvda")
      continue;
    }
    const eq = item.indexOf("=");
    if (eq < 0) {
      if (position >= POSITIONAL.length) {
        throw new TypeError(`Disk line "${line}": unexpected positional value "${item}"`);
      }
      values[POSITIONAL[position++]] = item;
      continue;
    }
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (!/^[a-z][a-z0-9-]*$/.test(key)) {
      throw new TypeError(`Disk line "${line}": "${key}" is not a key`);
    }
    if (key in values || key in params) {
      throw new TypeError(`Disk line "${line}": "${key}" is given twice`);
    }
    if (KNOWN.has(key)) values[key] = value;
    else params[key] = value;
  }
  const format = values.format || "raw";
  if (format !== "raw") throw new TypeError(`Disk line "${line}": format "${format}" is not raw`);
  const devtype = values.devtype ?? "disk";
  if (devtype !== "disk") {
    throw new TypeError(`Disk line "${line}": devtype "${devtype}" is not supported`);
  }
  if (!values.vdev) throw new TypeError(`Disk line "${line}" names no vdev`);
  const devid = vdevToDevid(values.vdev);
  const access = values.access ?? "rw";
  let readOnly: boolean;
  if (access === "rw" || access === "w") readOnly = false;
  else if (access === "ro" || access === "r") readOnly = true;
  else throw new TypeError(`Disk line "${line}": access "${access}" is not rw or ro`);
  const backend = values.backend || "file";
  const target = values.target ? resolve(baseDir, values.target) : undefined;
  if ((backend === "file" || backend === "overlay") && !target) {
    throw new TypeError(`Disk line "${line}": the ${backend} backend needs a target`);
  }
  return {
    target,
    format,
    vdev: values.vdev,
    devid,
    readOnly,
    backend,
    backendModule: moduleOf(backend, baseDir),
    params,
  };
}

/** A built-in name stays; a path becomes a file URL; anything else is a module specifier. */
function moduleOf(backend: string, baseDir: string): string {
  if (/^[a-z]+$/.test(backend)) return backend;
  if (backend.startsWith(".") || isAbsolute(backend)) {
    return toFileUrl(resolve(baseDir, backend));
  }
  return backend;
}
