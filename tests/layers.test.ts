/*
 * The lesson's sharp line, kept by a test: the machine knows nothing of
 * virtual machines, and devices know nothing of harts or the hypervisor.
 * Each rule names a layer and the layers it must never import.
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
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
  { layer: "src/machine", forbidden: ["src/hypervisor", "src/cli", "workers"] },
  { layer: "src/devices", forbidden: ["src/hypervisor", "src/cli", "workers", "src/machine/hart", "src/machine/board"] },
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
