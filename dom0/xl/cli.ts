/**
 * `deno task xl <command>`: Xen's `xl` for this hypervisor. The CLI reads configs and kernel
 * images as the user, then talks to the toolstack daemon on its Unix socket; `create` starts the
 * daemon in the background when none answers.
 *
 * Exit status: 0 on success, 1 when the command failed (unknown domain, daemon not running, bad
 * config, refused request), 2 for a usage error.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SHUTDOWN_NAMES } from "./toolstack.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { DaemonNotRunningError, XlClient, XlRequestError } from "./client.ts";
import { runConsole } from "./console_attach.ts";
import { ensureDaemon } from "./daemon_start.ts";
import { formatInfo, formatList, formatSchedCredit } from "./format.ts";
import { toBase64 } from "./protocol.ts";
import { defaultSocketPath } from "./socket_path.ts";

/** The repository root (two levels above this file). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The usage text. */
export const USAGE = `Usage: deno task xl [--socket <path>] <command> [args]

 create [-c] [-p] <cfg>        create a domain from a config file (starts the daemon if needed);
                               -c attaches the console, -p leaves it paused
 list [<dom>]                  list domains (Name ID Mem VCPUs State Time(s))
 destroy <dom>                 terminate a domain immediately
 pause <dom>                   pause a domain
 unpause <dom>                 unpause a paused domain
 shutdown [-w] <dom>           shut a domain down (its on_poweroff policy applies)
 reboot <dom>                  reboot a domain (its on_reboot policy applies)
 console <dom>                 attach to a domain's console; Ctrl-] detaches
 sched-credit [-d <dom>] [-w <weight>] [-c <cap>]
                               list or set credit scheduler parameters
 dmesg                         the hypervisor's log
 info                          information about the host
 daemon status|stop            the toolstack daemon (stop destroys every domain)

<dom> is a domain name or id. The socket is $PARAVIRT_XL_SOCKET, else
$XDG_RUNTIME_DIR/paravirt/xl.sock, else /tmp/paravirt-<uid>/xl.sock.
`;

/** A usage error (exit status 2). */
class UsageError extends Error {}

