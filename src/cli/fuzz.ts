/*
 * `popek fuzz [--seed N] [--count N] [--lockstep] [--exit-handler main|vcpu|both] [--aligned-mmio]`:
 * random guests natively and under --virt trap, compared (src/lab/fuzz.ts).
 * One line per seed; exits 1 if anything was found, with each finding and
 * the command that replays it.
 */

import pc from "picocolors";
import { fuzz, type FuzzFinding } from "../lab/fuzz.ts";
import { parseChoice, parseCount, parseSeconds } from "./options.ts";

export interface FuzzFlags {
  seed?: string;
  count: string;
  items: string;
  lockstep?: boolean;
  exitHandler: string;
  alignedMmio?: boolean;
  timeout: string;
}

export async function fuzzCommand(flags: FuzzFlags): Promise<number> {
  const seed = flags.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : parseCount("--seed", flags.seed, 0, 2 ** 32 - 1);
  const count = parseCount("--count", flags.count, 1, 1_000_000);
  const items = parseCount("--items", flags.items, 1, 100_000);
  const place = parseChoice("--exit-handler", flags.exitHandler, ["main", "vcpu", "both"] as const);
  const timeoutSeconds = parseSeconds("--timeout", flags.timeout);
  process.stdout.write(`popek fuzz: seeds ${seed}..${seed + count - 1}\n`);
  const findings = await fuzz({
    seed,
    count,
    items,
    lockstep: flags.lockstep === true,
    exitHandlers: place === "both" ? ["main", "vcpu"] : [place],
    alignedMmioOnly: flags.alignedMmio === true,
    timeoutSeconds,
    onCase: (s, found) => process.stdout.write(`seed ${s}: ${found.length === 0 ? pc.green("ok") : pc.red(`${found.length} finding(s)`)}\n`),
  });
  for (const f of findings) process.stdout.write(formatFinding(f, flags));
  process.stdout.write(`popek fuzz: ${count} seed(s), ${findings.length} finding(s)\n`);
  return findings.length === 0 ? 0 : 1;
}

function formatFinding(f: FuzzFinding, flags: FuzzFlags): string {
  const replay = `popek fuzz --seed ${f.seed} --count 1 --items ${flags.items}${flags.lockstep ? " --lockstep" : ""}${flags.alignedMmio ? " --aligned-mmio" : ""}`;
  return `${pc.red(`seed ${f.seed}`)} ${f.guest} ${f.kind}: ${f.detail}\n  replay: ${replay}\n`;
}
