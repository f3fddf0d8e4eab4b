/*
 * A one-node Slurm cluster of the test's own: munged, slurmctld and slurmd
 * in the foreground (so the test owns their pids), with a fresh munge key,
 * a slurm.conf, state and logs all in a temp directory and ports nobody
 * else uses. Debian's slurm-wlm and munge packages provide the daemons.
 */

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, hostname, tmpdir } from "node:os";
import { join } from "node:path";

const DAEMONS = ["munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo"];

function onPath(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** Why the cluster cannot start here (missing packages, not root), or undefined. */
export function slurmUnavailable(): string | undefined {
  const missing = DAEMONS.filter((d) => !onPath(d));
  if (missing.length > 0) return `${missing.join(", ")} not installed (apt-get install slurm-wlm munge)`;
  if (process.getuid?.() !== 0) return "slurmd must run as root to start jobs (run the test as root, as CI does)";
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface SlurmCluster {
  readonly dir: string;
  /** The environment Slurm's commands need (SLURM_CONF). */
  readonly env: NodeJS.ProcessEnv;
  /** Runs a Slurm command; its stdout, or throws with its stderr. */
  run(cmd: string, args: readonly string[]): string;
  stop(): Promise<void>;
}

function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => c.kill("SIGKILL"), 5000);
    c.once("exit", () => {
      clearTimeout(hard);
      resolve();
    });
    c.kill("SIGTERM");
  });
}

/** Starts the cluster and waits until its node is idle. */
export async function startSlurmCluster(): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), "popek-slurm-"));
  chmodSync(dir, 0o755);
  for (const d of ["munge", "state", "spool", "log"]) mkdirSync(join(dir, d));
  const key = join(dir, "munge", "munge.key");
  const made = spawnSync("mungekey", ["--create", "--keyfile", key, "--force"], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`mungekey: ${made.stderr}`);
  chmodSync(key, 0o600);
  const socket = join(dir, "munge", "sock");
  const node = hostname().split(".")[0]!;
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const conf = join(dir, "slurm.conf");
  writeFileSync(
    conf,
    [
      "ClusterName=popektest",
      `SlurmctldHost=${node}`,
      "SlurmUser=root",
      "AuthType=auth/munge",
      "CredType=cred/munge",
      `AuthInfo=socket=${socket}`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      `StateSaveLocation=${join(dir, "state")}`,
      `SlurmdSpoolDir=${join(dir, "spool")}`,
      `SlurmctldPidFile=${join(dir, "slurmctld.pid")}`,
      `SlurmdPidFile=${join(dir, "slurmd.pid")}`,
      `SlurmctldLogFile=${join(dir, "log", "slurmctld.log")}`,
      `SlurmdLogFile=${join(dir, "log", "slurmd.log")}`,
      // No cgroups in a container: plain process tracking, no task containment, no accounting.
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_CPU",
      "ReturnToService=2",
      "MpiDefault=none",
      `NodeName=${node} CPUs=${cpus().length} State=UNKNOWN`,
      "PartitionName=popek Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
      "",
    ].join("\n"),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const daemon = (cmd: string, args: string[]) => {
    const c = spawn(cmd, args, { env, stdio: "ignore" });
    children.push(c);
  };
  const run = (cmd: string, args: readonly string[]): string => {
    const r = spawnSync(cmd, args, { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.error?.message}`);
    return r.stdout;
  };
  const stop = async () => {
    for (const c of children.reverse()) await stopChild(c);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    daemon("munged", ["-F", "--force", "--key-file", key, "--socket", socket, "--pid-file", join(dir, "munge", "munged.pid"), "--log-file", join(dir, "munge", "log"), "--seed-file", join(dir, "munge", "seed")]);
    await waitFor(() => spawnSync("test", ["-S", socket]).status === 0, "munged's socket", dir);
    daemon("slurmctld", ["-D", "-f", conf]);
    daemon("slurmd", ["-D", "-f", conf]);
    await waitFor(() => {
      const r = spawnSync("sinfo", ["-h", "-o", "%t"], { env, encoding: "utf8" });
      return r.status === 0 && r.stdout.trim() === "idle";
    }, "the node to be idle", dir);
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, env, run, stop };
}

/** Polls `ok` (every 200 ms, up to 30 s); on giving up, the error carries the daemons' logs. */
async function waitFor(ok: () => boolean, what: string, dir: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const log = (f: string) => {
    try {
      return readFileSync(join(dir, "log", f), "utf8").slice(-2000);
    } catch {
      return "(none)";
    }
  };
  throw new Error(`slurm cluster: gave up waiting for ${what}\nslurmctld.log:\n${log("slurmctld.log")}\nslurmd.log:\n${log("slurmd.log")}`);
}