function uid(): number | null {
  try {
    return Deno.uid();
  } catch {
    return null;
  }
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one ${what}`);
  return positionals[0];
}

function integerOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^(0|[1-9][0-9]{0,9})$/.test(value)) {
    throw new UsageError(`${name} must be a non-negative integer, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

const out = (text: string) => {
  const bytes = new TextEncoder().encode(text);
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
};

async function connect(socket: string): Promise<XlClient> {
  return await XlClient.connect(socket);
}

async function attach(client: XlClient, domain: string): Promise<number> {
  const session = await client.console(domain);
  const end = await runConsole(session);
  if (end === "stopped") console.error("xl: the toolstack daemon stopped");
  return 0;
}

/** Runs one xl command; resolves with the exit status. */
export async function main(args: string[]): Promise<number> {
  let socket = defaultSocketPath(env, uid());
  if (args[0] === "--socket") {
    if (!args[1]) {
      console.error("xl: --socket needs a path");
      return 2;
    }
    socket = args[1];
    args = args.slice(2);
  }
  const [command, ...rest] = args;
  let client: XlClient | undefined;
  try {
    switch (command) {
      case undefined:
      case "help":
      case "-h":
      case "--help":
        out(USAGE);
        return command === undefined ? 2 : 0;
      case "create": {
        const { values, positionals } = parseArgs({
          args: rest,
          options: {
            console: { type: "boolean", short: "c" },
            paused: { type: "boolean", short: "p" },
          },
          allowPositionals: true,
        });
        const base = env("INIT_CWD") ?? Deno.cwd();
        const file = resolve(base, one(positionals, "config file"));
        console.error(`Parsing config from ${file}`);
        const loaded = await loadConfig(file);
        for (const warning of loaded.warnings) console.error(`xl: warning: ${warning}`);
        await ensureDaemon(socket, ROOT, uid());
        client = await connect(socket);
        const created = await client.request({
          op: "create",
          config: loaded.config,
          kernel: toBase64(loaded.kernel),
          ramdisk: loaded.ramdisk && toBase64(loaded.ramdisk),
          paused: values.paused,
        });
        if (values.console) return await attach(client, String(created.id));
        return 0;
      }
      case "list": {
        const { positionals } = parseArgs({ args: rest, allowPositionals: true });
        if (positionals.length > 1) throw new UsageError("expected at most one domain");
        client = await connect(socket);
        const { domains, dom0 } = await client.request({ op: "list", domain: positionals[0] });
        out(formatList(domains, positionals.length === 0 ? dom0 : undefined));
        return 0;
      }
      case "destroy":
      case "pause":
      case "unpause": {
        const { positionals } = parseArgs({ args: rest, allowPositionals: true });
        const domain = one(positionals, "domain");
        client = await connect(socket);
        await client.request({ op: command, domain });
        return 0;
      }
      case "shutdown":
      case "reboot": {
        const { positionals } = parseArgs({
          args: rest,
          options: { wait: { type: "boolean", short: "w" } },
          allowPositionals: true,
        });
        const domain = one(positionals, "domain");
        client = await connect(socket);
        const result = await client.request({
          op: "shutdown",
          domain,
          reboot: command === "reboot",
        });
        console.error(
          `${command === "reboot" ? "Rebooting" : "Shutting down"} domain ${result.id}` +
            (result.shutdownReason !== null
              ? ` (${SHUTDOWN_NAMES[result.shutdownReason] ?? result.shutdownReason})`
              : ""),
        );
        return 0;
      }
      case "console": {
        const { positionals } = parseArgs({
          args: rest,
          options: { type: { type: "string", short: "t" }, num: { type: "string", short: "n" } },
          allowPositionals: true,
        });
        client = await connect(socket);
        return await attach(client, one(positionals, "domain"));
      }
      case "sched-credit": {
        const { values, positionals } = parseArgs({
          args: rest,
          options: {
            domain: { type: "string", short: "d" },
            weight: { type: "string", short: "w" },
            cap: { type: "string", short: "c" },
          },
          allowPositionals: true,
        });
        if (positionals.length > 0) throw new UsageError(`unexpected ${positionals[0]}`);
        const weight = integerOption(values.weight, "-w");
        const cap = integerOption(values.cap, "-c");
        if ((weight !== undefined || cap !== undefined) && values.domain === undefined) {
          throw new UsageError("-w and -c need -d <domain>");
        }
        client = await connect(socket);
        const { entries, timesliceMs } = await client.request({
          op: "sched-credit",
          domain: values.domain,
          weight,
          cap,
        });
        if (weight === undefined && cap === undefined) {
          out(formatSchedCredit(entries, { pool: values.domain === undefined, timesliceMs }));
        }
        return 0;
      }
      case "dmesg": {
        if (rest.length > 0) throw new UsageError(`unexpected ${rest[0]}`);
        client = await connect(socket);
        const lines = await client.request({ op: "dmesg" });
        out(lines.map((line) => line + "\n").join(""));
        return 0;
      }
      case "info": {
        if (rest.length > 0) throw new UsageError(`unexpected ${rest[0]}`);
        client = await connect(socket);
        const { host } = await client.request({ op: "info" });
        let hostname = "localhost";
        try {
          hostname = Deno.hostname();
        } catch {
          // Without sys permission the name stays generic.
        }
        out(
          formatInfo(host, {
            host: hostname,
            denoVersion: Deno.version.deno,
            arch: Deno.build.arch,
          }),
        );
        return 0;
      }
      case "daemon": {
        const action = one(rest, "action (status or stop)");
        if (action !== "status" && action !== "stop") {
          throw new UsageError(`unknown daemon action ${JSON.stringify(action)}`);
        }
        client = await connect(socket);
        if (action === "stop") {
          await client.request({ op: "stop" });
          console.error(`xl: the toolstack daemon on ${socket} stopped`);
        } else {
          const status = await client.request({ op: "status" });
          out(
            `pid ${status.pid}, socket ${status.socket}, up ${
              ((Date.now() - status.startedAt) / 1000).toFixed(0)
            } s, ${(status.rssBytes / (1 << 20)).toFixed(0)} MiB resident\n`,
          );
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && "code" in error)) {
      console.error(`xl: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof DaemonNotRunningError) {
      console.error(`xl: ${error.message}; "deno task xl create <cfg>" starts it`);
      return 1;
    }
    if (error instanceof ConfigError || error instanceof XlRequestError) {
      console.error(`xl: ${error.message}`);
      return 1;
    }
    console.error(`xl: ${error instanceof Error ? error.message : error}`);
    return 1;
  } finally {
    client?.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
