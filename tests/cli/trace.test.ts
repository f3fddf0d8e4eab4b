/*
 * Tracing and live statistics as a user meets them: `popek run --trace`
 * then `popek trace --summary / --perfetto`; `popek run --top` driven
 * through a pseudo-terminal (python3's pty module), refreshing and quitting
 * on q with the terminal given back; and each misuse in one line.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";

const POPEK = join(process.cwd(), "bin/popek.js");
const CLI_LIMIT_MS = 120_000;
const dir = mkdtempSync(join(tmpdir(), "popek-trace-cli-"));

function popek(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [POPEK, ...args], { encoding: "utf8", timeout: CLI_LIMIT_MS, stdio: ["ignore", "pipe", "pipe"] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
}

describe("popek run --trace, popek trace", () => {
  it("writes a trace that popek trace summarizes and exports for Perfetto", () => {
    const path = join(dir, "hello.trace");
    const run = popek("run", "guests/bin/hello.elf", "--virt", "trap", "--bios", "none", "--trace", path);
    expect(run.stdout).toBe("hello from popek\n");
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/trace: \d+ records in .*hello\.trace/);

    const summary = popek("trace", path, "--summary");
    expect(summary.status).toBe(0);
    expect(summary.stdout).toMatch(/mmio_exit_kernel\s+.*store page fault\s+35\s+35/); // 35 UART accesses, on the main thread

    const out = join(dir, "hello.json");
    const exported = popek("trace", path, "--perfetto", out);
    expect(exported.status).toBe(0);
    const json = JSON.parse(readFileSync(out, "utf8")) as { traceEvents: { ph: string; name: string }[] };
    expect(json.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name")).toHaveLength(1);
    expect(json.traceEvents.filter((e) => e.ph === "X" && e.name === "mmio_exit_kernel")).toHaveLength(35);
  });

  it("a file that is not a trace", () => {
    const junk = join(dir, "junk.trace");
    writeFileSync(junk, "not msgpack at all");
    expectOneLineError(popek("trace", junk), /not a popek trace|damaged/);
  });
  it("a missing trace file", () => expectOneLineError(popek("trace", join(dir, "nope.trace")), /cannot read/));
  it("--trace on the native board", () => expectOneLineError(popek("run", "guests/bin/hello.elf", "--trace", join(dir, "n.trace")), /--trace .*--virt trap/));
  it("--trace into a missing directory", () =>
    expectOneLineError(popek("run", "guests/bin/hello.elf", "--virt", "trap", "--bios", "none", "--trace", join(dir, "no/such/dir.trace")), /--trace: cannot write/));
  it("a --trace-ring that is not a power of two", () =>
    expectOneLineError(popek("run", "guests/bin/hello.elf", "--virt", "trap", "--bios", "none", "--trace", join(dir, "r.trace"), "--trace-ring", "1000"), /--trace-ring.*power of two/));
});

/** An M-mode guest that reads mscratch forever: a CSR exit per loop, never an end of its own. */
function csrLoopGuest(): string {
  const words = [enc.csrrs(5, 0x340, 0), enc.jal(0, -4)];
  const path = join(dir, "csrloop.bin");
  writeFileSync(path, new Uint8Array(new Uint32Array(words).buffer));
  return path;
}

/**
 * Runs `popek run IMAGE --virt trap --top` in a pseudo-terminal of 30×100;
 * once two frames have been drawn and one shows the guest's CSR exits (on a
 * loaded host the guest may take a while to start), it types q. Then, in the same terminal,
 * `stty -a` shows the mode popek left behind. Prints JSON: the raw output and
 * popek's status.
 */
const PTY_DRIVER = `
import json, os, pty, select, struct, sys, time, fcntl, termios
cmd = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    os.execvp("sh", ["sh", "-c", cmd + '; echo "STATUS=$?"; stty -a'])
out = b""
sent = False
deadline = time.time() + 100
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    if not sent and out.count(b"popek top") >= 2 and b"csr_exit" in out:
        os.write(fd, b"q")
        sent = True
os.waitpid(pid, 0)
print(json.dumps({"out": out.decode("utf8", "replace"), "sent": sent}))
`;

describe("popek run --top", () => {
  const python = spawnSync("python3", ["-c", "import pty"]).status === 0;
  it.skipIf(!python)("draws exits/s each second in a terminal, quits on q and gives the terminal back", () => {
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(POPEK)} run ${JSON.stringify(csrLoopGuest())} --virt trap --bios none --exit-handler vcpu --top`;
    const r = spawnSync("python3", ["-c", PTY_DRIVER, cmd], { encoding: "utf8", timeout: CLI_LIMIT_MS });
    const { out, sent } = JSON.parse(r.stdout) as { out: string; sent: boolean };
    expect(sent).toBe(true);
    const frames = out.split("\x1b[H\x1b[2J").slice(1);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    // A refresh with the guest's CSR exits counted and a rate beside them.
    expect(frames.some((f) => /csr_exit\s+\d+\s+\d/.test(f))).toBe(true);
    expect(frames[frames.length - 1]).toMatch(/vcpu0\s+[\d.]+\s+[\d.]+\s+[\d.]+/);
    // The terminal back: cursor shown, main screen, popek's status 0, and a cooked tty (echo, icanon).
    expect(out).toMatch(/\x1b\[\?25h\x1b\[\?1049l/);
    expect(out).toMatch(/STATUS=0/);
    const stty = out.slice(out.indexOf("STATUS=0"));
    expect(stty).toMatch(/(^|\s)icanon(\s|$)/m);
    expect(stty).toMatch(/(^|\s)echo(\s|$)/m);
  }, CLI_LIMIT_MS);

  it("refuses in one line when stdout is not a terminal", () =>
    expectOneLineError(popek("run", "guests/bin/hello.elf", "--virt", "trap", "--bios", "none", "--top"), /--top needs a terminal/));
});
