/**
 * `deno task ok`, the gate: format check, lint, type check, doc lint, dependency-direction check,
 * the whole test suite, and a publish dry run of every member. Runs every step, prints a summary,
 * and fails if any step failed.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
const members: string[] = config.workspace.map((m: string) => m.replace(/^\.\//, ""));
const entryPoints = members.map((m) => `${m}/mod.ts`);
const deno = Deno.execPath();

const steps: [string, string[]][] = [
  ["format", ["fmt", "--check"]],
  ["lint", ["lint"]],
  ["type check", ["check", "."]],
  ["doc lint", ["doc", "--lint", ...entryPoints]],
  ["dependencies", ["run", "--allow-read", "scripts/check_deps.ts"]],
  ["tests", ["test", "--allow-all", "--parallel"]],
  ["publish dry run", ["publish", "--dry-run", "--allow-dirty"]],
];

const results: [string, boolean, number][] = [];
for (const [name, args] of steps) {
  console.log(`\n=== ${name}: deno ${args.join(" ")}`);
  const started = performance.now();
  const { success } = await new Deno.Command(deno, {
    args,
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  results.push([name, success, (performance.now() - started) / 1000]);
}
console.log("\n=== gate summary");
for (const [name, success, seconds] of results) {
  console.log(`${success ? "ok  " : "FAIL"} ${name} (${seconds.toFixed(1)} s)`);
}
if (results.some(([, success]) => !success)) Deno.exit(1);
