#!/usr/bin/env node
// The `popek` command: runs the compiled JavaScript in dist/ when it is current (built by
// `npm ci` through `prepare`, or `npm run build`), so start-up costs no TypeScript compile;
// otherwise (sources edited since, or never built) the sources themselves, under tsx. From
// dist/ it loads the bundle (bin/bundle.js): a few files rather than ~100 modules.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { distIsFresh } from "./dist-stamp.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
if (distIsFresh(root)) {
  await import("../dist/bundle/main.js");
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/main.ts");
}
