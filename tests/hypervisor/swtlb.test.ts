/*
 * --virt trap --mmu swtlb (src/hypervisor/swtlb-virt.ts): the guest's
 * software-managed TLB virtualized. The swtlb guest prints the same natively
 * and under trap with either exit-handler place, every step is counted, and a
 * guest entry naming a frame outside the VM's map never reaches the real TLB.
 */

import { describe, expect, it } from "vitest";
import { GuestPhysView } from "../../src/machine/guest-phys-view.ts";
import * as P from "../../src/hypervisor/runpage.ts";
import { SWTLB_FORWARD, SWTLB_HANDLED, SwtlbShadow, virtualSoftTlbHost } from "../../src/hypervisor/swtlb-virt.ts";
import { STAT } from "../../src/hypervisor/stats.ts";
import { VcpuContext, VmClock } from "../../src/hypervisor/vcpu-context.ts";
import { Bus } from "../../src/machine/bus.ts";
import { Hart } from "../../src/machine/hart.ts";
import { DRAM_BASE, PAGE_SIZE } from "../../src/machine/memlayout.ts";
import { PhysMem } from "../../src/machine/physmem.ts";
import * as R from "../../src/machine/riscv.ts";
import { SWTLB_ENTRIES } from "../../src/machine/swtlb.ts";
import { bootFile } from "../helpers/boot.ts";
import { mImage, runVm } from "../helpers/vm.ts";

const IMAGE = "guests/bin/swtlb.elf";

describe("the swtlb guest", () => {
  it("refills its own TLB natively and prints PASS", async () => {
    const r = await bootFile(IMAGE, { mmu: "swtlb" });
    expect(r.output).toMatch(/swtlb: PASS/);
    expect(r.exitCode).toBe(0);
  });

  for (const exitHandler of ["main", "vcpu"] as const) {
    it(`prints the same under --virt trap --exit-handler ${exitHandler}, every step counted`, async () => {
      const native = await bootFile(IMAGE, { mmu: "swtlb" });
      const { output, result } = await runVm(mImage(IMAGE), { mmu: "swtlb", exitHandler, timeoutSeconds: 120 });
      expect(output).toBe(native.output);
      expect(result.exitCode).toBe(0);
      const s = result.reports[0].stats;
      const m = /fetch=(\d+) load=(\d+) store=(\d+)/.exec(output);
      const refills = Number(m![1]) + Number(m![2]) + Number(m![3]);
      // Every refill the guest handled was a miss exit reflected into it, then a TLB-write exit...
      expect(s.swtlb_miss_exit).toBe(refills);
      expect(s.swtlb_write_exit).toBe(refills + 5); // + the five wired entries M-mode writes
      // ...whose entry was installed as VPN -> machine frame, then the handler's sret.
      expect(s.swtlb_install).toBeGreaterThanOrEqual(refills);
      expect(s.xret_exit).toBeGreaterThanOrEqual(refills);
      expect(s.swtlb_refused).toBe(0);
    }, 180_000);
  }

  it("does not run without --mmu swtlb: the TLB CSRs are illegal instructions", async () => {
    const r = await bootFile(IMAGE);
    expect(r.exitCode).not.toBe(0);
  });
});

