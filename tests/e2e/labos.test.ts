/*
 * End to end: labos, popek's teaching kernel (guests/labos), behind Debian's
 * OpenSBI on the native board with 1 and 4 harts, running its default set
 * of programs to a clean power-off; and the same boots under QEMU's virt
 * board, which must give the same functional results (pass lines, counts,
 * checksums; never timings). QEMU also has the virtio devices popek does not
 * have yet, so diskperf and netperf do real I/O there. And the same workloads
 * deprivileged (`popek run --virt trap`, on shadow page tables and the
 * hypervisor's SBI) with 1 and 4 vCPUs, which must give the native results.
 *
 * Every run waits for the guest to power off (or for a generous timeout):
 * nothing here depends on how fast this machine is.
 */

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseLabosResults as results } from "../../bench/labos-run.ts";
import { bootImages, type BootOutcome } from "../helpers/boot.ts";
import { Board } from "../../src/machine/board.ts";
import { readImageFile } from "../../src/machine/image.ts";
import { runBoard } from "../../src/machine/runner.ts";

const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const LABOS = "guests/bin/labos.elf";
const QEMU = "qemu-system-riscv64";
const HAVE_OPENSBI = existsSync(OPENSBI) || process.env.CI === "true";
const HAVE_QEMU = spawnSync(QEMU, ["--version"]).status === 0;
const PROGRAMS = ["nanobench", "cpubench", "forkbench", "smpbench", "diskperf", "netperf"];
const NANOBENCH_TESTS = ["null_syscall", "csr_path", "page_fault", "pte_flush", "tlb_walk", "ctx_switch", "timer_irq"];
/**
 * What each hart count runs: 1 hart the default set (no command line), 4
 * harts every program named, with lighter arguments (four harts interleave
 * in one thread here), and what those arguments must produce. The
 * checksums are QEMU's for the same number of passes.
 */
interface Workload {
  readonly append?: string;
  readonly cpubenchLine: string;
  readonly forks: number;
  readonly addsPerHart: number;
}
const WORKLOADS: Readonly<Record<number, Workload>> = {
  1: { cpubenchLine: "cpubench: passes 8 checksum d26a2ca2b00c8d1d", forks: 100, addsPerHart: 20000 },
  4: {
    append: "nanobench cpubench:2 forkbench:40 smpbench:5000 diskperf netperf",
    cpubenchLine: "cpubench: passes 2 checksum 60b99e61e923189",
    forks: 40,
    addsPerHart: 5000,
  },
};
const RUN_TIMEOUT_S = 150;
const TEST_TIMEOUT_MS = 200_000;

/**
 * The lines of a run that any correct machine prints the same: pass/fail,
 * init's reports, checksums and counts, and each result's name and op count
 * (timer_irq's count is how many ticks fell in a time span: left out).
 */
function functional(output: string): string[] {
  const keep = /^(pass \w+|fail \w+|init: .*|cpubench: .*|forkbench: .*|smpbench: (harts|ipi) .*|diskperf: .*|labos: (\d+ harts running|init exited .*|no program .*))$/;
  const lines = output.split(/\r?\n/).filter((l) => keep.test(l));
  for (const m of output.matchAll(/^netperf: (sent \d+ frames, \d+ bytes)/gm)) lines.push(`netperf: ${m[1]}`);
  for (const r of results(output)) {
    const hart = r.fields.hart === undefined ? "" : ` hart=${r.fields.hart}`;
    lines.push(r.name === "nanobench.timer_irq" ? r.name : `${r.name}${hart} n=${r.fields.n}`);
  }
  return lines;
}

function bootLabos(harts: number, append?: string): Promise<BootOutcome> {
  return bootImages(
    { firmware: readImageFile(OPENSBI, "bios"), kernel: readImageFile(LABOS, "kernel"), append },
    { harts, timeoutSeconds: RUN_TIMEOUT_S },
  );
}

/**
 * Boots labos and types `line` once the guest has printed `prompt`, the way
 * a person would (input sent before boot would meet OpenSBI's UART set-up,
 * which reads the receive buffer).
 */
