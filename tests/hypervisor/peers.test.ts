/*
 * HSM hart_start from any thread: the started vCPU is an S-mode hart set up
 * exactly as the boot hart was (SBI spec 9.1 plus the hypervisor-firmware's
 * delegation), so traps from its own U-mode reach its own kernel.
 */

import { describe, expect, it } from "vitest";
import { HSM_STARTED, HSM_STOPPED, SBI_ERR_ALREADY_AVAILABLE, SBI_ERR_INVALID_ADDRESS, SBI_SUCCESS } from "../../src/hypervisor/exits/services.ts";
import { Peers } from "../../src/hypervisor/peers.ts";
import { CONTROL_STARTED, RunPage } from "../../src/hypervisor/runpage.ts";
import { VcpuContext, VmClock } from "../../src/hypervisor/vcpu-context.ts";
import * as R from "../../src/machine/riscv.ts";

const RAM = 0x8000_0000;

describe("HSM hart_start", () => {
  it("starts a stopped hart in S-mode at the address, a0 = hartid, a1 = opaque, with S-mode delegation", () => {
    const pages = [new RunPage(), new RunPage()];
    const peers = new Peers(pages, RAM, 16 * 2 ** 20);
    expect(peers.hartState(1)).toBe(HSM_STOPPED);
    expect(peers.hartStart(1, RAM + 0x1000, 0x1234)).toBe(SBI_SUCCESS);
    expect(peers.hartState(1)).toBe(HSM_STARTED);
    expect(pages[1].control[0] & CONTROL_STARTED).not.toBe(0);
    const ctx = new VcpuContext(1, pages[1], new VmClock(VmClock.now()), true);
    expect(ctx.pc).toBe(RAM + 0x1000);
    expect(ctx.reg(10)).toBe(1);
    expect(ctx.reg(11)).toBe(0x1234);
    expect(ctx.csr.priv).toBe(R.PRV_S);
    expect(ctx.csr.medeleg & (1 << R.CAUSE_ECALL_U)).not.toBe(0);
    expect(ctx.csr.mideleg).toBe(R.S_INTERRUPTS);
    expect(ctx.csr.mstatus & R.MSTATUS_SIE).toBe(0);
    expect(ctx.csr.lo[R.CSR_SATP]).toBe(0);
    expect(ctx.csr.stce).toBe(true);
  });

  it("refuses a started hart and an address outside guest RAM", () => {
    const pages = [new RunPage(), new RunPage()];
    const peers = new Peers(pages, RAM, 16 * 2 ** 20);
    expect(peers.hartStart(1, 0x1000, 0)).toBe(SBI_ERR_INVALID_ADDRESS);
    expect(peers.hartStart(1, RAM, 0)).toBe(SBI_SUCCESS);
    expect(peers.hartStart(1, RAM, 0)).toBe(SBI_ERR_ALREADY_AVAILABLE);
  });
});
