/*
 * HSM hart_start from any thread: the started vCPU is an S-mode hart set up
 * exactly as the boot hart was (SBI spec 9.1 plus the hypervisor-firmware's
 * delegation), so traps from its own U-mode reach its own kernel. And the
 * handshake over the hsm word (runpage.ts): a hart_start claims only a
 * STOPPED hart, so it never writes registers a stopping vCPU still owns.
 */

import { describe, expect, it } from "vitest";
import {
  HSM_START_PENDING,
  HSM_STARTED,
  HSM_STOP_PENDING,
  HSM_STOPPED,
  HSM_SUSPENDED,
  SBI_ERR_ALREADY_AVAILABLE,
  SBI_ERR_INVALID_ADDRESS,
  SBI_ERR_INVALID_PARAM,
  SBI_SUCCESS,
} from "../../src/hypervisor/exits/services.ts";
import { Peers } from "../../src/hypervisor/peers.ts";
import { HSM_START_CLAIMED, RunPage } from "../../src/hypervisor/runpage.ts";
import { VcpuContext, VmClock } from "../../src/hypervisor/vcpu-context.ts";
import * as R from "../../src/machine/riscv.ts";

const RAM = 0x8000_0000;

/** Two vCPUs as --bios hv boots them: hart 0 STARTED, hart 1 STOPPED. */
function twoHarts(): { pages: RunPage[]; peers: Peers } {
  const pages = [new RunPage(), new RunPage()];
  pages[0].hsm[0] = HSM_STARTED;
  pages[1].hsm[0] = HSM_STOPPED;
  return { pages, peers: new Peers(pages, RAM, 16 * 2 ** 20) };
}

describe("HSM hart_start", () => {
  it("starts a stopped hart in S-mode at the address, a0 = hartid, a1 = opaque, with S-mode delegation", () => {
    const { pages, peers } = twoHarts();
    expect(peers.hartState(1)).toBe(HSM_STOPPED);
    expect(peers.hartStart(1, RAM + 0x1000, 0x1234n)).toBe(SBI_SUCCESS);
    // START_PENDING until the vCPU thread takes the hart (vcpu-runner.ts awaitStart).
    expect(peers.hartState(1)).toBe(HSM_START_PENDING);
    const ctx = new VcpuContext(1, pages[1], new VmClock(VmClock.now()), true);
    expect(ctx.pc).toBe(RAM + 0x1000);
    expect(ctx.reg(10)).toBe(1);
    expect(ctx.reg(11)).toBe(0x1234);
    expect(peers.hartState(0)).toBe(HSM_STARTED);
    expect(ctx.csr.priv).toBe(R.PRV_S);
    expect(ctx.csr.medeleg & (1 << R.CAUSE_ECALL_U)).not.toBe(0);
    expect(ctx.csr.mideleg).toBe(R.S_INTERRUPTS);
    expect(ctx.csr.mstatus & R.MSTATUS_SIE).toBe(0);
    expect(ctx.csr.lo[R.CSR_SATP]).toBe(0);
    expect(ctx.csr.stce).toBe(true);
  });

  it("refuses a started hart and an address outside guest RAM", () => {
    const { peers } = twoHarts();
    expect(peers.hartStart(1, 0x1000, 0n)).toBe(SBI_ERR_INVALID_ADDRESS);
    expect(peers.hartStart(0, RAM, 0n)).toBe(SBI_ERR_ALREADY_AVAILABLE);
    expect(peers.hartStart(2, RAM, 0n)).toBe(SBI_ERR_INVALID_PARAM);
  });

  it("a hart in transition or suspended is not started again: INVALID_PARAM, as OpenSBI answers", () => {
    const { pages, peers } = twoHarts();
    for (const state of [HSM_START_PENDING, HSM_START_CLAIMED, HSM_STOP_PENDING, HSM_SUSPENDED]) {
      pages[1].hsm[0] = state;
      pages[1].pc[0] = 0x1234;
      expect(peers.hartStart(1, RAM, 7n)).toBe(SBI_ERR_INVALID_PARAM);
      expect(pages[1].pc[0], "nothing written").toBe(0x1234);
      expect(pages[1].hsm[0]).toBe(state);
    }
  });

  it("a1 gets all 64 bits of opaque", () => {
    const { pages, peers } = twoHarts();
    expect(peers.hartStart(1, RAM, 0x8badc0de00000001n)).toBe(SBI_SUCCESS);
    expect([pages[1].regs[2 * 11], pages[1].regs[2 * 11 + 1]]).toEqual([1, 0x8badc0de | 0]);
  });

  it("a claimed hart reads START_PENDING while its starter writes its registers", () => {
    const { pages, peers } = twoHarts();
    pages[1].hsm[0] = HSM_START_CLAIMED;
    expect(peers.hartState(1)).toBe(HSM_START_PENDING);
  });
});

describe("HSM hart_stop and hart_suspend of the calling hart", () => {
  it("hart_stop leaves STOP_PENDING: the vCPU thread, not the handler, publishes STOPPED; no start until then", () => {
    const { pages, peers } = twoHarts();
    peers.hartStop(0);
    expect(peers.hartState(0)).toBe(HSM_STOP_PENDING);
    expect(peers.hartStart(0, RAM, 1n)).toBe(SBI_ERR_INVALID_PARAM);
    pages[0].hsm[0] = HSM_STOPPED; // what the vCPU thread stores once parked
    expect(peers.hartStart(0, RAM, 1n)).toBe(SBI_SUCCESS);
  });

  it("a hart that is not STARTED cannot stop or suspend itself: a bug, reported loudly", () => {
    const { peers } = twoHarts();
    expect(() => peers.hartStop(1)).toThrow(/hart 1 stops itself from state 1/);
    expect(() => peers.hartSuspend(1)).toThrow(/hart 1 suspends itself/);
  });

  it("hart_suspend makes the caller SUSPENDED", () => {
    const { peers } = twoHarts();
    expect(peers.hartSuspend(0, 0x10)).toBe(SBI_ERR_INVALID_ADDRESS);
    expect(peers.hartState(0)).toBe(HSM_STARTED);
    expect(peers.hartSuspend(0)).toBe(SBI_SUCCESS);
    expect(peers.hartState(0)).toBe(HSM_SUSPENDED);
  });

  it("hart_start drops an IPI that raced with the hart's stop", () => {
    const { pages, peers } = twoHarts();
    pages[1].ipi[0] = 1;
    expect(peers.hartStart(1, RAM, 0n)).toBe(SBI_SUCCESS);
    expect(pages[1].ipi[0]).toBe(0);
  });
});
