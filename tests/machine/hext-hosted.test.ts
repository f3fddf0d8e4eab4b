/*
 * A host playing M and HS for a hart with H (HostTrapHandler), as
 * `--virt hw` will: the guest kernel runs in VS-mode on the real hart, and
 * only what the hardware sends to HS leaves it. CSR accesses, sret,
 * sfence.vma and the guest's own (first-stage) faults stay in the guest;
 * SBI calls (ecall from VS), guest-page faults (G-stage misses, here filled
 * lazily as a hypervisor backs guest RAM on demand) and wfi under
 * hstatus.VTW exit.
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import type { Hart, HostTrapHandler } from "../../src/machine/hart.ts";
import * as R from "../../src/machine/riscv.ts";
import * as H from "../../src/machine/hext-defs.ts";
import { DRAM_BASE } from "../../src/machine/memlayout.ts";
import { pairToNumber } from "../../src/machine/u64.ts";
import { AD, CODE_BASE, DATA_BASE, HartHarness, PageTables, RWX } from "../helpers/hart-harness.ts";
import { GStageTables } from "../helpers/gstage.ts";

const GUEST = CODE_BASE + 0x1000;
const VS_TRAP = CODE_BASE + 0x2000;
const LAZY_GPA = 0xc000_0000;
const LAZY_BACKING = DATA_BASE + 0x4000;
const A0 = 10, A1 = 11, A7 = 17, T0 = 5;
const SBI_PUTCHAR = 1;
const SBI_SHUTDOWN = 8;

/** The host's side: SBI console and shutdown, G-stage faults filled on demand, wfi exits skipped. */
class MiniHypervisor implements HostTrapHandler {
  readonly exits: number[] = [];
  output = "";
  done = false;

  constructor(private readonly g: GStageTables) {}

  trap(hart: Hart, cause: number, _tvalLo: number, _tvalHi: number, pcLo: number, pcHi: number): boolean {
    if (this.done) return false; // the harness keeps running a stopped hart: it stays at the shutdown call
    this.exits.push(cause);
    const pc = pairToNumber(pcLo, pcHi);
    switch (cause) {
      case H.CAUSE_ECALL_VS:
        if (hart.getReg(A7) === SBI_SHUTDOWN) {
          this.done = true;
          return false;
        }
        if (hart.getReg(A7) === SBI_PUTCHAR) this.output += String.fromCharCode(hart.getReg(A0));
        hart.pc = pc + 4;
        return true;
      case H.CAUSE_LOAD_GUEST_PAGE_FAULT: {
        const gpa = hart.hext?.faultGpa ?? -1;
        expect(gpa - (gpa % 4096)).toBe(LAZY_GPA);
        this.g.map(LAZY_GPA, LAZY_BACKING, R.PTE_R | R.PTE_W | AD);
        hart.flushTlbs(); // the host's hfence.gvma
        hart.pc = pc; // retry
        return true;
      }
      case H.CAUSE_VIRTUAL_INSTRUCTION:
        hart.pc = pc + 4;
        return true;
      default:
        throw new Error(`unexpected exit ${cause} at 0x${pc.toString(16)}`);
    }
  }
}

describe("a host playing HS: what stays in the guest and what exits", () => {
  it("CSR accesses, sret, sfence.vma and VS-stage faults stay; SBI calls, G-stage misses and wfi exit", () => {
    const t = new HartHarness({ h: true });
    const g = new GStageTables(t, DRAM_BASE + 0x40_0000);
    // Code, the guest's tables and data one to one; LAZY_GPA left unmapped.
    g.map(DRAM_BASE, DRAM_BASE, RWX | AD, 1);
    g.map(DRAM_BASE + 2 ** 21, DRAM_BASE + 2 ** 21, RWX | AD, 1);
    const vs = new PageTables(t);
    for (const page of [GUEST, VS_TRAP]) vs.map(page, page, RWX | AD);
    vs.map(0x4000_0000, LAZY_GPA, R.PTE_R | AD);
    t.write64(LAZY_BACKING, 0x2aan);
    const host = new MiniHypervisor(g);
    t.hart.hostTraps = host;
    t.setCsr(R.CSR_MEDELEG, (1 << R.CAUSE_ILLEGAL_INSTRUCTION) | (1 << R.CAUSE_LOAD_PAGE_FAULT) | (1 << H.CAUSE_ECALL_VS));
    t.setCsr(H.CSR_HEDELEG, (1 << R.CAUSE_ILLEGAL_INSTRUCTION) | (1 << R.CAUSE_LOAD_PAGE_FAULT));
    t.setCsr(H.CSR_HGATP, g.hgatp(1));
    t.setCsr(H.CSR_VSATP, vs.satp(7));
    t.setCsr(H.CSR_HSTATUS, H.HSTATUS_SPV | H.HSTATUS_SPVP | H.HSTATUS_VTW);
    t.setCsr(R.CSR_MSTATUS, R.MSTATUS_SPP);
    t.setCsr(R.CSR_SEPC, GUEST);
    t.setPriv(R.PRV_S);
    // The guest's trap handler: skip the faulting instruction, sret.
    t.load([enc.csrrs(T0, R.CSR_SEPC, 0), enc.addi(T0, T0, 4), enc.csrrw(0, R.CSR_SEPC, T0), enc.sret()], VS_TRAP);
    const guest = [
      enc.csrrw(0, R.CSR_STVEC, T0), // vstvec (t0 = VS_TRAP, set below)
      enc.csrrw(0, R.CSR_SSCRATCH, T0), enc.csrrs(A1, R.CSR_SSTATUS, 0),
      enc.sfence_vma(0, 0),
      0xffffffff, // illegal: to the guest's own handler (hedeleg)
      enc.lui(A1, 0x40001), enc.ld(A0, A1, 0), // VS page fault: the guest's own
      enc.lui(A1, 0x40000), enc.ld(12, A1, 0), // a G-stage miss the host fills, then the value
      enc.wfi(), // exits under VTW
      enc.addi(A7, 0, SBI_PUTCHAR), enc.addi(A0, 0, 0x68), enc.ecall(),
      enc.addi(A7, 0, SBI_SHUTDOWN), enc.ecall(),
    ];
    t.load(guest, GUEST);
    t.load([enc.sret()], CODE_BASE);
    t.pc = CODE_BASE;
    t.setReg(T0, VS_TRAP);
    t.run(200);
    expect(host.done).toBe(true);
    expect(host.output).toBe("h");
    expect(host.exits).toEqual([H.CAUSE_LOAD_GUEST_PAGE_FAULT, H.CAUSE_VIRTUAL_INSTRUCTION, H.CAUSE_ECALL_VS, H.CAUSE_ECALL_VS]);
    t.expectReg("the lazily backed value", 12, 0x2aan);
    expect(t.hart.csr.virt).toBe(1);
    t.expectCsr("guest's sscratch", "sscratch (vsscratch while V=1)", R.CSR_SSCRATCH, VS_TRAP);
  });
});
