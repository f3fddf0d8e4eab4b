/*
 * `popek diff IMAGE`: the lockstep differential check (src/lab/lockstep.ts)
 * from the command line — IMAGE natively and under --virt trap, compared at
 * every exit. Prints the first divergence (pc, instruction, what differs)
 * and exits 1, or one line saying they agreed and exits 0.
 */

import { ConfigError } from "../errors.ts";
import { lockstep } from "../lab/lockstep.ts";
import { readImageFile } from "../machine/image.ts";
import { parseChoice, parseMemSize, parseSeconds } from "./options.ts";

export interface DiffFlags {
  mem: string;
  bios?: string;
  timeout?: string;
  virt?: string;
}

export async function diffCommand(image: string, flags: DiffFlags): Promise<number> {
  if (flags.bios !== undefined && flags.bios !== "none") {
    throw new ConfigError("--bios: popek diff compares M-mode images (--bios none); natively a firmware has no counterpart under --bios hv");
  }
  const memSize = parseMemSize(flags.mem);
  const timeoutSeconds = flags.timeout === undefined ? 60 : parseSeconds("--timeout", flags.timeout);
  const virt = parseChoice("--virt", flags.virt ?? "trap", ["trap", "hw"] as const);
  const r = await lockstep(readImageFile(image, "kernel"), { memSize, timeoutSeconds, hw: virt === "hw" });
  const d = r.divergence;
  if (d === undefined) {
    process.stdout.write(`popek diff: ${image}: native and --virt ${virt} agree at all ${r.exits} exits and end alike (status ${r.trapResult.exitCode}); ${r.inputs} input values (clock, counters) replayed\n`);
    return 0;
  }
  process.stdout.write(`popek diff: ${image}: first divergence after ${d.exits} agreeing exits\n  pc ${d.pc}: ${d.instruction}\n  ${d.what}\n`);
  return 1;
}
