import assert from "node:assert/strict";
import { DEFAULT_BRIDGE, parseVifSpec, randomMac } from "./vif_spec.ts";

Deno.test("vif lines: every key, paths from the config's directory", () => {
  assert.deepEqual(
    parseVifSpec(
      "mac=00:16:3E:00:00:0A, bridge=lab, devid=2, ip=10.0.0.1  10.0.0.2, type=vif, " +
        "backend=./nb.ts, filter=rules/lab.rules, ids=/etc/lab.sigs",
      "/vm",
    ),
    {
      mac: "00:16:3e:00:00:0a",
      bridge: "lab",
      devid: 2,
      ip: "10.0.0.1 10.0.0.2",
      backend: "./nb.ts",
      backendModule: "file:///vm/nb.ts",
      filter: "/vm/rules/lab.rules",
      ids: "/etc/lab.sigs",
    },
  );
  const plain = parseVifSpec("", "/vm");
  assert.equal(plain.bridge, DEFAULT_BRIDGE);
  assert.equal(plain.mac, undefined);
  assert.equal(plain.devid, undefined);
  assert.equal(plain.backendModule, undefined);
  assert.equal(parseVifSpec("mac=00-16-3e-01-02-03,").mac, "00:16:3e:01:02:03");
  assert.equal(parseVifSpec("backend=jsr:@me/netback").backendModule, "jsr:@me/netback");
});

Deno.test("vif lines: bad lines are errors naming the key", () => {
  const bad: [string, RegExp][] = [
    ["mac=00:16:3e:00:00", /key "mac": "00:16:3e:00:00" is not six hex bytes/],
    ["mac=01:00:5e:00:00:01", /key "mac": 01:00:5e:00:00:01 is a multicast address/],
    ["bridge=no/slash", /key "bridge": "no\/slash" is not 1-64/],
    ["devid=65536", /key "devid": "65536" is not 0\.\.65535/],
    ["devid=07", /key "devid": "07"/],
    ["ip=10.0.0.256", /key "ip": "10.0.0.256" is not an IPv4 address/],
    ["type=ioemu", /key "type": "ioemu" is not supported/],
    ["script=vif-bridge", /key "script" is not supported: hotplug scripts/],
    ["colour=blue", /unknown key "colour" \(known: mac, bridge/],
    ["bridge=a, bridge=b", /key "bridge" is given twice/],
    ["mac=", /key "mac" has no value/],
    ["00:16:3e:00:00:01", /"00:16:3e:00:00:01" is not key=value/],
  ];
  for (const [line, message] of bad) {
    assert.throws(() => parseVifSpec(line), (e: Error) => {
      assert.ok(e instanceof TypeError, line);
      assert.match(e.message, message);
      assert.ok(e.message.startsWith(`Vif line "${line}": `), e.message);
      return true;
    });
  }
});

Deno.test("vif lines: random MACs are unicast under Xen's prefix", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const mac = randomMac();
    assert.match(mac, /^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$/);
    seen.add(mac);
  }
  assert.ok(seen.size > 40, "they differ");
});
