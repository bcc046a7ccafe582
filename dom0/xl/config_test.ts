import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, loadConfig, parseConfig } from "./config.ts";
import { parseStatements } from "./config_syntax.ts";

const FILE = "/etc/xen/guest.cfg";

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, FILE);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    return error;
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
}

/** Asserts that `text` fails on `line` naming `key`, with a message matching `pattern`. */
function rejects(text: string, line: number, key: string | undefined, pattern: RegExp): void {
  const error = errorOf(text);
  assert.equal(error.line, line, error.message);
  assert.equal(error.key, key, error.message);
  assert.match(error.message, pattern);
  const where = line > 0 ? `${FILE}:${line}: ` : `${FILE}: `;
  assert.ok(error.message.startsWith(where + (key ? `${key}: ` : "")), error.message);
}

const MINIMAL = 'name = "hello"\nkernel = "hello.elf"\n';

Deno.test("config: a full Xen-style config", () => {
  const { config, warnings } = parseConfig(
    `# A guest
name = "web-1"     # trailing comment
type = "pv"
memory = 64
maxmem = 0x60
vcpus = 2
kernel = "../images/pvkernel.elf"
ramdisk = 'initrd.img'
cmdline = "app=hello n=5"
cpu_weight = 512; cap = 50
on_poweroff = "destroy"
on_reboot = "restart"
on_crash = "preserve"
disk = [ 'format=raw, vdev=xvda, target=/srv/a.img',
         "vdev=xvdb, target=/srv/b.img", ]   # trailing comma

vif = [ "bridge=xenbr0" ]
`,
    FILE,
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(config, {
    file: FILE,
    name: "web-1",
    memoryMiB: 64,
    maxMemoryMiB: 96,
    vcpus: 2,
    kernel: "/etc/images/pvkernel.elf",
    ramdisk: "/etc/xen/initrd.img",
    cmdline: "app=hello n=5",
    weight: 512,
    cap: 50,
    onPoweroff: "destroy",
    onReboot: "restart",
    onCrash: "preserve",
    disk: ["format=raw, vdev=xvda, target=/srv/a.img", "vdev=xvdb, target=/srv/b.img"],
    vif: ["bridge=xenbr0"],
  });
});

Deno.test("config: defaults follow Xen", () => {
  const { config } = parseConfig(MINIMAL, FILE);
  assert.equal(config.memoryMiB, 32);
  assert.equal(config.maxMemoryMiB, 32);
  assert.equal(config.vcpus, 1);
  assert.equal(config.cmdline, "");
  assert.equal(config.weight, 256);
  assert.equal(config.cap, 0);
  assert.equal(config.onPoweroff, "destroy");
  assert.equal(config.onReboot, "restart");
  assert.equal(config.onCrash, "destroy");
  assert.equal(config.ramdisk, undefined);
  assert.deepEqual(config.disk, []);
});

Deno.test("config: extra and root build the command line; cmdline overrides them", () => {
  assert.equal(parseConfig(MINIMAL + 'extra = "app=primes"\n', FILE).config.cmdline, "app=primes");
  assert.equal(
    parseConfig(MINIMAL + 'root = "/dev/xvda1"\nextra = "ro"\n', FILE).config.cmdline,
    "root=/dev/xvda1 ro",
  );
  const { config, warnings } = parseConfig(MINIMAL + 'extra = "x"\ncmdline = "y"\n', FILE);
  assert.equal(config.cmdline, "y");
  assert.deepEqual(warnings, [`${FILE}:3: extra: ignored because cmdline is set`]);
});

Deno.test("config: strings, escapes, numbers as strings, += appends", () => {
  const { config } = parseConfig(
    MINIMAL +
      `cmdline = "say \\"hi\\"\\tthere # not a comment"
cmdline += ' more'
memory = "16"
disk = [ "a" ]
disk += [ "b", "c" ]
disk += "d"
`,
    FILE,
  );
  assert.equal(config.cmdline, 'say "hi"\tthere # not a comment more');
  assert.equal(config.memoryMiB, 16);
  assert.deepEqual(config.disk, ["a", "b", "c", "d"]);
});

Deno.test("config: statements", () => {
  assert.deepEqual(
    parseStatements("a=1;b='x'\n\n  # c = 3\nc = [\n 1 ,\n\n 'y' # in a list\n]\n", "f"),
    [
      { key: "a", op: "=", value: { kind: "number", value: 1, text: "1", line: 1 }, line: 1 },
      { key: "b", op: "=", value: { kind: "string", value: "x", line: 1 }, line: 1 },
      {
        key: "c",
        op: "=",
        value: {
          kind: "list",
          items: [
            { kind: "number", value: 1, text: "1", line: 5 },
            { kind: "string", value: "y", line: 7 },
          ],
          line: 4,
        },
        line: 4,
      },
    ],
  );
  assert.deepEqual(parseStatements("", "f"), []);
  assert.deepEqual(parseStatements("# only a comment", "f"), []);
  assert.deepEqual(parseStatements("x = -0x10", "f")[0].value, {
    kind: "number",
    value: -16,
    text: "-0x10",
    line: 1,
  });
});

Deno.test("config: unknown keys and bad values name the line and the key", () => {
  rejects(MINIMAL + "memroy = 64\n", 3, "memroy", /unknown key/);
  rejects(MINIMAL + "memory = 0\n", 3, "memory", /0 is outside 1\.\.1024/);
  rejects(MINIMAL + "memory = 4096\n", 3, "memory", /outside/);
  rejects(
    MINIMAL + 'memory = "lots"\n',
    3,
    "memory",
    /expected an integer, found the string "lots"/,
  );
  rejects(MINIMAL + "memory = [ 1 ]\n", 3, "memory", /expected an integer, found a list/);
  rejects(MINIMAL + "memory = 12.5\n", 3, "memory", /"12.5" is not an integer/);
  rejects(MINIMAL + "memory = 010\n", 3, "memory", /no leading zeros/);
  rejects(MINIMAL + "memory = 99999999999999999999\n", 3, "memory", /not an integer/);
  rejects(MINIMAL + "memory = 64\nmaxmem = 32\n", 4, "maxmem", /below memory/);
  rejects(MINIMAL + "vcpus = 9\n", 3, "vcpus", /outside 1\.\.8/);
  rejects(MINIMAL + "vcpus = -1\n", 3, "vcpus", /outside/);
  rejects(MINIMAL + "cpu_weight = 0\n", 3, "cpu_weight", /outside 1\.\.65535/);
  rejects(MINIMAL + "cap = 101\n", 3, "cap", /outside 0\.\.100/);
  rejects(MINIMAL + 'on_crash = "reboot"\n', 3, "on_crash", /not an action/);
  rejects(MINIMAL + 'on_crash = "coredump-destroy"\n', 3, "on_crash", /not supported/);
  rejects(
    MINIMAL + "on_poweroff = destroy\n",
    3,
    "on_poweroff",
    /expected a value.*word "destroy"/,
  );
  rejects(MINIMAL + 'type = "hvm"\n', 3, "type", /only "pv"/);
  rejects(MINIMAL + 'disk = "a.img"\n', 3, "disk", /expected a \[list\] of strings/);
  rejects(MINIMAL + "vif = [ 1 ]\n", 3, "vif", /expected strings in the list/);
  rejects(MINIMAL + 'kernel = "b"\n', 3, "kernel", /set twice \(first on line 2\)/);
  rejects(MINIMAL + 'cmdline = "x"\ncmdline += 5\n', 4, "cmdline", /"\+=" needs/);
  rejects(MINIMAL + `cmdline = "${"x".repeat(1024)}"\n`, 3, "cmdline", /1023 bytes/);
  rejects('name = "bad name"\nkernel = "k"\n', 1, "name", /not 1-64/);
  rejects('name = "42"\nkernel = "k"\n', 1, "name", /domain id/);
  rejects('name = ""\nkernel = "k"\n', 1, "name", /not 1-64/);
  rejects('kernel = "k"\n', 0, "name", /missing/);
  rejects('name = "x"\n', 0, "kernel", /missing/);
  rejects('name = "x"\nkernel = ""\n', 2, "kernel", /empty path/);
});

Deno.test("config: hostile and broken lines", () => {
  rejects(MINIMAL + 'cmdline = "never closed\n', 3, "cmdline", /unterminated string/);
  rejects(MINIMAL + 'cmdline = "bad \\q escape"\n', 3, "cmdline", /unknown escape "\\\\q"/);
  rejects(MINIMAL + "memory 64\n", 3, "memory", /expected "=" after the key, found number 64/);
  rejects(MINIMAL + "memory =\n", 3, "memory", /expected a value.*end of line/);
  rejects(
    MINIMAL + "memory = 64 vcpus = 2\n",
    3,
    "memory",
    /expected the end of the line.*"vcpus"/,
  );
  rejects(MINIMAL + "= 64\n", 3, undefined, /expected a key, found "="/);
  rejects(MINIMAL + "64 = memory\n", 3, undefined, /expected a key, found number 64/);
  rejects(MINIMAL + "memory = 64 @\n", 3, "memory", /unexpected character "@"/);
  rejects(MINIMAL + "disk = [ 'a',\n  'b'\n", 3, "disk", /never closed/);
  rejects(MINIMAL + "disk = [ 'a' 'b' ]\n", 3, "disk", /expected "," or "\]"/);
  rejects(MINIMAL + "disk = [ [ 'a' ] ]\n", 3, "disk", /inside lists/);
  rejects(MINIMAL + "disk = [ , ]\n", 3, "disk", /expected a value/);
  rejects(MINIMAL + "vcpus = 2\n\u0000\u0001garbage", 4, undefined, /NUL byte/);
  rejects(MINIMAL + "name\u00e9 = 1\n", 3, "name", /unexpected character "é"/);
  rejects(MINIMAL + "[ 1 ]\n", 3, undefined, /expected a key/);
  // An error on a later line does not blame an earlier statement's key.
  rejects(MINIMAL + "vcpus = 2\n  'stray string\n", 4, undefined, /unterminated string/);
  // A long line of noise fails fast with a located error.
  rejects(MINIMAL + "x".repeat(100_000) + " = 1\n", 3, "x".repeat(100_000), /unknown key/);
});

Deno.test("config: loading reads the kernel relative to the config file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "xl-config-" });
  try {
    await Deno.mkdir(join(dir, "images"));
    await Deno.writeFile(join(dir, "images", "k.elf"), new Uint8Array([1, 2, 3]));
    const cfg = join(dir, "guest.cfg");
    await Deno.writeTextFile(cfg, 'name = "g"\nkernel = "images/k.elf"\n');
    const loaded = await loadConfig(cfg);
    assert.deepEqual([...loaded.kernel], [1, 2, 3]);
    assert.equal(loaded.config.kernel, join(dir, "images", "k.elf"));

    await Deno.writeTextFile(cfg, 'name = "g"\n\nkernel = "missing.elf"\n');
    await assert.rejects(
      loadConfig(cfg),
      (e: Error) =>
        e instanceof ConfigError && e.line === 3 && e.key === "kernel" &&
        e.message === `${cfg}:3: kernel: cannot read ${join(dir, "missing.elf")}: no such file`,
    );
    await assert.rejects(
      loadConfig(join(dir, "nope.cfg")),
      /nope\.cfg: cannot read the config: no such file/,
    );
    await assert.rejects(loadConfig(dir), /not a regular file/);
    await Deno.writeFile(cfg, new Uint8Array([0x6e, 0x3d, 0xff, 0xfe, 0x0a]));
    await assert.rejects(loadConfig(cfg), /not UTF-8 text/);
    await Deno.writeFile(cfg, new Uint8Array(2 << 20).fill(0x23));
    await assert.rejects(loadConfig(cfg), /too large/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
