// Bundles the CLI that tsc compiled to dist/ into dist/bundle/: its entry (main.js) and chunks
// that only some commands load (each command's `await import()` stays a lazy chunk). Node then
// resolves, reads and compiles ~14 files for `popek run hello.elf` instead of ~100 modules, the
// largest part of its start-up (issue 17). Worker threads keep running tsc's per-module files
// under dist/, which this step leaves in place.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";

/** The bundle's directory, under the build's root (dist/). */
const BUNDLE_DIR = "bundle";

/**
 * `import.meta.url` in a bundled module would name the chunk, not the module: rewritten to the
 * module's own compiled file, relative to the chunk, so `new URL("./blk-io.js", import.meta.url)`
 * finds the worker it names and the bundle still works wherever the checkout is moved to.
 */
function keepModuleUrls(outdir) {
  return {
    name: "keep-module-urls",
    setup(build) {
      build.onLoad({ filter: /\.js$/ }, async (args) => {
        if (args.path.includes("/node_modules/")) return undefined;
        const text = await readFile(args.path, "utf8");
        if (!text.includes("import.meta.url")) return { contents: text, loader: "js" };
        const own = `new URL(${JSON.stringify(relative(outdir, args.path))}, import.meta.url).href`;
        return { contents: text.replaceAll("import.meta.url", own), loader: "js" };
      });
    },
  };
}

/**
 * commander requires node:child_process when it loads, for executable subcommands (popek has
 * none); that module brings net, dgram and their bindings, ~1.1 ms of every start. In the bundle,
 * commander gets a stand-in that requires it at first use instead.
 */
function lazyChildProcess() {
  return {
    name: "lazy-child-process",
    setup(build) {
      build.onResolve({ filter: /^node:child_process$/ }, (args) =>
        args.importer.includes("/node_modules/commander/") ? { path: "child_process", namespace: "lazy-builtin" } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, () => ({
        contents: 'module.exports = new Proxy({}, { get: (_, key) => require("node:child_process")[key] });',
        loader: "js",
      }));
    },
  };
}

/**
 * Packages bundled in rather than loaded from node_modules: commander, which every command
 * loads. It is CommonJS, and Node 20 imports CommonJS into ES modules through a lexer of its own
 * (WebAssembly, compiled at first use) that cost `popek run hello.elf` ~15 ms of CPU; bundled,
 * it is plain code in the entry. The rest load as before, and only in the commands using them.
 */
const BUNDLED_PACKAGES = ["commander"];

/**
 * The bundled CommonJS requires Node's built-ins (node:events, ...) by name: ES modules have no
 * `require`, so each bundled file makes its own.
 */
const REQUIRE_BANNER = 'import { createRequire as __popekRequire } from "node:module";\nconst require = __popekRequire(import.meta.url);';

/** Bundles dist/src/cli/main.js into dist/bundle/main.js (and its chunks). */
export async function bundleCli(dist) {
  const { build } = await import("esbuild");
  const outdir = join(dist, BUNDLE_DIR);
  const { dependencies } = JSON.parse(readFileSync(join(dist, "..", "package.json"), "utf8"));
  const external = Object.keys(dependencies).filter((name) => !BUNDLED_PACKAGES.includes(name));
  await build({
    entryPoints: [join(dist, "src", "cli", "main.js")],
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // The other dependencies stay packages Node loads from node_modules, as without the bundle.
    external,
    banner: { js: REQUIRE_BANNER },
    // Chunks beside the entry: every bundled file sits in one directory, as keepModuleUrls assumes.
    entryNames: "[name]",
    chunkNames: "[name]-[hash]",
    // `node --enable-source-maps` maps a bug's stack back to dist/'s files. Names are kept, so a
    // stack reads without it too; the rest of minifying saves ~4 ms of parsing per start.
    sourcemap: "linked",
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: "warning",
    plugins: [keepModuleUrls(outdir), lazyChildProcess()],
  });
}
