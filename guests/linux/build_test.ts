import assert from "node:assert/strict";
import { linuxCacheDir, linuxCacheKeys, unmetFragmentLines } from "./build.ts";

Deno.test("unmetFragmentLines names every fragment line the final config does not honour", () => {
  const fragment = [
    "# a comment",
    "CONFIG_A=y",
    "# CONFIG_B is not set",
    'CONFIG_C="x"',
    "CONFIG_D=y",
    "# CONFIG_E is not set",
  ].join("\n");
  const config = [
    "CONFIG_A=y",
    "CONFIG_B=y", // selected by something else: not off
    'CONFIG_C="x"',
    "# CONFIG_D is not set",
  ].join("\n");
  assert.deepEqual(unmetFragmentLines(fragment, config), [
    "# CONFIG_B is not set (is CONFIG_B=y)",
    "CONFIG_D=y (is unset)",
  ]);
  assert.deepEqual(unmetFragmentLines(fragment, config + "\nCONFIG_D=y\n# CONFIG_B"), [
    "# CONFIG_B is not set (is CONFIG_B=y)",
  ]);
});

Deno.test("the cache lives under PARAVIRT_CACHE, XDG_CACHE_HOME or ~/.cache", () => {
  const saved = ["PARAVIRT_CACHE", "XDG_CACHE_HOME", "HOME"].map((k) => [k, Deno.env.get(k)]);
  try {
    Deno.env.set("PARAVIRT_CACHE", "/tmp/pv");
    assert.equal(linuxCacheDir(), "/tmp/pv/linux");
    Deno.env.delete("PARAVIRT_CACHE");
    Deno.env.set("XDG_CACHE_HOME", "/tmp/xdg");
    assert.equal(linuxCacheDir(), "/tmp/xdg/paravirt/linux");
    Deno.env.delete("XDG_CACHE_HOME");
    Deno.env.set("HOME", "/home/someone");
    assert.equal(linuxCacheDir(), "/home/someone/.cache/paravirt/linux");
    Deno.env.delete("HOME");
    assert.throws(() => linuxCacheDir(), /Neither PARAVIRT_CACHE, XDG_CACHE_HOME nor HOME/);
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) Deno.env.delete(k!);
      else Deno.env.set(k!, v);
    }
  }
});

Deno.test({
  name: "cache keys are stable and tell the three pieces apart",
  ignore: !(await Deno.stat("/usr/src/linux-source-6.1.tar.xz").then(() => true, () => false)),
  fn: async () => {
    const a = await linuxCacheKeys();
    const b = await linuxCacheKeys();
    assert.deepEqual(a, b);
    assert.match(a.kernel, /^[0-9a-f]{16}$/);
    assert.equal(new Set([a.kernel, a.initramfs, a.qemuFirmware]).size, 3);
  },
});
