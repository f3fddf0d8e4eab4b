/*
 * Issue 18's first half: --isa-variant nonvirt breaks Popek and Goldberg's
 * condition (src/machine/isa-variant.ts), guests/nonvirt-demo shows it, and
 * both classic fixes mend it — paravirtualization (the -DPARAVIRT build's
 * POPK hypercalls, src/hypervisor/nonvirt/popk.ts) and code scanning
 * (--nonvirt-fix scan, src/hypervisor/nonvirt/code-scanner.ts), including
 * self-modifying code rescanned and code read back as data unpatched.
 */

import { describe, expect, it } from "vitest";
import { bootFile } from "../helpers/boot.ts";
import { mImage, runVm } from "../helpers/vm.ts";

const PLAIN = "guests/bin/nonvirt-demo.elf";
const PV = "guests/bin/nonvirt-demo-pv.elf";
const CHECKS = ["privilege", "irq-state", "irq-disable", "smc"];

/** Asserts every check printed ok and the guest passed. */
function expectPass(output: string, exitCode: number): void {
  expect(output, output).toContain("nonvirt-demo: PASS");
  for (const check of CHECKS) expect(output).toMatch(new RegExp(`nonvirt-demo: ${check}: ok`));
  expect(output).not.toContain("FAIL");
  expect(exitCode).toBe(0);
}

describe("guests/nonvirt-demo natively", () => {
  it("passes on the variant: in real M-mode the variant changes nothing", async () => {
    const r = await bootFile(PLAIN, { isaVariant: "nonvirt", timeoutSeconds: 60 });
    expectPass(r.output, r.exitCode);
  }, 90_000);
});

describe("guests/nonvirt-demo under plain --virt trap", () => {
  it("passes on the standard ISA: every sensitive instruction traps and is emulated", async () => {
    const r = await runVm(mImage(PLAIN), {});
    expectPass(r.output, r.result.exitCode);
  }, 90_000);

  it("misbehaves on the variant, and says where: wrong privilege, wrong interrupt state, a lost disable that races", async () => {
    const r = await runVm(mImage(PLAIN), { isaVariant: "nonvirt" });
    const out = r.output;
    expect(out).toContain("nonvirt-demo: privilege: mstatus.MPP says the ecall came from U-mode");
    expect(out).toContain("nonvirt-demo: privilege: FAIL (mstatus.MPP after an ecall from M: read 0, expected 3)");
    expect(out).toContain("nonvirt-demo: irq-state: FAIL (mstatus.MIE after csrsi: read 0, expected 1)");
    expect(out).toContain("nonvirt-demo: irq-disable: FAIL (timer interrupts taken inside the critical section: read 1, expected 0)");
    expect(out).toContain("the interrupt-disable (csrc mstatus) was lost");
    expect(out).toContain("nonvirt-demo: smc: FAIL (mstatus.MIE read by generated code: read 0, expected 1)");
    expect(out).toContain("nonvirt-demo: FAIL (4 of 4 checks)");
    expect(r.result.exitCode).toBe(4);
  }, 90_000);
});

describe("fix 1, paravirtualization: the POPK build", () => {
  // On the vCPU thread: the main thread's dispatcher serves it alike (the same TrapDispatcher.ecall).
  it("runs correctly under trap on the variant", async () => {
    const r = await runVm(mImage(PV), { isaVariant: "nonvirt", exitHandler: "vcpu" });
    expectPass(r.output, r.result.exitCode);
    expect(r.output).toContain("paravirtual build");
    expect(r.result.reports[0].stats.hypercall_exit).toBeGreaterThanOrEqual(8);
  }, 90_000);
});

describe("fix 2, scanning: --nonvirt-fix scan runs the unmodified guest", () => {
  for (const exitHandler of ["main", "vcpu"] as const) {
    it(`patches, emulates, rescans self-modifying code and hides its patches (exits on ${exitHandler})`, async () => {
      const r = await runVm(mImage(PLAIN), { isaVariant: "nonvirt", nonvirtFix: "scan", exitHandler });
      expectPass(r.output, r.result.exitCode);
      const s = r.result.reports[0].stats;
      // Every page that ran was scanned first; the smc page twice (written between its runs).
      expect(s.scan_pages).toBeGreaterThanOrEqual(3);
      expect(s.scan_rescans).toBe(1);
      expect(s.scan_code_writes).toBe(1);
      // The main code's sites and one in each version of the generated code, each trapped at least once.
      expect(s.scan_patched_sites).toBeGreaterThanOrEqual(4);
      expect(s.scan_patch_exit).toBeGreaterThanOrEqual(s.scan_patched_sites);
      // The guest read its generated code back byte by byte: served from the originals.
      expect(s.scan_code_reads).toBeGreaterThanOrEqual(10);
      expect(s.hypercall_exit).toBe(0);
    }, 90_000);
  }
});
