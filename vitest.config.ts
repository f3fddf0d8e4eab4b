/*
 * The suite must hold on a busy machine (a laptop compiling something, CI
 * sharing its cores): a test that spawns the CLI or boots a guest takes about
 * a second on an idle two-core host and ten times that with both cores taken
 * by another job. vitest's 5 s default fails such tests for the load, not for
 * a bug, so every test gets a minute; tests that boot guests set their own,
 * longer limits. These are hang-catchers only: no test waits for them to pass
 * (tests wait on what the guest prints or the state it reaches).
 */

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
