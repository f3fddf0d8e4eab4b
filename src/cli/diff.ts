/*
 * `popek diff IMAGE [--bios FIRMWARE]`: the lockstep differential check
 * (src/lab/lockstep.ts) from the command line — IMAGE natively and under
 * --virt trap (or hw), compared at every exit; with a firmware, IMAGE is the
 * S-mode kernel it starts, and the firmware runs beneath it on both sides. Prints the first divergence (pc, instruction, what differs)
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
  if (flags.bios === "hv") {
    throw new ConfigError("--bios hv: the hypervisor's own SBI has no native counterpart; give the firmware itself (--bios fw_jump.elf) to run beneath the kernel on both sides");
  }
  const firmware = flags.bios === undefined || flags.bios === "none" ? undefined : readImageFile(flags.bios, "bios");
  const memSize = parseMemSize(flags.mem);
  const timeoutSeconds = flags.timeout === undefined ? 60 : parseSeconds("--timeout", flags.timeout);
  const virt = parseChoice("--virt", flags.virt ?? "trap", ["trap", "hw"] as const);
  const r = await lockstep(readImageFile(image, "kernel"), { memSize, timeoutSeconds, hw: virt === "hw", firmware });
  const d = r.divergence;
  if (d === undefined) {
    process.stdout.write(`popek diff: ${image}: native and --virt ${virt} agree at all ${r.exits} exits and end alike (status ${r.trapResult.exitCode}); ${r.inputs} input values (clock, counters) replayed\n`);
    return 0;
  }
  process.stdout.write(`popek diff: ${image}: first divergence after ${d.exits} agreeing exits\n  pc ${d.pc}: ${d.instruction}\n  ${d.what}\n`);
  return 1;
}
