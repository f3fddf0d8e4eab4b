/*
 * bench exits' rows for --isa-variant nonvirt (bench/exits-nonvirt.ts): one
 * row per bench and configuration, and the exit counts that explain the
 * times — an exit per sensitive access under trap, PV and scan, none under
 * plain trap on the variant (which is why it is fast, and wrong).
 */

import { describe, expect, it } from "vitest";
import { benchNonvirt, formatNonvirt, NONVIRT_CONFIGS } from "../../bench/exits-nonvirt.ts";

describe("bench exits: the variant's rows", () => {
  it("time both benches in every configuration; exits per access ~1 for the correct ones, ~0 for plain trap", async () => {
    const rows = await benchNonvirt(() => {});
    for (const bench of ["status-read", "irq-save-restore"]) {
      for (const config of NONVIRT_CONFIGS) {
        const row = rows.find((r) => r.bench === bench && r.config === config);
        expect(row, `${bench} ${config}`).toBeDefined();
        expect(row!.nsPerOp).toBeGreaterThan(0);
      }
    }
    const per = (config: string): number => rows.find((r) => r.config === config)!.exitsPerAccess;
    expect(per("trap-nonvirt")).toBeLessThan(0.05);
    for (const config of ["trap", "pv", "scan"]) {
      expect(per(config), config).toBeGreaterThan(0.95);
      expect(per(config), config).toBeLessThan(1.1);
    }
    expect(rows.filter((r) => !r.correct).map((r) => r.config)).toEqual(["trap-nonvirt", "trap-nonvirt"]);
    expect(formatNonvirt(rows)).toContain("trap-nonvirt");
  }, 180_000);
});
