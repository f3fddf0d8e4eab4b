/*
 * `popek bench mmu` (bench/mmu.ts): guests/mmubench's output format, and a
 * short run that produces every row — native Sv39 and swtlb, and the trap
 * rows, which for Sv39 either carry a number (the hypervisor pages) or say
 * "needs shadow paging", never a made-up one.
 */

import { describe, expect, it } from "vitest";
import { benchMmu, formatMmu } from "../../bench/mmu.ts";
import { MMU_BENCHES, parseMmubench } from "../../bench/mmubench-parse.ts";

const GOOD = [
  "mmubench: pgfault mmu=sv39 iters=384 ticks=3840 instret=17668",
  "mmubench: ptemod mmu=sv39 iters=256 ticks=2560 instret=2050",
  "mmubench: ctxsw mmu=sv39 iters=256 ticks=256 instret=770",
  "mmubench: tlbwalk mmu=sv39 iters=120 ticks=12 instret=484",
  "mmubench: done",
].join("\r\n");

describe("parseMmubench", () => {
  it("reads one row per bench: ns per op from 10 MHz ticks, instructions per op", () => {
    const out = parseMmubench(`noise\n${GOOD}\n`);
    expect(out.kind).toBe("rows");
    if (out.kind !== "rows") return;
    expect(out.rows.map((r) => [r.bench, r.mmu, r.iters])).toEqual([
      ["pgfault", "sv39", 384], ["ptemod", "sv39", 256], ["ctxsw", "sv39", 256], ["tlbwalk", "sv39", 120],
    ]);
    expect(out.rows[0].nsPerOp).toBe(1000); // 3840 ticks of 100 ns over 384 iterations
    expect(out.rows[3].nsPerOp).toBe(10);
    expect(out.rows[0].instructionsPerOp).toBeCloseTo(46.01, 2);
  });
  it("takes `unsupported` as an answer, not an error", () => {
    expect(parseMmubench("mmubench: unsupported: satp does not take Sv39\n")).toEqual({ kind: "unsupported", reason: "satp does not take Sv39" });
  });
  it("rejects a panic, a missing `done`, a missing bench, an unknown bench, zero iterations", () => {
    expect(() => parseMmubench("mmubench: panic mcause=7\n")).toThrow(/panicked/);
    expect(() => parseMmubench(GOOD.replace("mmubench: done", ""))).toThrow(/without "mmubench: done"/);
    expect(() => parseMmubench(GOOD.replace(/mmubench: ctxsw.*\r\n/, ""))).toThrow(/no result for ctxsw/);
    expect(() => parseMmubench(GOOD.replace("ctxsw", "fork"))).toThrow(/unknown benchmark "fork"/);
    expect(() => parseMmubench(GOOD.replace("iters=120", "iters=0"))).toThrow(/zero iterations/);
  });
});

describe("benchMmu, a short run", () => {
  it("produces every row natively and under trap, Sv39 and swtlb", async () => {
    const report = await benchMmu({ nativeScale: "1/20", trapScale: "1/20", handlers: ["vcpu"] });
    for (const mmu of ["sv39", "swtlb"] as const) {
      for (const bench of MMU_BENCHES) {
        const native = report.results.find((r) => r.bench === bench && r.mmu === mmu && r.mode === "native");
        expect(native?.nsPerOp, `${bench} native ${mmu}`).toBeGreaterThan(0);
        expect(native?.ratio).toBe(1);
        const trap = report.results.find((r) => r.bench === bench && r.mmu === mmu && r.mode === "trap" && r.handler === "vcpu" && r.coherence === (mmu === "sv39" ? "tlb" : "-"));
        expect(trap, `${bench} trap ${mmu}`).toBeDefined();
        if (mmu === "sv39") {
          const wp = report.results.find((r) => r.bench === bench && r.mode === "trap" && r.coherence === "wp");
          expect(wp?.status, `${bench} trap sv39 wp`).toBe("ok");
          expect(wp!.nsPerOp).toBeGreaterThan(0);
        }
        if (mmu === "swtlb" || trap!.status === "ok") {
          expect(trap!.status).toBe("ok");
          expect(trap!.nsPerOp).toBeGreaterThan(0);
          expect(trap!.ratio).toBeCloseTo(trap!.nsPerOp! / native!.nsPerOp!, 6);
        } else {
          expect(trap!.status).toBe("needs shadow paging");
          expect(trap!.nsPerOp).toBeNull();
          expect(trap!.ratio).toBeNull();
        }
      }
    }
    for (const bench of MMU_BENCHES) {
      const hw = report.results.find((r) => r.bench === bench && r.mmu === "sv39" && r.mode === "hw" && r.handler === "vcpu");
      expect(hw?.status, `${bench} hw sv39`).toBe("ok");
      expect(hw?.nsPerOp).toBeGreaterThan(0);
    }
    expect(report.results.some((r) => r.mmu === "swtlb" && r.mode === "hw")).toBe(false);
    const text = formatMmu(report);
    expect(text).toMatch(/^bench\s+native\s+trap\/main\s+trap\/vcpu\s+hw\/main\s+hw\/vcpu/);
    expect(text).toMatch(/tlbwalk \(swtlb\)/);
    expect(text).toMatch(/ptemod \(sv39, wp\)/);
  }, 240_000);
});
