import assert from "node:assert/strict";
import { createIntrusionDetector, createPacketFilter } from "@paravirt/drivers";
import { bridgeFilters, parseRulesFile, parseSignaturesFile } from "./bridge_files.ts";

Deno.test("rules files: rules in order, the default policy, comments", () => {
  const spec = parseRulesFile(
    "# lab\n\ndefault deny\ndeny proto=udp dport=9   # discard\nallow type=arp\n" +
      "allow src=10.0.0.0/24\n",
    "lab.rules",
  );
  assert.deepEqual(spec, {
    module: "packet-filter",
    options: {
      rules: ["deny proto=udp dport=9", "allow type=arp", "allow src=10.0.0.0/24"],
      defaultPolicy: "deny",
    },
  });
  createPacketFilter(spec.options); // what the bridge worker will do
  assert.deepEqual(parseRulesFile("", "empty.rules").options, {
    rules: [],
    defaultPolicy: "allow",
  });
});

Deno.test("rules files: a bad line names the file and the line", () => {
  const bad: [string, RegExp][] = [
    ["allow\ndeny proto=udp dport=99999\n", /^x\.rules:2: .*99999/],
    ["default allow\ndefault deny\n", /^x\.rules:2: a second default line$/],
    ["default maybe\n", /^x\.rules:1: "default maybe" is not "default allow" or "default deny"$/],
    ["\n\nreject everything\n", /^x\.rules:3: /],
    ["deny src=10.0.0.0/33\n", /^x\.rules:1: /],
  ];
  for (const [text, message] of bad) {
    assert.throws(() => parseRulesFile(text, "x.rules"), (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("signatures files: text and hex patterns, protocol and port, the port-scan line", () => {
  const spec = parseSignaturesFile(
    "signature passwd text /etc/passwd and more  \n" +
      "signature beacon proto=udp dport=9 hex de ad be ef\n" +
      "signature icmp-x proto=1 text x=y\n" +
      "portscan 5 2000\n",
    "lab.sigs",
  );
  assert.deepEqual(spec, {
    module: "intrusion-detector",
    options: {
      signatures: [
        { name: "passwd", pattern: "/etc/passwd and more" },
        { name: "beacon", proto: "udp", dstPort: 9, hex: "de ad be ef" },
        { name: "icmp-x", proto: 1, pattern: "x=y" },
      ],
      portScan: { threshold: 5, windowMs: 2000 },
    },
  });
  createIntrusionDetector(spec.options);
  assert.deepEqual(parseSignaturesFile("portscan off\n", "s").options, {
    signatures: [],
    portScan: false,
  });
  assert.deepEqual(parseSignaturesFile("# none\n", "s").options, { signatures: [] });
});

Deno.test("signatures files: a bad line names the file and the line", () => {
  const bad: [string, RegExp][] = [
    ["signature a text\n", /^s:1: "signature a text" is not "signature <name>/],
    ["signature a bytes xx yy\n", /^s:1: expected text or hex, found "bytes"$/],
    ["signature a proto=sctp text x\n", /^s:1: proto "sctp" is not tcp, udp, icmp/],
    ["signature a dport=http text x\n", /^s:1: dport "http" is not a port number$/],
    ["signature a colour=red text x\n", /^s:1: "colour" is not proto or dport$/],
    ["signature a hex abc\n", /^s:1: Signature "a" hex "abc" is not bytes$/],
    ["signature a text x\nsignature a text y\n", /^s:2: signature "a" is defined twice$/],
    ["portscan 0 100\n", /^s:1: "portscan 0 100" is not "portscan <threshold> <window-ms>"/],
    ["portscan off\nportscan off\n", /^s:2: a second portscan line$/],
    ["alert on everything\n", /^s:1: "alert on everything" is not "signature/],
  ];
  for (const [text, message] of bad) {
    assert.throws(() => parseSignaturesFile(text, "s"), (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("bridge filters: the detector first, then the packet filter", () => {
  assert.deepEqual(bridgeFilters({}), []);
  const chain = bridgeFilters({
    rules: { text: "deny proto=udp dport=9\n", file: "r" },
    signatures: { text: "signature a text x\n", file: "s" },
  });
  assert.deepEqual(chain.map((f) => f.module), ["intrusion-detector", "packet-filter"]);
});
