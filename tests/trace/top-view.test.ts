/*
 * The frame of `popek run --top` (src/report/top-view.ts), from two samples
 * of the counters: rates over the interval, busiest counter first, a row
 * per vCPU, and a table cut to the terminal's height.
 */

import { describe, expect, it } from "vitest";
import { EXIT_STATS, type ExitStatName } from "../../src/hypervisor/stats.ts";
import { formatTopFrame } from "../../src/report/top-view.ts";

function counters(values: Partial<Record<ExitStatName, number>>): Record<ExitStatName, number> {
  const out = Object.fromEntries(EXIT_STATS.map((s) => [s.name, 0])) as Record<ExitStatName, number>;
  return { ...out, ...values };
}

const header = { vm: "vm0", exitHandler: "vcpu", wait: "poll", uptimeMs: 62_000 };

describe("the --top frame", () => {
  const prev = { ms: 0, vcpus: [counters({ exits: 100, csr_exit: 90, sbi_exit: 10 }), counters({ exits: 0 })] };
  const now = {
    ms: 2000,
    vcpus: [
      counters({ exits: 2100, csr_exit: 90, sbi_exit: 2010, instructions: 4e6 }),
      counters({ exits: 400, csr_exit: 400, main_exits: 40, host_cpu_samples: 20, host_cpu_shared: 5 }),
    ],
  };

  it("gives each moved counter its total and its rate over the interval, busiest first, per vCPU too", () => {
    const lines = formatTopFrame(header, prev, now);
    expect(lines[0]).toMatch(/vm0 {2}2 vCPUs {2}--exit-handler vcpu {2}--wait poll {2}up 00:01:02/);
    const rows = lines.filter((l) => /^(exits|sbi_exit|csr_exit) /.test(l));
    // exits 1200/s, sbi_exit 1000/s (vcpu0 only), csr_exit 200/s (vcpu1 only)
    expect(rows.map((l) => l.split(/\s+/))).toEqual([
      ["exits", "2500", "1200", "1000", "200"],
      ["sbi_exit", "2010", "1000", "1000", "0.0"],
      ["csr_exit", "490", "200", "0.0", "200"],
    ]);
    expect(lines.some((l) => /^instructions /.test(l))).toBe(false); // MIPS, in the vCPU rows
    expect(lines.some((l) => /^host_cpu/.test(l))).toBe(false); // where the threads ran, in the vCPU rows
    // vcpu0 made no looks at its placement in the interval; vcpu1 found itself on the main thread's core in 5 of 20.
    expect(lines.find((l) => l.startsWith("vcpu0 "))?.split(/\s+/)).toEqual(["vcpu0", "1000", "0.0", "2.0", "-"]);
    expect(lines.find((l) => l.startsWith("vcpu1 "))?.split(/\s+/)).toEqual(["vcpu1", "200", "20.0", "0.0", "25%"]);
  });

  it("cuts the counter table to the terminal, never the vCPU rows", () => {
    const lines = formatTopFrame(header, prev, now, 8);
    expect(lines.some((l) => l.startsWith("vcpu1 "))).toBe(true);
    expect(lines.some((l) => l.startsWith("exits "))).toBe(true);
    expect(lines.some((l) => l.startsWith("csr_exit "))).toBe(false);
  });
});
