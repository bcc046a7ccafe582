/**
 * The dependency-direction check of the gate: every import in a workspace member must be a
 * relative path inside that member, a `node:` module, an `npm:` package, or a bare
 * `@paravirt/<member>` name that the architecture allows that member to depend on. No relative
 * import may leave its member (so no one reaches another package's private `_files`), and the
 * allowed graph itself must be acyclic.
 *
 * @module
 */

import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Allowed dependencies per member (ARCHITECTURE.md section 2). */
export const ALLOWED: Record<string, string[]> = {
  public: [],
  mmu: [],
  elf: [],
  cpu: ["mmu"],
  events: ["public", "mmu"],
  hypervisor: ["public", "mmu", "cpu", "elf", "events"],
  drivers: ["public", "mmu", "events"],
  board: ["cpu", "mmu", "elf"],
  guests: ["public"],
  dom0: ["public", "mmu", "events", "hypervisor", "drivers"],
  tests: [
    "public",
    "mmu",
    "elf",
    "cpu",
    "board",
    "guests",
    "events",
    "hypervisor",
    "drivers",
    "dom0",
  ],
};

/** Finds cycles in a dependency graph; returns one cycle as a list of names, or undefined. */
export function findCycle(graph: Record<string, string[]>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "visiting") return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, "visiting");
    stack.push(node);
    for (const next of graph[node] ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of Object.keys(graph)) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

const IMPORT =
  /(?:import|export)\s[^"';]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;

/** Returns the violations found in the workspace rooted at `root`. */
export async function checkWorkspace(root: string): Promise<string[]> {
  const problems: string[] = [];
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const members: string[] = config.workspace.map((m: string) => m.replace(/^\.\//, ""));
  for (const member of members) {
    if (!(member in ALLOWED)) problems.push(`member ${member} is missing from the allowed graph`);
  }
  const cycle = findCycle(ALLOWED);
  if (cycle) problems.push(`dependency cycle: ${cycle.join(" -> ")}`);
  for (const member of members) {
    const base = join(root, member);
    for await (const file of walk(base)) {
      // Comments hold usage examples that import the package itself; only code counts.
      const text = (await Deno.readTextFile(file)).replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, "");
      for (const match of text.matchAll(IMPORT)) {
        const specifier = match[1] ?? match[2] ?? match[3];
        const where = `${relative(root, file)}: import "${specifier}"`;
        if (specifier.startsWith(".")) {
          const target = resolve(dirname(file), specifier);
          if (!target.startsWith(base + "/")) problems.push(`${where} leaves package ${member}`);
        } else if (specifier.startsWith("@paravirt/")) {
          const name = specifier.slice("@paravirt/".length);
          if (name.includes("/")) problems.push(`${where} reaches inside another package`);
          else if (!(ALLOWED[member] ?? []).includes(name)) {
            problems.push(`${where}: ${member} may not depend on ${name}`);
          }
        } else if (!specifier.startsWith("node:") && !specifier.startsWith("npm:")) {
          problems.push(`${where} is not a workspace, node: or npm: import`);
        }
      }
    }
  }
  return problems;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && entry.name !== "node_modules" && !entry.name.startsWith(".")) {
      yield* walk(path);
    } else if (entry.isFile && /\.(ts|tsx|js|mjs)$/.test(entry.name)) {
      yield path;
    }
  }
}

if (import.meta.main) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const problems = await checkWorkspace(root);
  for (const problem of problems) console.error(`deps: ${problem}`);
  if (problems.length > 0) Deno.exit(1);
  console.log("deps: package imports follow the architecture, no cycles");
}