async function bootAndType(append: string, prompt: string, line: string): Promise<{ output: string; exitCode: number }> {
  let output = "";
  let typed = false;
  const board: Board = new Board({
    harts: 1,
    memSize: 128 * 2 ** 20,
    clock: "real",
    output: (b) => {
      output += String.fromCharCode(b);
      if (!typed && output.endsWith(prompt)) {
        typed = true;
        setImmediate(() => board.uart.receive(new TextEncoder().encode(line)));
      }
    },
  });
  board.boot({ firmware: readImageFile(OPENSBI, "bios"), kernel: readImageFile(LABOS, "kernel"), append });
  const r = await runBoard(board, { timeoutSeconds: RUN_TIMEOUT_S });
  return { output, exitCode: r.exitCode };
}

/** The workload on popek, once per hart count (the QEMU comparison reuses it). */
const nativeRuns = new Map<number, Promise<BootOutcome>>();
function nativeRun(harts: number): Promise<BootOutcome> {
  let run = nativeRuns.get(harts);
  if (run === undefined) {
    run = bootLabos(harts, WORKLOADS[harts].append);
    nativeRuns.set(harts, run);
  }
  return run;
}

interface QemuRun {
  readonly output: string;
  readonly status: number | null;
}

/** Boots labos under QEMU's virt board; resolves when QEMU exits (labos powers off) or at the timeout. */
function qemu(harts: number, extra: readonly string[] = [], append?: string, onOutput?: (soFar: string) => void): Promise<QemuRun> {
  const args = ["-machine", "virt", "-smp", String(harts), "-m", "128M", "-nographic", "-bios", OPENSBI, "-kernel", LABOS, ...extra];
  if (append !== undefined) args.push("-append", append);
  return new Promise((resolve) => {
    const child = spawn(QEMU, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString("latin1");
      onOutput?.(output);
    });
    child.stderr.on("data", (d: Buffer) => (output += d.toString("latin1")));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_S * 1000);
    child.on("exit", (status) => {
      clearTimeout(timer);
      resolve({ output, status });
    });
  });
}

/** What every clean run of the six programs shows. */
function expectWorkload(output: string, harts: number): void {
  const w = WORKLOADS[harts];
  expect(output).not.toMatch(/^fail |panic/m);
  for (const p of PROGRAMS) {
    expect(output, `${p} passed`).toMatch(new RegExp(`^pass ${p}$`, "m"));
    expect(output, `${p} exited 0`).toMatch(new RegExp(`^init: ${p} exited 0$`, "m"));
  }
  expect(output).toMatch(/^init: 6 programs, 0 failed$/m);
  expect(output).toMatch(/^labos: init exited with status 0, powering off$/m);
  expect(output).toContain(`labos: ${harts} harts running`);
  const names = results(output).map((r) => r.name);
  for (const t of NANOBENCH_TESTS) expect(names, `nanobench ${t}`).toContain(`nanobench.${t}`);
  expect(output).toContain(w.cpubenchLine);
  expect(output).toContain(`forkbench: ${w.forks} processes, 0 bad statuses`);
  const adds = harts * w.addsPerHart;
  expect(output).toContain(`smpbench: harts ${harts} counter ${adds} expected ${adds}`);
  if (harts === 1) expect(output).toContain("smpbench: ipi skipped, 1 hart");
  else {
    expect(output).toContain(`smpbench: ipi to ${harts - 1} harts ok`);
    const ipis = results(output).filter((r) => r.name === "smpbench.ipi");
    expect(ipis.map((r) => r.fields.hart)).toEqual(Array.from({ length: harts - 1 }, (_, i) => i + 1));
    expect(results(output).find((r) => r.name === "smpbench.shootdown")?.fields.n).toBe(100);
  }
  for (const r of results(output)) expect(r.fields.n, `${r.name} counted its operations`).toBeGreaterThan(0);
}

