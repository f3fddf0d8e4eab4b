import { describe, expect, it } from "vitest";
import { parseExitbench } from "../../bench/exitbench-parse.ts";

// popek native output, with OpenSBI's banner before it and CRLF line ends, as a console gives it.
const OUTPUT = [
  "OpenSBI v1.1",
  "Platform Name             : riscv-virtio,qemu",
  "",
  "exitbench: null iters=2000000 ticks=1262776 instret=6000007",
  "exitbench: syscall iters=200000 ticks=1584156 instret=3800066",
  "exitbench: done",
  "",
].join("\r\n");

describe("parseExitbench", () => {
  it("reads one row per benchmark line, in order, ignoring the firmware's banner", () => {
    const rows = parseExitbench(OUTPUT);
    expect(rows.map((r) => r.bench)).toEqual(["null", "syscall"]);
    expect(rows[0]).toMatchObject({ iters: 2000000, ticks: 1262776, instret: 6000007 });
  });

  it("derives ns per operation from 10 MHz ticks and instructions per operation", () => {
    const [nul, syscall] = parseExitbench(OUTPUT);
    expect(nul!.nsPerOp).toBeCloseTo((1262776 * 100) / 2000000, 9); // 100 ns per tick
    expect(nul!.instructionsPerOp).toBeCloseTo(3, 5);
    expect(syscall!.nsPerOp).toBeCloseTo(792.078, 3);
    expect(syscall!.instructionsPerOp).toBeCloseTo(19, 3);
  });

  it("takes another timebase when the board has one", () => {
    const [row] = parseExitbench("exitbench: null iters=10 ticks=1000 instret=30\nexitbench: done\n", 1_000_000);
    expect(row!.nsPerOp).toBe(100_000); // 1000 µs over 10 iterations
  });

  it("rejects a run that panicked", () => {
    const out = "exitbench: null iters=1 ticks=1 instret=3\nexitbench: panic scause=0x0000000000000002 sepc=0x0 stval=0x0\n";
    expect(() => parseExitbench(out)).toThrow(/panicked: exitbench: panic scause/);
  });

  it("rejects a run that never finished (no done line)", () => {
    expect(() => parseExitbench("exitbench: null iters=1 ticks=1 instret=3\n")).toThrow(/without "exitbench: done" \(1 benchmarks/);
  });

  it("ignores lines that only look alike", () => {
    const rows = parseExitbench("exitbench: null iters=x ticks=1 instret=3\nxexitbench: sbi iters=1 ticks=1 instret=1\nexitbench: done\n");
    expect(rows).toEqual([]);
  });
});
