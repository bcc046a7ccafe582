/**
 * Vif lines of a guest config (`xl-network-configuration`), with this toolstack's additions:
 * `backend=` names the netback module, and `filter=`/`ids=` name the files that configure the
 * bridge's filter chain.
 *
 * ```
 * vif = ['mac=00:16:3e:00:00:01, bridge=xenbr0']
 * vif = ['mac=00:16:3e:00:00:02, bridge=lab, filter=./lab.rules, ids=./lab.sigs']
 * vif = ['bridge=xenbr0, devid=1, backend=./my_netback.ts', '']   # an empty line: all defaults
 * ```
 *
 * Keys:
 * - `mac`: the interface's unicast address (`aa:bb:cc:dd:ee:ff` or with `-`); default a random
 *   one under Xen's prefix `00:16:3e` (chosen when the vif is attached);
 * - `bridge`: the bridge it joins, 1-64 of `[A-Za-z0-9._-]` (default `xenbr0`); the device
 *   supervisor creates a bridge when its first vif arrives and ends it with its last;
 * - `devid`: the device id, 0..65535 (default: one more than the domain's highest);
 * - `ip`: IPv4 addresses separated by spaces, recorded in the backend's `ip` node as Xen does
 *   (informational: nothing is routed or filtered by it);
 * - `type`: `vif` (Xen's default; `ioemu` needs a device model this host does not have);
 * - `backend`: the netback worker module — a path (relative to the config's directory) or a
 *   module specifier. (Xen's `backend=` names a driver domain; here every backend is in dom0.)
 * - `filter`: a packet-filter rules file for the bridge, `ids`: an intrusion-detector signatures
 *   file (formats in `bridge_files.ts`); both relative to the config's directory. They configure
 *   the bridge the first vif creates; a later vif on a running bridge must name the same rules (or
 *   none).
 *
 * Xen's `script`, `vifname`, `model`, `rate`, `gatewaydev` and the rest are refused with an error
 * naming the key, as is anything unknown, a key given twice or an entry without `=`.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { formatMac, parseMac } from "@paravirt/drivers";
import { toFileUrl } from "./_file_url.ts";

/** The bridge a vif joins when its line names none (Xen's default). */
export const DEFAULT_BRIDGE = "xenbr0";

/** A parsed vif line. */
export interface VifSpec {
  /** The MAC address, formatted `aa:bb:cc:dd:ee:ff` (absent: chosen when attached). */
  readonly mac?: string;
  /** The bridge. */
  readonly bridge: string;
  /** The device id (absent: chosen when attached). */
  readonly devid?: number;
  /** IPv4 addresses, space-separated, as written to xenstore. */
  readonly ip?: string;
  /** The netback module as written (absent: the built-in one). */
  readonly backend?: string;
  /** The module to start: a path becomes a file URL, a specifier stays. */
  readonly backendModule?: string;
  /** The bridge's packet-filter rules file (absolute). */
  readonly filter?: string;
  /** The bridge's signatures file (absolute). */
  readonly ids?: string;
}

const KEYS = ["mac", "bridge", "devid", "ip", "type", "backend", "filter", "ids"];
/** Xen keys that have no meaning here, with why. */
const XEN_ONLY: Readonly<Record<string, string>> = {
  script: "hotplug scripts are not run here (the bridge is built in)",
  vifname: "the backend interface is always named vif<domid>.<devid>",
  model: "there is no device model (PV vifs only)",
  rate: "rate limiting is not supported",
  gatewaydev: "there is no routed networking",
  netdev: "there is no routed networking",
  accel: "there is no acceleration plug-in",
  mtu: "the frame size is the bridge's",
  "forwarded_ports": "there is no NAT",
};

const BRIDGE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Parses one vif line; relative paths are taken from `baseDir` (default: the current directory).
 * Throws a TypeError naming the key for a line that is not a usable vif.
 */
export function parseVifSpec(line: string, baseDir: string = Deno.cwd()): VifSpec {
  if (typeof line !== "string") throw new TypeError(`Vif line ${line} is not a string`);
  const values: Record<string, string> = {};
  const fail = (problem: string): never => {
    throw new TypeError(`Vif line "${line}": ${problem}`);
  };
  for (const raw of line.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq < 0) fail(`"${item}" is not key=value`);
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key in XEN_ONLY) fail(`key "${key}" is not supported: ${XEN_ONLY[key]}`);
    if (!KEYS.includes(key)) fail(`unknown key "${key}" (known: ${KEYS.join(", ")})`);
    if (key in values) fail(`key "${key}" is given twice`);
    if (value === "") fail(`key "${key}" has no value`);
    values[key] = value;
  }
  let mac: string | undefined;
  if (values.mac !== undefined) {
    let number: number;
    try {
      number = parseMac(values.mac);
    } catch {
      return fail(`key "mac": "${values.mac}" is not six hex bytes`);
    }
    if (Math.floor(number / 2 ** 40) & 1) {
      fail(`key "mac": ${values.mac} is a multicast address, not an interface's`);
    }
    mac = formatMac(number);
  }
  const bridge = values.bridge ?? DEFAULT_BRIDGE;
  if (!BRIDGE_NAME.test(bridge)) fail(`key "bridge": "${bridge}" is not 1-64 of [A-Za-z0-9._-]`);
  let devid: number | undefined;
  if (values.devid !== undefined) {
    if (!/^(0|[1-9][0-9]{0,4})$/.test(values.devid) || Number(values.devid) > 0xffff) {
      fail(`key "devid": "${values.devid}" is not 0..65535`);
    }
    devid = Number(values.devid);
  }
  if (values.ip !== undefined) {
    for (const address of values.ip.split(/\s+/)) {
      const parts = address.split(".");
      if (
        parts.length !== 4 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || +p > 255)
      ) {
        fail(`key "ip": "${address}" is not an IPv4 address`);
      }
    }
  }
  if (values.type !== undefined && values.type !== "vif") {
    fail(`key "type": "${values.type}" is not supported (only vif)`);
  }
  const path = (key: string) =>
    values[key] === undefined ? undefined : resolve(baseDir, values[key]);
  return {
    mac,
    bridge,
    devid,
    ip: values.ip?.split(/\s+/).join(" "),
    backend: values.backend,
    backendModule: values.backend === undefined ? undefined : moduleOf(values.backend, baseDir),
    filter: path("filter"),
    ids: path("ids"),
  };
}

/** A path becomes a file URL; anything else is a module specifier. */
function moduleOf(backend: string, baseDir: string): string {
  if (backend.startsWith(".") || isAbsolute(backend)) return toFileUrl(resolve(baseDir, backend));
  return backend;
}

/** A random MAC under Xen's prefix `00:16:3e` (locally chosen, unicast), as libxl makes one. */
export function randomMac(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(3));
  return formatMac(0x00163e000000 + ((bytes[0] & 0x7f) << 16) + (bytes[1] << 8) + bytes[2]);
}