/** One vCPU's pieces without a thread: a real swtlb hart, the virtual CSR file, and a guest map of `backed` pages. */
function bench(backed: number) {
  const machine = new PhysMem(4 * 2 ** 20);
  const ramSize = 1 * 2 ** 20;
  const frameTable = new SharedArrayBuffer((ramSize / PAGE_SIZE) * 4);
  const frames = new Int32Array(frameTable);
  // Guest page i lives in machine page (DRAM_BASE / 4096) + 512 + i: not where the guest thinks.
  for (let i = 0; i < backed; i++) frames[i] = DRAM_BASE / PAGE_SIZE + 512 + i;
  const view = new GuestPhysView(machine.buffer, { frameTable, ramBase: DRAM_BASE, ramSize });
  const hart = new Hart(0, { mem: machine, bus: new Bus(), mtime: () => 0 }, {}, { mmu: "swtlb" });
  hart.csr.priv = R.PRV_U;
  hart.csr.write(R.CSR_SATP, 0, R.SATP_MODE_SV39 << 28);
  const ctx = new VcpuContext(0, new P.RunPage(), new VmClock(0));
  ctx.softTlb = virtualSoftTlbHost(ctx);
  const c = ctx.csr;
  c.priv = R.PRV_S;
  c.write(R.CSR_SATP, 0, (R.SATP_MODE_SV39 << 28) | (1 << R.SATP_HI_ASID_SHIFT));
  const shadow = new SwtlbShadow(hart, ctx, view);
  shadow.afterExit();
  /** The guest's handler writes va -> guest page `ppn` (stlbvpn, stlbpte, stlbrandom), and the write exit returns. */
  const guestWrite = (va: number, ppnLo: number, ppnHi = 0, flags = R.PTE_R | R.PTE_W | R.PTE_U | R.PTE_A | R.PTE_D): void => {
    c.write(R.CSR_STLBVPN, va / PAGE_SIZE, 1);
    c.write(R.CSR_STLBPTE, ((ppnLo << 10) | flags | R.PTE_V) | 0, ppnHi);
    c.write(R.CSR_STLBRANDOM, 0, 0);
    shadow.afterExit();
  };
  const machineFrames = new Set(Array.from(frames).filter((f) => f !== 0));
  /** Every valid real entry maps a machine frame of this VM. */
  const realPpns = (): number[] => {
    const out: number[] = [];
    for (let s = 0; s < SWTLB_ENTRIES; s++) if (hart.soft!.validAt(s)) out.push(hart.soft!.ppnAt(s));
    return out;
  };
  return { hart, ctx, shadow, guestWrite, machineFrames, realPpns };
}

