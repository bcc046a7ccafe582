/**
 * The two files a vif line may name to configure its bridge's filter chain, and what they turn
 * into: the bridge worker's filter entries (`@paravirt/drivers`' `FilterSpec`).
 *
 * A **rules file** (`filter=`) configures the packet filter: one rule per line in the packet
 * filter's own syntax (first match wins), plus at most one `default allow|deny` line (the policy
 * for frames no rule matches; `allow` if absent).
 *
 * ```text
 * # lab.rules
 * default allow
 * deny proto=udp dport=9
 * deny in=vif3.0 dst=10.0.0.0/24 proto=tcp dport=20-23
 * ```
 *
 * A **signatures file** (`ids=`) configures the intrusion detector (it never drops; it counts and
 * raises alerts):
 *
 * ```text
 * # lab.sigs
 * signature passwd text /etc/passwd
 * signature beacon proto=udp dport=9 hex de ad be ef
 * portscan 20 10000        # sources probing 20 (address, port) pairs within 10 s; or: portscan off
 * ```
 *
 * `text` takes the rest of the line verbatim (inner spaces included); `hex` takes bytes. Blank
 * lines and `#` comments (at the start of a line, or after a space) are ignored.
 *
 * Chain order: the intrusion detector first (so it sees every frame, blocked ones too), then the
 * packet filter.
 *
 * Rules of use: both parsers are pure and throw a TypeError `<file>:<line>: <problem>` for the
 * first bad line, having checked each rule by compiling it exactly as the bridge worker will.
 *
 * @module
 */

import {
  createIntrusionDetector,
  createPacketFilter,
  type FilterSpec,
  INTRUSION_DETECTOR_MODULE,
  PACKET_FILTER_MODULE,
  type Signature,
} from "@paravirt/drivers";

/** Largest rules or signatures file (bytes of text). */
export const MAX_BRIDGE_FILE_BYTES = 256 * 1024;

function lines(text: string, file: string): { line: number; text: string }[] {
  if (text.length > MAX_BRIDGE_FILE_BYTES) {
    throw new TypeError(`${file}: ${text.length} characters is too large (at most 256 KiB)`);
  }
  return text.split("\n").map((raw, i) => ({
    line: i + 1,
    text: raw.replace(/(^|\s)#.*$/, "").trim(),
  })).filter((l) => l.text !== "");
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Parses a rules file into the packet filter's entry. */
export function parseRulesFile(text: string, file: string): FilterSpec {
  const rules: string[] = [];
  let defaultPolicy: "allow" | "deny" | undefined;
  for (const { line, text: rule } of lines(text, file)) {
    const fail = (problem: string): never => {
      throw new TypeError(`${file}:${line}: ${problem}`);
    };
    const words = rule.split(/\s+/);
    if (words[0] === "default") {
      if (defaultPolicy !== undefined) fail("a second default line");
      if (words.length !== 2 || (words[1] !== "allow" && words[1] !== "deny")) {
        fail(`"${rule}" is not "default allow" or "default deny"`);
      }
      defaultPolicy = words[1] as "allow" | "deny";
      continue;
    }
    try {
      createPacketFilter({ rules: [rule] });
    } catch (error) {
      fail(errorText(error));
    }
    rules.push(rule);
  }
  return {
    module: PACKET_FILTER_MODULE,
    options: { rules, defaultPolicy: defaultPolicy ?? "allow" },
  };
}

/** Parses a signatures file into the intrusion detector's entry. */
export function parseSignaturesFile(text: string, file: string): FilterSpec {
  const signatures: Signature[] = [];
  let portScan: { threshold: number; windowMs: number } | false | undefined;
  for (const { line, text: entry } of lines(text, file)) {
    const fail = (problem: string): never => {
      throw new TypeError(`${file}:${line}: ${problem}`);
    };
    const words = entry.split(/\s+/);
    if (words[0] === "portscan") {
      if (portScan !== undefined) fail("a second portscan line");
      if (words.length === 2 && words[1] === "off") {
        portScan = false;
        continue;
      }
      const [threshold, windowMs] = words.slice(1).map(Number);
      if (
        words.length !== 3 || !Number.isInteger(threshold) || threshold < 1 ||
        !Number.isInteger(windowMs) || windowMs < 1
      ) {
        fail(`"${entry}" is not "portscan <threshold> <window-ms>" or "portscan off"`);
      }
      portScan = { threshold, windowMs };
      continue;
    }
    if (words[0] !== "signature" || words.length < 4) {
      fail(`"${entry}" is not "signature <name> [proto=P] [dport=N] text|hex <pattern>"`);
    }
    // Words are taken off the front; what follows the kind word is the pattern, verbatim.
    let rest = entry;
    const take = (): string => {
      const word = /^(\S+)\s*/.exec(rest)!;
      rest = rest.slice(word[0].length);
      return word[1];
    };
    take(); // "signature"
    const signature: Signature = { name: take() };
    let word = take();
    for (; word.includes("=") && rest !== ""; word = take()) {
      const key = word.slice(0, word.indexOf("="));
      const value = word.slice(word.indexOf("=") + 1);
      if (key === "proto") {
        signature.proto = value === "tcp" || value === "udp" || value === "icmp"
          ? value
          : /^[0-9]{1,3}$/.test(value)
          ? Number(value)
          : fail(`proto "${value}" is not tcp, udp, icmp or a number`);
      } else if (key === "dport") {
        if (!/^[0-9]{1,5}$/.test(value)) fail(`dport "${value}" is not a port number`);
        signature.dstPort = Number(value);
      } else fail(`"${key}" is not proto or dport`);
    }
    if (word !== "text" && word !== "hex") fail(`expected text or hex, found "${word}"`);
    if (rest === "") fail(`signature "${signature.name}" has no pattern`);
    if (word === "text") signature.pattern = rest;
    else signature.hex = rest;
    if (signatures.some((s) => s.name === signature.name)) {
      fail(`signature "${signature.name}" is defined twice`);
    }
    try {
      createIntrusionDetector({ signatures: [signature], portScan: false });
    } catch (error) {
      fail(errorText(error));
    }
    signatures.push(signature);
  }
  const options = { signatures, ...(portScan === undefined ? {} : { portScan }) };
  try {
    createIntrusionDetector(options);
  } catch (error) {
    throw new TypeError(`${file}: ${errorText(error)}`);
  }
  return { module: INTRUSION_DETECTOR_MODULE, options };
}

/** The filter chain of a bridge configured by these files (signatures first). */
export function bridgeFilters(
  files: { rules?: { text: string; file: string }; signatures?: { text: string; file: string } },
): FilterSpec[] {
  const chain: FilterSpec[] = [];
  if (files.signatures) {
    chain.push(parseSignaturesFile(files.signatures.text, files.signatures.file));
  }
  if (files.rules) chain.push(parseRulesFile(files.rules.text, files.rules.file));
  return chain;
}
