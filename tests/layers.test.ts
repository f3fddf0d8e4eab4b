/*
 * The lesson's sharp line, kept by a test: the machine knows nothing of
 * virtual machines, and devices know nothing of harts or the hypervisor.
 * Each rule names a layer and the layers it must never import. And no
 * import cycles, between files or between components (src/<dir>, workers,
 * bench): a cycle means two parts that cannot be read, tested or replaced
 * one without the other.
 */

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = process.cwd();

function sourcesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourcesUnder(path));
    else if (path.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Repository-relative paths a file imports (relative imports only). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']/g)].map((m) => m[1]);
  return specs.filter((s) => s.startsWith(".")).map((s) => relative(ROOT, resolve(dirname(file), s)));
}

const RULES: { layer: string; forbidden: string[] }[] = [
  { layer: "src/isa", forbidden: ["src/machine", "src/devices", "src/hypervisor", "src/cli", "workers"] },
  { layer: "src/machine", forbidden: ["src/hypervisor", "src/cli", "src/gdb", "workers"] },
  // The GDB stub debugs the machine through its debug hooks (dcsr.ts, debug.ts); the tools start it, never the other way round.
  { layer: "src/gdb", forbidden: ["src/hypervisor", "src/cli", "src/lab", "bench", "workers"] },
  { layer: "src/devices", forbidden: ["src/hypervisor", "src/cli", "workers", "src/machine/hart", "src/machine/board"] },
  // The virtual network knows frames, not machines: NICs attach to it through SwitchPort.
  { layer: "src/net", forbidden: ["src/machine", "src/devices", "src/hypervisor", "src/cli", "workers"] },
  // The hypervisor is used by the tools, never the other way round; workers are its entry points, not its library.
  { layer: "src/hypervisor", forbidden: ["src/cli", "src/lab", "src/report", "bench", "workers"] },
  // Report formatting belongs to neither the CLI nor the benchmarks: both use it.
  { layer: "src/report", forbidden: ["src/cli", "src/lab", "bench", "workers"] },
  // Exit traces read the hypervisor's records; the tools use them, never the other way round.
  { layer: "src/trace", forbidden: ["src/cli", "src/lab", "bench", "workers"] },
  { layer: "src/lab", forbidden: ["src/cli", "bench", "workers"] },
  { layer: "bench", forbidden: ["src/cli", "src/lab"] },
];

describe("layering", () => {
  for (const { layer, forbidden } of RULES) {
    it(`${layer} imports none of ${forbidden.join(", ")}`, () => {
      const crossings: string[] = [];
      for (const file of sourcesUnder(join(ROOT, layer))) {
        for (const target of importsOf(file)) {
          if (forbidden.some((f) => target === f || target.startsWith(`${f}/`) || target.startsWith(f))) {
            crossings.push(`${relative(ROOT, file)} -> ${target}`);
          }
        }
      }
      expect(crossings).toEqual([]);
    });
  }

  it("finds imports at all (the scanner is not blind)", () => {
    expect(importsOf(join(ROOT, "src/machine/board.ts"))).toContain("src/devices/clint.ts");
  });
});

// ---- import cycles ----

/** Every source file under the given directories (TypeScript and JavaScript), repository-relative. */
function modulesUnder(dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|js|mjs)$/.test(name) && !name.endsWith(".d.ts")) out.push(relative(ROOT, path));
    }
  };
  for (const d of dirs) walk(join(ROOT, d));
  return out.sort();
}

/**
 * Relative imports of a file, resolved to repository-relative paths: static
 * imports and re-exports (`import type` too: a type-only cycle is still two
 * files that cannot be understood apart), side-effect imports, and dynamic
 * imports of a literal path.
 */
function edgesOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const pattern = /(?:^|[\s;])(?:import|export)\s+(?:[^'";]*?\sfrom\s+)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;
  const out: string[] = [];
  for (const m of text.matchAll(pattern)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith(".")) continue;
    const base = resolve(dirname(join(ROOT, file)), spec);
    const found = [base, `${base}.ts`, `${base}.js`, join(base, "index.ts")].find((p) => existsSync(p) && statSync(p).isFile());
    out.push(relative(ROOT, found ?? base));
  }
  return out;
}

type Graph = ReadonlyMap<string, readonly string[]>;