describe.runIf(HAVE_OPENSBI)("labos on the native board, behind Debian's OpenSBI", () => {
  for (const harts of [1, 4]) {
    const what = WORKLOADS[harts].append === undefined ? "the default set" : "every program";
    it(`runs ${what} with ${harts} hart(s) and powers off with status 0`, async () => {
      const r = await nativeRun(harts);
      expectWorkload(r.output, harts);
      expect(r.outcome).toBe("finisher");
      expect(r.exitCode).toBe(0);
    }, TEST_TIMEOUT_MS);
  }

  it("runs the program named on the command line and reads console input through the UART interrupt", async () => {
    const r = await bootAndType("console=ttyS0 echo", "echo: type a line\n", "hello labos\n");
    expect(r.output).toContain("echo: hello labos\n");
    expect(r.output).toMatch(/^init: 1 programs, 0 failed$/m);
    expect(r.output).not.toContain("pass nanobench"); // only what was named
    expect(r.exitCode).toBe(0);
  }, TEST_TIMEOUT_MS);

  it("a program that does not exist fails the run with exit status 1", async () => {
    const r = await bootLabos(1, "nosuch");
    expect(r.output).toContain("labos: no program nosuch");
    expect(r.output).toMatch(/^init: nosuch exited 127$/m);
    expect(r.exitCode).toBe(1);
  }, TEST_TIMEOUT_MS);
});

/** Runs labos through the CLI under --virt trap (the hypervisor's SBI, or `bios`); resolves when it exits. */
function trapRun(vcpus: number, append?: string, bios?: string): Promise<QemuRun> {
  const args = ["bin/popek.js", "run", "--virt", "trap", "--vcpus", String(vcpus), "--kernel", LABOS, "--timeout", String(RUN_TIMEOUT_S)];
  if (bios !== undefined) args.push("--bios", bios);
  if (append !== undefined) args.push("--append", append);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (b: Buffer) => (output += b.toString()));
    child.on("close", (status) => resolve({ output, status }));
  });
}

describe.runIf(HAVE_OPENSBI)("labos under --virt trap (shadow page tables)", () => {
  for (const vcpus of [1, 4]) {
    it(`gives the native board's functional results with ${vcpus} vCPU(s)`, async () => {
      const [t, native] = await Promise.all([trapRun(vcpus, WORKLOADS[vcpus].append), nativeRun(vcpus)]);
      expectWorkload(t.output, vcpus);
      expect(t.status).toBe(0);
      expect(functional(t.output)).toEqual(functional(native.output));
    }, TEST_TIMEOUT_MS);
  }
});

/**
 * OpenSBI itself deprivileged: it runs in virtual M-mode and every CSR access
 * of its own is an exit, so an SBI call (IPI, RFENCE) costs thousands of
 * exits. A short workload without smpbench's hundred shootdowns.
 */
const OPENSBI_TRAP_WORKLOAD = "nanobench:100 cpubench:1 forkbench:10 diskperf netperf";
describe.runIf(HAVE_OPENSBI)("labos behind OpenSBI deprivileged (--virt trap --bios fw_jump.elf)", () => {
  it("gives the native board's functional results with 2 vCPUs", async () => {
    const [t, native] = await Promise.all([trapRun(2, OPENSBI_TRAP_WORKLOAD, OPENSBI), bootLabos(2, OPENSBI_TRAP_WORKLOAD)]);
    expect(t.output).toContain("OpenSBI");
    expect(t.output).toContain("labos: 2 harts running");
    expect(t.output).toMatch(/^init: 5 programs, 0 failed$/m);
    expect(t.output).toContain("cpubench: passes 1 checksum 294b65ba9da2d516");
    expect(t.status).toBe(0);
    expect(functional(t.output)).toEqual(functional(native.output));
  }, TEST_TIMEOUT_MS);
});

