/**
 * End to end: `deno task run`, the showcase, exactly as README's first command runs it (with the
 * task's own permissions), finishes well under a minute with every guest doing what it should.
 */
import assert from "node:assert/strict";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

Deno.test("deno task run boots the PV guests, shows prefixed consoles and xl list, ends cleanly", async () => {
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "run"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, `${stdout}\n${new TextDecoder().decode(out.stderr)}`);
  assert.ok(seconds < 45, `took ${seconds.toFixed(1)} s`);
  for (const name of ["hello", "primes", "primes-w512", "memtest", "ping", "pong", "hostile"]) {
    assert.match(stdout, new RegExp(`^\\[d\\d+ ${name}\\] pvkernel: booting mode=xen`, "m"));
  }
  assert.match(stdout, /^\[d\d+ hello\] hello: hello from a U-mode application/m);
  assert.match(
    stdout,
    /^\[d\d+ hostile\] hostile: summary attempts=\d+ ok=\d+ denied=0 failed=0$/m,
  );
  assert.match(stdout, /^Name {40}ID {3}Mem VCPUs\tState\tTime\(s\)$/m);
  assert.match(stdout, /^Domain-0 {37}0 /m);
  assert.match(stdout, /^primes-w512 +\d+ +8 +1 {5}---s-- /m);
  assert.match(stdout, /\[run\] all guests did what they should; every domain destroyed\n$/);
});
