#!/usr/bin/env node
// Compiles src/, workers/ and bench/ to dist/ (tsconfig.build.json), then bundles the CLI into
// dist/bundle/ (bin/bundle.js), so `popek` starts without compiling TypeScript at run time.
// Run by npm's `prepare` (on `npm ci`) and before `npm test`; `--if-stale` skips the build when
// dist/ is already current.
import { spawnSync } from "node:child_process";
import { closeSync, openSync, rmSync, utimesSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleCli } from "./bundle.js";
import { distIsFresh, STAMP } from "./dist-stamp.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
if (process.argv.includes("--if-stale") && distIsFresh(root)) process.exit(0);

// Dated before compiling: a source edited while tsc runs leaves dist/ stale, as it should.
const started = new Date();
rmSync(join(root, "dist"), { recursive: true, force: true });
// typescript exports no bin/ path: find its package and run bin/tsc with this Node.
let tsc;
try {
  tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
} catch {
  // Installed without devDependencies: no compiler, so popek runs its sources under tsx.
  console.error("build: typescript is not installed; popek runs the sources under tsx");
  process.exit(0);
}
const built = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (built.status !== 0) {
  console.error("build: tsc failed; popek keeps running the sources under tsx");
  process.exit(built.status ?? 1);
}
try {
  await bundleCli(join(root, "dist"));
} catch (e) {
  // esbuild has printed what failed; without a stamp popek keeps to the sources.
  console.error(`build: bundling failed (${e.message.split("\n")[0]}); popek keeps running the sources under tsx`);
  process.exit(1);
}
closeSync(openSync(join(root, STAMP), "w"));
utimesSync(join(root, STAMP), started, started);