const QEMU_TITLE = HAVE_QEMU ? "labos under qemu-system-riscv64 -machine virt" : `labos under QEMU (skipped: ${QEMU} not found)`;
describe.runIf(HAVE_OPENSBI && HAVE_QEMU)(QEMU_TITLE, () => {
  const dir = mkdtempSync(join(tmpdir(), "popek-labos-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const harts of [1, 4]) {
    it(`gives the native board's functional results with ${harts} hart(s)`, async () => {
      const [q, native] = await Promise.all([qemu(harts, [], WORKLOADS[harts].append), nativeRun(harts)]);
      expectWorkload(q.output, harts);
      expect(q.status).toBe(0);
      expect(functional(native.output)).toEqual(functional(q.output));
    }, TEST_TIMEOUT_MS);
  }

  it("drives virtio-blk and virtio-net (virtio-mmio version 2): diskperf checks every byte, netperf sends every frame", async () => {
    const disk = join(dir, "disk.img");
    writeFileSync(disk, new Uint8Array(1 << 20));
    const devices = [
      "-global", "virtio-mmio.force-legacy=false",
      "-drive", `file=${disk},if=none,format=raw,id=d0`, "-device", "virtio-blk-device,drive=d0",
      "-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0",
    ];
    const q = await qemu(2, devices, "diskperf netperf:100,600");
    expect(q.output).toMatch(/labos: virtio-blk at 0x[0-9a-f]+ irq \d+, 2048 sectors/);
    expect(q.output).toMatch(/labos: virtio-net at 0x[0-9a-f]+ irq \d+, mac 52:54:0:12:34:56/);
    expect(q.output).toContain("diskperf: 2048 sectors, 64 requests of 4096 bytes");
    const disk64 = results(q.output).filter((r) => r.name.startsWith("diskperf."));
    expect(disk64.map((r) => `${r.name} ${r.fields.n}`)).toEqual(
      ["seq_write", "seq_read", "rand_read", "rand_write", "verify"].map((t) => `diskperf.${t} 64`),
    );
    expect(q.output).toContain("netperf: sent 100 frames, 60000 bytes");
    expect(q.output).toMatch(/^pass diskperf$/m);
    expect(q.output).toMatch(/^pass netperf$/m);
    expect(q.status).toBe(0);
  }, TEST_TIMEOUT_MS);

  it("two QEMU VMs joined by a socket netdev ping each other through labos's virtio-net driver", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const nic = (mac: string) => ["-global", "virtio-mmio.force-legacy=false", "-device", `virtio-net-device,netdev=n0,mac=${mac}`];
    // B connects once A listens: A's netdev is up before its firmware prints anything.
    let b: Promise<QemuRun> | undefined;
    const ra = await qemu(1, [...nic("52:54:00:12:34:0a"), "-netdev", `socket,id=n0,listen=127.0.0.1:${port}`], "ping:virtio-net,5", (out) => {
      if (b === undefined && out.includes("OpenSBI")) {
        b = qemu(1, [...nic("52:54:00:12:34:0b"), "-netdev", `socket,id=n0,connect=127.0.0.1:${port}`], "ping:virtio-net,5");
      }
    });
    expect(b, ra.output).toBeDefined();
    const rb = await b!;
    expect(ra.output).toContain("ping: 5 replies from 52:54:00:12:34:0b");
    expect(rb.output).toContain("ping: 5 replies from 52:54:00:12:34:0a");
    expect([ra.status, rb.status]).toEqual([0, 0]);
  }, TEST_TIMEOUT_MS);

  it("skips a legacy (version 1) virtio device with a message instead of failing", async () => {
    const disk = join(dir, "legacy.img");
    writeFileSync(disk, new Uint8Array(1 << 16));
    const q = await qemu(1, ["-drive", `file=${disk},if=none,format=raw,id=d0`, "-device", "virtio-blk-device,drive=d0"], "diskperf");
    expect(q.output).toMatch(/virtio device 2 at 0x[0-9a-f]+ is legacy \(version 1\): skipped/);
    expect(q.output).toContain("diskperf: no virtio-blk, skipped");
    expect(q.status).toBe(0);
  }, TEST_TIMEOUT_MS);
});