/** Strongly connected components with a cycle in them (Tarjan), each as its sorted members. */
function cyclicComponents(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const members: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      members.push(w);
    } while (w !== v);
    if (members.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(members.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}

/** One concrete cycle through the first member of a component: a → b → … → a, for the failure message. */
function cycleThrough(graph: Graph, members: readonly string[]): string {
  const inside = new Set(members);
  const start = members[0];
  const path: string[] = [start];
  const seen = new Set<string>([start]);
  const search = (v: string): boolean => {
    for (const w of graph.get(v) ?? []) {
      if (w === start) return true;
      if (!inside.has(w) || seen.has(w)) continue;
      seen.add(w);
      path.push(w);
      if (search(w)) return true;
      path.pop();
    }
    return false;
  };
  search(start);
  return [...path, start].join(" -> ");
}

/**
 * The machine's world is one component here: the board (src/machine) builds
 * devices, and devices use the machine's names (riscv.ts, u64.ts) — a
 * two-way link by design, whose allowed directions the RULES above state
 * file by file.
 */
const MACHINE_WORLD = "src/{isa,machine,devices}";
const IN_MACHINE_WORLD = new Set(["src/isa", "src/machine", "src/devices"]);

/** The component a file belongs to: src/<dir> (the machine's world as one), workers, bench; a file directly in src/ is one of its own. */
function componentOf(file: string): string {
  const parts = file.split("/");
  if (parts[0] !== "src") return parts[0];
  if (parts.length === 2) return file;
  const dir = `${parts[0]}/${parts[1]}`;
  return IN_MACHINE_WORLD.has(dir) ? MACHINE_WORLD : dir;
}

function componentGraph(files: Graph): Graph {
  const graph = new Map<string, Set<string>>();
  for (const [file, targets] of files) {
    const from = componentOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const t of targets) if (files.has(t) && componentOf(t) !== from) edges.add(componentOf(t));
  }
  return new Map([...graph].map(([k, v]) => [k, [...v].sort()]));
}

/**
 * Cycles allowed by name, each with its exact members: none today. An entry
 * whose cycle is gone fails the test too, so none lingers; a new cycle, or a
 * known one that grows, fails it.
 */
const KNOWN_FILE_CYCLES: Record<string, readonly string[]> = {};
const KNOWN_COMPONENT_CYCLES: Record<string, readonly string[]> = {};

/** The cycles found that no allow-list entry names, and the allow-list entries that match no cycle. */
function judge(found: readonly string[][], known: Record<string, readonly string[]>, graph: Graph): { unknown: string[]; stale: string[] } {
  const key = (members: readonly string[]): string => [...members].sort().join(" ");
  const knownKeys = new Map(Object.entries(known).map(([name, members]) => [key(members), name]));
  const foundKeys = new Set(found.map(key));
  return {
    unknown: found.filter((c) => !knownKeys.has(key(c))).map((c) => `${cycleThrough(graph, c)}   (members: ${c.join(", ")})`),
    stale: [...knownKeys].filter(([k]) => !foundKeys.has(k)).map(([, name]) => `"${name}" is gone: delete its allow-list entry`),
  };
}

describe("import cycles (src, workers, bench)", () => {
  const files: Graph = new Map(modulesUnder(["src", "workers", "bench"]).map((f) => [f, edgesOf(f)]));

  it("no file imports itself through others (relative imports, import type included)", () => {
    const verdict = judge(cyclicComponents(files), KNOWN_FILE_CYCLES, files);
    expect(verdict.unknown, "new import cycles").toEqual([]);
    expect(verdict.stale).toEqual([]);
  });

  it("no component (src/<dir>, workers, bench) imports itself through others", () => {
    expect(componentOf("src/devices/uart16550.ts")).toBe(MACHINE_WORLD);
    expect(componentOf("src/hypervisor/exits/sbi.ts")).toBe("src/hypervisor");
    const components = componentGraph(files);
    const verdict = judge(cyclicComponents(components), KNOWN_COMPONENT_CYCLES, components);
    expect(verdict.unknown, "new component cycles").toEqual([]);
    expect(verdict.stale).toEqual([]);
  });

  it("the scanner sees every kind of import: type-only, side-effect, dynamic, re-export", () => {
    expect(edgesOf("src/hypervisor/vcpu-threads.ts")).toContain("src/hypervisor/vcpu-finished.ts"); // import type
    expect(edgesOf("workers/vcpu-boot.js")).toContain("workers/vcpu.ts"); // await import("./vcpu.ts")
    expect(files.size).toBeGreaterThan(50);
  });

  it("the detector finds a cycle, names its files, and tells new cycles from known and stale ones", () => {
    const graph: Graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts", "d.ts"]],
      ["c.ts", ["a.ts"]],
      ["d.ts", []],
      ["e.ts", ["e.ts"]],
    ]);
    const found = cyclicComponents(graph);
    expect(found).toEqual([["a.ts", "b.ts", "c.ts"], ["e.ts"]]);
    expect(cycleThrough(graph, found[0])).toBe("a.ts -> b.ts -> c.ts -> a.ts");
    const verdict = judge(found, { "a-b-c": ["c.ts", "b.ts", "a.ts"], gone: ["x.ts", "y.ts"] }, graph);
    expect(verdict.unknown).toEqual(["e.ts -> e.ts   (members: e.ts)"]);
    expect(verdict.stale).toEqual(['"gone" is gone: delete its allow-list entry']);
  });

  it("hypervisor -> workers is gone: the vCPU's message type lives in src/hypervisor", () => {
    expect(componentGraph(files).get("src/hypervisor")).not.toContain("workers");
  });
});
