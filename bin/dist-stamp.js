// Whether dist/ (the compiled JavaScript that `npm run build` writes) is current: its stamp
// is dated when the build started, so a source saved during or after a build reads as newer.
// bin/popek.js asks on every start: a hand-rolled walk of ~100 stats costs ~1 ms in a fresh
// process, where readdirSync's `recursive` option cost 9-45 ms.
import { readdirSync, statSync } from "node:fs";

/** What dist/ is compiled (and bundled) from: a newer file under these makes it stale. */
const SOURCE_DIRS = ["src", "workers", "bench"];
const SOURCE_FILES = ["tsconfig.json", "tsconfig.build.json", "bin/bundle.js"];

export const STAMP = "dist/.stamp";

/** The newest modification time (ms) of the files under `dir`. */
function newestUnder(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** True when dist/ has been built and no source under `root` is newer than its stamp. */
export function distIsFresh(root) {
  const built = statSync(`${root}/${STAMP}`, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return false;
  let newest = 0;
  for (const dir of SOURCE_DIRS) newest = Math.max(newest, newestUnder(`${root}/${dir}`));
  for (const file of SOURCE_FILES) newest = Math.max(newest, statSync(`${root}/${file}`).mtimeMs);
  return newest <= built;
}