describe("isolation: the real TLB maps only frames of the VM's map", () => {
  it("a guest entry for a backed RAM page is installed as VPN -> machine frame, not the guest's PFN", () => {
    const b = bench(4);
    b.guestWrite(0x4000_0000, DRAM_BASE / PAGE_SIZE + 2);
    expect(b.realPpns()).toEqual([DRAM_BASE / PAGE_SIZE + 512 + 2]);
    expect(b.ctx.stats[STAT.swtlb_install]).toBe(1);
  });

  const hostile: [string, number, number][] = [
    ["a device (the UART)", 0x1000_0000 / PAGE_SIZE, 0],
    ["RAM of the VM not yet backed", DRAM_BASE / PAGE_SIZE + 100, 0],
    ["past the end of the VM's RAM", DRAM_BASE / PAGE_SIZE + 256, 0],
    ["the machine page behind another guest page's frame (a machine address)", DRAM_BASE / PAGE_SIZE + 512, 0],
    ["a PPN with its high bits set (beyond 2^44 bytes)", 0x123, 0x3f_0000],
    ["page 0", 0, 0],
  ];
  for (const [what, ppnLo, ppnHi] of hostile) {
    it(`an entry naming ${what} is never installed, and an access through it goes on as a guest-physical fault`, () => {
      const b = bench(4);
      b.guestWrite(0x4000_0000, ppnLo, ppnHi);
      expect(b.realPpns()).toEqual([]);
      expect(b.ctx.stats[STAT.swtlb_refused]).toBe(1);
      // The user's retried load misses in the real TLB: the hypervisor finds the guest's entry but installs nothing.
      b.ctx.csr.priv = R.PRV_U;
      expect(b.shadow.onTrap(R.CAUSE_TLB_REFILL_LOAD, 0x4000_0010, 0x8000_0000)).toBe(SWTLB_FORWARD);
      expect(b.shadow.forwardCause).toBe(R.CAUSE_LOAD_PAGE_FAULT);
      expect(b.realPpns()).toEqual([]);
      for (const ppn of b.realPpns()) expect(b.machineFrames.has(ppn)).toBe(true);
    });
  }

  it("a real miss with no guest entry is reflected into the guest's refill handler, stlbvpn preset", () => {
    const b = bench(4);
    b.ctx.csr.write(R.CSR_STVEC, 0x8000_1000, 0);
    b.ctx.csr.write(R.CSR_MEDELEG, 1 << R.CAUSE_TLB_REFILL_STORE, 0);
    b.ctx.csr.priv = R.PRV_U;
    expect(b.shadow.onTrap(R.CAUSE_TLB_REFILL_STORE, 0x4000_2008, 0x1_0000)).toBe(SWTLB_HANDLED);
    expect(b.ctx.pc).toBe(0x8000_1000);
    expect(b.ctx.csr.priv).toBe(R.PRV_S);
    expect(b.ctx.csr.lo[R.CSR_SCAUSE]).toBe(R.CAUSE_TLB_REFILL_STORE);
    expect(b.ctx.csr.lo[R.CSR_STLBVPN]).toBe(0x4000_2);
    expect(b.ctx.csr.hi[R.CSR_STLBVPN]).toBe(1);
    expect(b.ctx.stats[STAT.swtlb_miss_exit]).toBe(1);
  });

  it("a guest user page is installed in the user view: after sret to U the retried access hits", () => {
    const b = bench(4);
    b.guestWrite(0x4000_0000, DRAM_BASE / PAGE_SIZE + 1);
    b.ctx.csr.priv = R.PRV_U; // the guest's sret
    b.shadow.afterExit();
    const asid = (b.hart.csr.hi[R.CSR_SATP] >>> R.SATP_HI_ASID_SHIFT) & R.SATP_ASID_MASK;
    expect(b.hart.soft!.lookup(0x4000_0, asid)).toBeGreaterThanOrEqual(0);
  });

  it("an entry the guest's TLB evicts leaves the real TLB too", () => {
    const b = bench(4);
    b.ctx.csr.write(R.CSR_STLBINDEX, 0, 0);
    b.guestWrite(0x4000_0000, DRAM_BASE / PAGE_SIZE + 1);
    expect(b.realPpns().length).toBe(1);
    b.ctx.csr.write(R.CSR_STLBFLUSH, 0x4000_0000, 0);
    b.shadow.afterExit();
    expect(b.realPpns()).toEqual([]);
  });

  it("a real page fault the guest's entry refuses too is the guest's: reflected with stval = va", () => {
    const b = bench(4);
    b.ctx.csr.write(R.CSR_STVEC, 0x8000_1000, 0);
    b.ctx.csr.write(R.CSR_MEDELEG, 1 << R.CAUSE_LOAD_PAGE_FAULT, 0);
    b.guestWrite(0x4000_0000, DRAM_BASE / PAGE_SIZE + 1, 0, R.PTE_R | R.PTE_A); // a kernel page
    b.ctx.csr.priv = R.PRV_U;
    b.shadow.afterExit();
    expect(b.shadow.onTrap(R.CAUSE_LOAD_PAGE_FAULT, 0x4000_0008, 0x1_0000)).toBe(SWTLB_HANDLED);
    expect(b.ctx.csr.lo[R.CSR_SCAUSE]).toBe(R.CAUSE_LOAD_PAGE_FAULT);
    expect(b.ctx.csr.lo[R.CSR_STVAL]).toBe(0x4000_0008);
    expect(b.ctx.stats[STAT.swtlb_true_fault]).toBe(1);
  });

  it("a load the guest's MXR allows through an execute-only entry is filled, not faulted; clearing MXR drops it", () => {
    const b = bench(4);
    b.guestWrite(0x4000_0000, DRAM_BASE / PAGE_SIZE + 1, 0, R.PTE_X | R.PTE_U | R.PTE_A);
    b.ctx.csr.mstatus |= R.MSTATUS_MXR;
    b.ctx.csr.priv = R.PRV_U;
    b.shadow.afterExit();
    expect(b.shadow.onTrap(R.CAUSE_LOAD_PAGE_FAULT, 0x4000_0008, 0x1_0000)).toBe(SWTLB_HANDLED);
    expect(b.ctx.pc).toBe(0x1_0000); // retried
    expect(b.ctx.stats[STAT.swtlb_hidden_refill]).toBe(1);
    expect(b.realPpns()).toContain(DRAM_BASE / PAGE_SIZE + 512 + 1);
    b.ctx.csr.mstatus &= ~R.MSTATUS_MXR;
    b.shadow.afterExit();
    expect(b.realPpns()).toEqual([]);
  });
});
