/*
 * A wfi spin loop (src/hypervisor/wfi-spin.ts): the detector alone, then
 * the case that motivated it: Debian's OpenSBI 1.1, deprivileged with two
 * vCPUs, parks the hart that lost the boot lottery in sbi_hsm_hart_wait with
 * MSIP still pending from the cold-boot wake-up, so its wfi ends at once
 * and it spins for as long as nobody starts it (sbi-hello never does).
 */

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { WfiSpinDetector } from "../../src/hypervisor/wfi-spin.ts";
import { readImageFile } from "../../src/machine/image.ts";
import { runVm } from "../helpers/vm.ts";

const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
/** The detector's streak (wfi-spin.ts SPIN_STREAK). */
const STREAK = 32;

/** Feeds `n` wfis at `pc`, `gap` instructions and `eventsEach` exits (the wfi's own included) apart, from `start`; returns each sleep. */
function feed(d: WfiSpinDetector, n: number, pc: number, gap: number, endsAtOnce = true, start = 0, eventsEach = 1): number[] {
  const sleeps: number[] = [];
  for (let i = 1; i <= n; i++) sleeps.push(d.observe(pc, start + i * gap, start + i * eventsEach, endsAtOnce));
  return sleeps;
}

describe("WfiSpinDetector", () => {
  it("lets a short run of wfis that end at once pass without sleeping", () => {
    expect(feed(new WfiSpinDetector(), STREAK, 0x8000_9a64, 10).every((ms) => ms === 0)).toBe(true);
  });

  it("sleeps once the same wfi has ended at once a streak in a row: 0.05 ms, doubling to 1 ms", () => {
    const sleeps = feed(new WfiSpinDetector(), STREAK + 8, 0x8000_9a64, 10).slice(STREAK);
    expect(sleeps).toEqual([0.05, 0.1, 0.2, 0.4, 0.8, 1, 1, 1]);
  });

  it("never sleeps in a wfi that really waits (nothing pending), and such a wfi ends the streak", () => {
    const d = new WfiSpinDetector();
    feed(d, STREAK + 4, 0x1000, 10);
    expect(d.observe(0x1000, 10_000, 10_000, false)).toBe(0);
    expect(feed(d, STREAK, 0x1000, 10, true, 10_000).every((ms) => ms === 0)).toBe(true);
  });

  it("does not count wfis far apart (work between them) or at different places as one loop", () => {
    expect(feed(new WfiSpinDetector(), 200, 0x1000, 5000).every((ms) => ms === 0)).toBe(true);
    const d = new WfiSpinDetector();
    const alternating: number[] = [];
    for (let i = 0; i < 200; i++) alternating.push(d.observe(i % 2 === 0 ? 0x1000 : 0x2000, i * 10, i, true));
    expect(alternating.every((ms) => ms === 0)).toBe(true);
  });

  it("never sleeps in an idle loop that takes its interrupt between wfis (exits and injections between them)", () => {
    // A slow guest kernel whose timer is always due: wfi ends at once, it enables interrupts (a CSR exit),
    // takes the timer (an injection) and idles again, a few hundred instructions later.
    expect(feed(new WfiSpinDetector(), 500, 0x8000_1234, 300, true, 0, 3).every((ms) => ms === 0)).toBe(true);
  });
});

describe.runIf(existsSync(OPENSBI) || process.env.CI === "true")("a secondary hart parked by OpenSBI 1.1 under --virt trap", () => {
  it.each(["main", "vcpu"] as const)("--exit-handler %s: sleeps through the spin instead of exiting thousands of times", async (exitHandler) => {
    // kernel-mini, not a shorter kernel: the boot hart must run long enough for the parked hart's spin to
    // reach a streak (sbi-hello ends after as few as 16 of its wfis once the interpreter got faster).
    const images = { bios: { kind: "firmware", bytes: readImageFile(OPENSBI, "bios") }, kernel: readImageFile("guests/bin/kernel-mini.elf", "kernel") } as const;
    const start = performance.now();
    const got = await runVm(images, { vcpus: 2, exitHandler, memSize: 128 * 2 ** 20, timeoutSeconds: 120 });
    const elapsedMs = performance.now() - start;
    expect(got.output).toContain("kernel-mini: PASS");
    expect(got.result.exitCode).toBe(0);
    const parked = [...got.result.reports].sort((a, b) => b.stats.wfi_spin_sleep - a.stats.wfi_spin_sleep)[0];
    // Every wfi of the spin after the first streak slept. The others are the cold-boot wait's, which
    // really wait (mip.MSIP clear), each up to the vCPU's 10 ms wfi sleep: at most one per 10 ms.
    // Without the detector the spin alone makes thousands of wfi exits a second.
    expect(parked.stats.wfi_spin_sleep).toBeGreaterThan(0);
    expect(parked.stats.wfi_exit - parked.stats.wfi_spin_sleep).toBeLessThanOrEqual(STREAK + 16 + elapsedMs / 10);
  }, 150_000);
});
