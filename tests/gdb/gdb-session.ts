/*
 * Driving popek and the real gdb-multiarch from a test: spawned processes
 * whose output is collected as it comes, popek halted under -S with the
 * port it chose, and gdb in batch mode. Every wait is on output, never on
 * the clock.
 */

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chattyGuest } from "../helpers/small-guests.ts";
import { until } from "../helpers/until.ts";

export const POPEK = join(process.cwd(), "bin/popek.js");
const GDB = "gdb-multiarch";
/** A hang-catcher for one process, sized for a loaded two-core host. */
export const LIMIT_MS = 60_000;

function gdbUnavailable(): string | undefined {
  const r = spawnSync(GDB, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? undefined : `${GDB} is not installed (apt-get install gdb-multiarch)`;
}
/** Why the gdb sessions are skipped (gdb-multiarch missing), or undefined. */
export const GDB_SKIP_REASON = gdbUnavailable();
if (GDB_SKIP_REASON !== undefined) console.warn(`tests/gdb: skipping the gdb sessions: ${GDB_SKIP_REASON}`);

interface Exit {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A spawned process with its output collected as it comes. */
export class Proc {
  stdout = "";
  stderr = "";
  readonly exit: Promise<Exit>;
  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding("utf8").on("data", (s: string) => (this.stdout += s));
    child.stderr?.setEncoding("utf8").on("data", (s: string) => (this.stderr += s));
    this.exit = new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (status, signal) => resolve({ status, signal }));
    });
  }
}

/** popek run ARGS --gdb tcp::0 -S, and the port it chose (read from its stderr line). */
export async function popekHalted(...args: string[]): Promise<{ popek: Proc; port: number }> {
  const popek = new Proc(spawn(process.execPath, [POPEK, "run", ...args, "--gdb", "tcp::0", "-S"], { stdio: ["ignore", "pipe", "pipe"], timeout: LIMIT_MS, killSignal: "SIGKILL" }));
  await until("popek's listening line", () => /listening on [^\s]+:\d+/.test(popek.stderr) || popek.child.exitCode !== null);
  const m = /listening on [^\s]+:(\d+) \(target remote :\d+\), (?:harts|vCPUs) halted until continue\n/.exec(popek.stderr);
  if (m === null) throw new Error(`popek did not listen: ${popek.stderr}`);
  return { popek, port: Number(m[1]) };
}

/** gdb-multiarch -batch on `file` (or none), connected to the port, running `commands`. */
export function gdb(port: number, file: string | undefined, commands: string[]): Proc {
  const args = ["-batch", "-nx", ...(file === undefined ? [] : [file]), "-ex", "set architecture riscv:rv64", "-ex", `target remote :${port}`];
  for (const c of commands) args.push("-ex", c);
  return new Proc(spawn(GDB, args, { stdio: ["ignore", "pipe", "pipe"], timeout: LIMIT_MS, killSignal: "SIGKILL" }));
}

/** The values `info registers pc` printed, in order. */
export function pcs(out: string): string[] {
  return [...out.matchAll(/^pc\s+(0x[0-9a-f]+)/gm)].map((m) => m[1]);
}


/**
 * A guest that prints "tick" forever, run under gdb: `continue`, Ctrl-C at
 * gdb's prompt (SIGINT to gdb, which sends 0x03) once the guest is seen
 * running, then `kill`. Both gdb and popek end; what they printed and how
 * they ended is the caller's to check. `popekArgs` places the image in
 * popek's command line (natively or under --virt trap).
 */
export async function interruptThenKill(popekArgs: (image: string) => string[]): Promise<{ out: string; gdbStatus: number | null; popekStatus: number | null }> {
  const image = join(mkdtempSync(join(tmpdir(), "popek-gdb-")), "ticks.bin");
  writeFileSync(image, chattyGuest("tick\n", 0));
  const { popek, port } = await popekHalted(...popekArgs(image));
  const session = gdb(port, undefined, ["continue", "info registers pc", "kill"]);
  await until("the guest runs", () => popek.stdout.includes("tick\n"));
  session.child.kill("SIGINT");
  const [g, p] = await Promise.all([session.exit, popek.exit]);
  return { out: session.stdout + session.stderr, gdbStatus: g.status, popekStatus: p.status };
}
