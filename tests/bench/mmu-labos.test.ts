/*
 * `popek bench mmu --guest labos` (bench/mmu-labos.ts), shortened: labos's
 * nanobench natively and under --virt trap fills mmubench's table, every
 * row with a number (pgfault, ptemod, ctxsw, tlbwalk from labos's
 * page_fault, pte_flush, ctx_switch, tlb_walk).
 */

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { benchMmuLabos } from "../../bench/mmu-labos.ts";
import { formatMmu } from "../../bench/mmu.ts";
import { MMU_BENCHES } from "../../bench/mmubench-parse.ts";

const HAVE_OPENSBI = existsSync("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf") || process.env.CI === "true";

describe.runIf(HAVE_OPENSBI)("bench mmu --guest labos", () => {
  it("fills every row natively and under trap from labos's nanobench", async () => {
    const report = await benchMmuLabos({ nativeSyscalls: 80, trapSyscalls: 40, handlers: ["vcpu"] });
    for (const mode of ["native", "trap"] as const) {
      const rows = report.results.filter((r) => r.mode === mode);
      expect(rows.map((r) => r.bench)).toEqual([...MMU_BENCHES]);
      for (const r of rows) {
        expect(r.status, `${mode} ${r.bench}`).toBe("ok");
        expect(r.nsPerOp).toBeGreaterThan(0);
        expect(r.mmu).toBe("sv39");
      }
    }
    expect(formatMmu(report)).toMatch(/^tlbwalk \(sv39, tlb\) +[\d.]+(?:us|ns)\s/m);
  }, 200_000);
});
