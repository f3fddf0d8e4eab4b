/*
 * `popek run --gdb tcp::0 -S` driven by the real gdb-multiarch in batch
 * mode, as a QEMU user would (`qemu-system-riscv64 -s -S` and `target
 * remote :1234`): registers, memory, a breakpoint on a symbol, stepi,
 * threads, Ctrl-C, kill, and the guest's exit status. And the CLI's bad
 * input: one line on stderr, a non-zero status.
 *
 * Every wait is on output (the port popek prints, what the guest prints,
 * gdb's own exit), never on the clock. Skipped, saying why, where
 * gdb-multiarch is not installed (.ci/run installs it).
 */

import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { GDB_SKIP_REASON as skipReason, LIMIT_MS, POPEK, Proc, gdb, pcs, popekHalted, interruptThenKill } from "./gdb-session.ts";

describe.skipIf(skipReason !== undefined)("debugging a guest with the real gdb-multiarch", () => {
  it("selftest on two harts: registers, memory, threads, break main, stepi, continue to its exit", async () => {
    const { popek, port } = await popekHalted("guests/bin/selftest.elf", "--harts", "2");
    const session = gdb(port, "guests/bin/selftest.elf", [
      "info registers pc",
      "x/2wx 0x80000000",
      "set {unsigned int}0x84000000 = 0xfeedf00d",
      "x/wx 0x84000000",
      "set $s2 = 0x1234",
      "p/x $s2",
      "info threads",
      // One thread steps, the other stays put (with scheduler-locking gdb resumes only the stepped one: vCont;c:2).
      "set scheduler-locking step",
      "thread 2",
      "stepi",
      "info registers pc",
      "thread 1",
      "info registers pc",
      "set scheduler-locking replay",
      "break main",
      "continue",
      "info registers pc",
      "stepi",
      "info registers pc",
      "delete",
      "continue",
    ]);
    const [g, p] = await Promise.all([session.exit, popek.exit]);
    const out = session.stdout + session.stderr;
    expect(out).toMatch(/^pc\s+0x80000000\s+0x80000000 <_start>$/m);
    expect(out).toMatch(/^0x80000000 <_start>:\s+0x[0-9a-f]{8}\s+0x[0-9a-f]{8}$/m);
    expect(out).toMatch(/^0x84000000:\s+0xfeedf00d$/m);
    expect(out).toMatch(/^\$1 = 0x1234$/m);
    expect(out).toMatch(/Thread 1 \(hart 0, M-mode\)/);
    expect(out).toMatch(/Thread 2 \(hart 1, M-mode\)/);
    expect(out).toMatch(/Breakpoint 1, 0x[0-9a-f]+ in main \(\)/);
    const [entry, thread2, thread1, atMain, stepped] = pcs(out);
    expect([entry, thread2, thread1]).toEqual(["0x80000000", "0x80000004", "0x80000000"]);
    expect(out).toMatch(new RegExp(`^pc\\s+${atMain}\\s+${atMain} <main\\+\\d+>$`, "m"));
    expect(stepped).not.toBe(atMain);
    expect(out).toContain("[Inferior 1 (Remote target) exited normally]");
    expect(g.status, out).toBe(0);
    expect(popek.stdout).toContain("selftest: PASS");
    expect(p.status).toBe(0);
  }, LIMIT_MS);

  it("Ctrl-C interrupts a running guest, and kill ends popek", async () => {
    const { out, gdbStatus, popekStatus } = await interruptThenKill((image) => [image]);
    expect(out).toContain("Program received signal SIGINT, Interrupt.");
    expect(pcs(out)).toHaveLength(1);
    expect(out).toContain("[Inferior 1 (Remote target) killed]");
    expect(gdbStatus, out).toBe(0);
    expect(popekStatus).toBe(0);
  }, LIMIT_MS);

  it("the guest's exit status reaches gdb", async () => {
    const { popek, port } = await popekHalted("guests/bin/htif-fail.elf");
    const session = gdb(port, "guests/bin/htif-fail.elf", ["continue"]);
    const [g, p] = await Promise.all([session.exit, popek.exit]);
    const out = session.stdout + session.stderr;
    expect(out).toContain("[Inferior 1 (Remote target) exited with code 03]");
    expect(g.status, out).toBe(0);
    expect(p.status).toBe(3);
  }, LIMIT_MS);
});

describe("--gdb's bad input gets one line and a non-zero status", () => {
  function popekSync(...args: string[]): { status: number | null; stderr: string } {
    const r = spawnSync(process.execPath, [POPEK, "run", ...args], { encoding: "utf8", timeout: LIMIT_MS, stdio: ["ignore", "pipe", "pipe"] });
    return { status: r.status, stderr: r.stderr };
  }
  function expectOneLineError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  }

  it("a device that is not tcp:[HOST]:PORT", () => expectOneLineError(popekSync("guests/bin/hello.elf", "--gdb", "foo"), /--gdb: expected tcp::PORT or tcp:HOST:PORT .*got 'foo'/));
  it("a port out of range", () => expectOneLineError(popekSync("guests/bin/hello.elf", "--gdb", "tcp::70000"), /--gdb: expected/));
  it("-S without a debugger to wait for", () => expectOneLineError(popekSync("guests/bin/hello.elf", "-S"), /-S waits for a debugger/));
  it("--gdb under --virt hw", () =>
    expectOneLineError(popekSync("guests/bin/hello.elf", "--virt", "hw", "--bios", "none", "--gdb", "tcp::0"), /or a guest under --virt trap; not under --virt hw yet/));
  it("--gdb under --virt trap with --mmu swtlb", () =>
    expectOneLineError(popekSync("guests/bin/hello.elf", "--virt", "trap", "--mmu", "swtlb", "--bios", "none", "--gdb", "tcp::0"), /a --mmu swtlb guest keeps its translations in its software TLB/));
  it("a port in use", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen({ host: "127.0.0.1", port: 0 }, resolve));
    const address = taken.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      // spawnSync would block the event loop that holds the port: the async spawn lets it stay held.
      const p = new Proc(spawn(process.execPath, [POPEK, "run", "guests/bin/hello.elf", "--gdb", `tcp::${port}`], { stdio: ["ignore", "pipe", "pipe"], timeout: LIMIT_MS }));
      const exit = await p.exit;
      expectOneLineError({ status: exit.status, stderr: p.stderr }, new RegExp(`--gdb: cannot listen on 127.0.0.1:${port}: EADDRINUSE`));
    } finally {
      taken.close();
    }
  });
});
