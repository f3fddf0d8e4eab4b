/*
 * `popek trace FILE [--summary] [--perfetto OUT.json]`: what a traced run
 * (popek run --trace) recorded, as a table or as a timeline.
 */

import { writeFileSync } from "node:fs";
import { ConfigError } from "../errors.ts";
import { toPerfetto } from "../trace/perfetto.ts";
import { readTrace } from "../trace/read.ts";
import { formatSummary } from "../trace/summary.ts";

export function traceCommand(file: string, flags: { summary?: boolean; perfetto?: string }): number {
  const trace = readTrace(file);
  if (flags.perfetto !== undefined) {
    const json = toPerfetto(trace);
    try {
      writeFileSync(flags.perfetto, JSON.stringify(json));
    } catch (e) {
      throw new ConfigError(`--perfetto: cannot write ${flags.perfetto}: ${(e as Error).message}`);
    }
    process.stderr.write(`popek: ${json.traceEvents.filter((e) => e.ph === "X").length} exits written to ${flags.perfetto} (open it at https://ui.perfetto.dev)\n`);
  }
  if (flags.summary === true || flags.perfetto === undefined) process.stdout.write(formatSummary(trace));
  return 0;
}
