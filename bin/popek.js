#!/usr/bin/env node
// The `popek` command: runs the TypeScript sources under tsx, so `npx popek`
// works right after `npm ci` with no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
