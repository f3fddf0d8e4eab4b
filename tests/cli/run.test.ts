/*
 * The CLI as a user meets it: the exit status is the guest's, and every bad
 * input is one line on stderr and a non-zero status, never a stack trace.
 */

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildElf } from "../helpers/elf-builder.ts";
import { enc } from "../../src/isa/encode.ts";
import { pinningUnavailable } from "../../src/host/affinity.ts";

const POPEK = join(process.cwd(), "bin/popek.js");

/** A hang-catcher for one CLI run, sized for a loaded two-core host (each run takes about a second idle). */
const CLI_LIMIT_MS = 60_000;

function popek(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [POPEK, ...args], { encoding: "utf8", timeout: CLI_LIMIT_MS, stdio: ["ignore", "pipe", "pipe"] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface StoppedRun {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs popek until its stdout satisfies `seen` (what the guest printed), then
 * ends it with SIGTERM. A run that was still going then ends by that signal;
 * one that had ended by itself leaves its own `status`.
 */
function popekUntil(seen: (stdout: string) => boolean, ...args: string[]): Promise<StoppedRun> {
  const child = spawn(process.execPath, [POPEK, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    timeout: CLI_LIMIT_MS,
    killSignal: "SIGKILL", // a hung run must not look like one this helper stopped
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => {
    stdout += s;
    if (seen(stdout)) child.kill("SIGTERM");
  });
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), "popek-cli-"));
function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** One line of error, no stack trace. */
function expectOneLineError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
}

describe("popek run", () => {
  it("boots hello and exits with the guest's status 0", () => {
    const r = popek("run", "guests/bin/hello.elf");
    expect(r.stdout).toBe("hello from popek\n");
    expect(r.status).toBe(0);
  });

  it("exits with the code an HTIF test program reports", () => {
    expect(popek("run", "guests/bin/htif-fail.elf").status).toBe(3);
  });

  it.each([[[]], [["--virt", "trap", "--bios", "none"]]])("exits 124 on --timeout %j", (virt) => {
    const spin = file("spin.bin", Uint8Array.of(0x01, 0xa0)); // c.j .
    const r = popek("run", spin, "--timeout", "0.2", ...virt);
    expect(r.status).toBe(124);
    expect(r.stderr).toMatch(/timeout after 0.2 s/);
  });
});

describe("a text file as the image", () => {
  it.each([[[]], [["--virt", "trap"]]])("runs it as QEMU would, with one line saying it is text %j", (virt) => {
    const r = popek("run", file("notes.md", new TextEncoder().encode("# notes\nnot a program\n")), "--timeout", "0.2", ...virt);
    expect(r.stderr).toMatch(/notes\.md is text, not an ELF/);
    expect(r.status).toBe(124);
  });
});

describe("bad input gets one line and a non-zero status", () => {
  it("a missing image", () => expectOneLineError(popek("run", join(dir, "nope.elf")), /kernel: cannot read .*nope\.elf/));
  it("a non-RISC-V ELF", () => expectOneLineError(popek("run", process.execPath), /x86-64|not RISC-V/));
  it("a truncated ELF", () => {
    const elf = buildElf({ entry: 0x8000_0000n, segments: [{ paddr: 0x8000_0000n, data: new Uint8Array(64) }] });
    expectOneLineError(popek("run", file("short.elf", elf.subarray(0, 40))), /ELF|short|truncated/i);
  });
  it("a segment outside RAM", () => {
    const elf = buildElf({ entry: 0x9000_0000n, segments: [{ paddr: 0x9000_0000n, data: new Uint8Array(16) }] });
    expectOneLineError(popek("run", file("high.elf", elf), "--mem", "16M"), /outside RAM/);
  });
  it("an unknown flag", () => expectOneLineError(popek("run", "guests/bin/hello.elf", "--frobnicate"), /unknown option '--frobnicate'/));
  it("an unknown command", () => expectOneLineError(popek("frobnicate"), /unknown command 'frobnicate'/));
  it("a bad --mem", () => expectOneLineError(popek("run", "guests/bin/hello.elf", "--mem", "lots"), /--mem/));
  it("too little memory", () => expectOneLineError(popek("run", "guests/bin/hello.elf", "--mem", "64K"), /--mem: 64K is too little/));
  it("a bad --harts", () => expectOneLineError(popek("run", "guests/bin/hello.elf", "--harts", "0"), /--harts/));
  it("an unsupported --virt", () => expectOneLineError(popek("run", "guests/bin/hello.elf", "--virt", "magic"), /--virt/));
  it("nothing to run", () => expectOneLineError(popek("run"), /nothing to run/));
});

describe("popek run --virt trap", () => {
  it("boots kernel-mini on two vCPUs on the hypervisor's SBI and exits 0", () => {
    const r = popek("run", "guests/bin/kernel-mini.elf", "--virt", "trap", "--vcpus", "2");
    expect(r.stdout).toContain("kernel-mini: smp 2 harts started");
    expect(r.stdout).toContain("kernel-mini: PASS");
    expect(r.status).toBe(0);
  }, 60_000); // a whole kernel with its paging step, on a loaded machine

  it("--stats prints the exit table on stderr", () => {
    const r = popek("run", "guests/bin/hello.elf", "--virt", "trap", "--bios", "none", "--stats", "--wait", "spin");
    expect(r.stdout).toBe("hello from popek\n");
    expect(r.stderr).toMatch(/mmio_exit_kernel\s+35/);
    expect(r.stderr).toMatch(/exit_rtt_p50/);
    expect(r.status).toBe(0);
  });

  it("an M-mode image with --bios hv gets a one-line explanation", () =>
    expectOneLineError(popek("run", "guests/bin/hello.elf", "--virt", "trap", "--bios", "hv"), /--bios none/));
  it("a bad --wait", () => expectOneLineError(popek("run", "guests/bin/hello.elf", "--virt", "trap", "--wait", "nap"), /--wait/));
  it("a bad --exit-handler", () =>
    expectOneLineError(popek("run", "guests/bin/hello.elf", "--virt", "trap", "--exit-handler", "gpu"), /--exit-handler/));
  it("--pin natively", () => expectOneLineError(popek("run", "guests/bin/hello.elf", "--pin"), /--pin .*applies under --virt trap/));
  it("--pin with a core this process may not use", () =>
    expectOneLineError(popek("run", "guests/bin/hello.elf", "--virt", "trap", "--bios", "none", "--pin", "0,4095"), /--pin 0,4095: CPU 4095 is not one/));
  it("--pin with too few cores for the vCPUs", () =>
    expectOneLineError(popek("run", "guests/bin/hello.elf", "--virt", "trap", "--bios", "none", "--vcpus", "2", "--pin", "0,1"), /--pin 0,1: expected 3 CPUs/));
  it.skipIf(pinningUnavailable() !== undefined)("--pin runs the guest as without", () => {
    const r = popek("run", "guests/bin/hello.elf", "--virt", "trap", "--bios", "none", "--pin");
    expect(r.stdout).toBe("hello from popek\n");
    expect(r.status).toBe(0);
  });
  it("too many vCPUs", () => expectOneLineError(popek("run", "guests/bin/hello.elf", "--virt", "trap", "--vcpus", "99"), /--vcpus/));
  it("a kernel that turns on Sv39 from S-mode runs on through shadow page tables", () => {
    // A root table at 0x8020_1000 with two gigapages: devices at 0 (RW) and RAM at 0x8000_0000 (RWX);
    // satp = Sv39 | root; then, translated, "P\n" to the UART and SBI shutdown.
    const [T0, T1, T2, T3, T4, A7] = [5, 6, 7, 28, 29, 17];
    const words = [
      enc.auipc(T0, 1),
      enc.lui(T1, 0x20000), enc.addi(T1, T1, 0xcf), enc.sd(T1, T0, 16),
      enc.addi(T1, 0, 0xc7), enc.sd(T1, T0, 0),
      enc.addi(T2, 0, 1), enc.slli(T2, T2, 63), enc.srli(T3, T0, 12), enc.or(T2, T2, T3),
      enc.csrrw(0, 0x180, T2),
      enc.lui(T4, 0x10000), enc.addi(T1, 0, 0x50), enc.sb(T1, T4, 0), enc.addi(T1, 0, 0x0a), enc.sb(T1, T4, 0),
      enc.addi(A7, 0, 8), enc.ecall(), enc.jal(0, 0),
    ];
    const kernel = file("pager.bin", new Uint8Array(new Uint32Array(words).buffer));
    const r = popek("run", "--kernel", kernel, "--virt", "trap", "--bios", "hv", "--timeout", "20", "--stats");
    expect(r.stdout).toBe("P\n");
    expect(r.stderr).toMatch(/pf_fixed\s+[1-9]/);
    expect(r.status).toBe(0);
  });
});

describe("a guest reset reboots, natively and under the hypervisor", () => {
  // An M-mode program that prints "boot\n" on the UART and asks the sifive_test finisher for a reset
  // (0x7777): QEMU resets and runs it again, and so must both of popek's ways of running it.
  const T0 = 5, T1 = 6;
  const words = [enc.lui(T0, 0x10000)];
  for (const ch of "boot\n") words.push(enc.addi(T1, 0, ch.charCodeAt(0)), enc.sb(T1, T0, 0));
  words.push(enc.lui(T0, 0x100), enc.lui(T1, 0x7), enc.addi(T1, T1, 0x777), enc.sw(T1, T0, 0), enc.jal(0, 0));
  const image = file("reset.bin", new Uint8Array(new Uint32Array(words).buffer));
  it.each([["none"], ["trap"]])("--virt %s: the same image boots again and again, and the run goes on", async (virt) => {
    // Waits for the second "boot" the guest prints (under trap every boot starts fresh vCPU
    // threads, which takes a while on a loaded host), then stops the run, which must still be going.
    const boots = (out: string): number => out.split("boot\n").length - 1;
    const r = await popekUntil((out) => boots(out) >= 2, "run", image, "--virt", virt, ...(virt === "trap" ? ["--bios", "none"] : []));
    expect(boots(r.stdout), r.stderr).toBeGreaterThanOrEqual(2);
    // Ended by the SIGTERM (or by a handler of it, with the conventional status 128 + 15), not by itself.
    const byOurSignal = r.signal === "SIGTERM" || r.status === 128 + 15;
    expect(byOurSignal, `the run ended by itself with status ${r.status}: ${r.stderr}`).toBe(true);
  }, 2 * CLI_LIMIT_MS);
});

describe("popek demo (npm start)", () => {
  it("boots a guest natively, then tables exit costs by handler and wait policy and a frame's cost per NIC, with its charts", () => {
    // Its own directory: two suites running at once must not share the demo's output.
    const out = mkdtempSync(join(tmpdir(), "popek-demo-test-"));
    const r = spawnSync(process.execPath, [POPEK, "demo", "--quick", "--out", out], { encoding: "utf8", timeout: 5 * CLI_LIMIT_MS });
    expect(r.stdout).toContain("hello from popek");
    for (const mode of ["main/spin", "main/poll", "main/block", "vcpu/spin", "vcpu/poll", "vcpu/block"]) {
      // The guest's own ns per operation for its five benchmarks, then the VM's exits.
      expect(r.stdout).toMatch(new RegExp(`^${mode}\\s+((\\d+ns|\\d+\\.\\dus)\\s+){5}\\d+ `, "m"));
    }
    // Mbit/s, frames, exits per frame ("-" when a machine too loaded to send one frame in the time).
    expect(r.stdout).toMatch(/^ne2000\s+64 B\s+\d+\.\d\d\s+\d+\s+(\d+\.\d|-)\s+\d+%$/m);
    const charts = [...r.stdout.matchAll(/^ {3}(\S+\.svg)$/gm)].map((m) => m[1]!);
    expect(charts.length).toBeGreaterThan(0);
    for (const c of charts) {
      expect(c.startsWith(out), c).toBe(true);
      expect(existsSync(c), c).toBe(true);
    }
    expect(r.status, r.stderr).toBe(0);
    rmSync(out, { recursive: true, force: true });
  }, 6 * CLI_LIMIT_MS);
});
