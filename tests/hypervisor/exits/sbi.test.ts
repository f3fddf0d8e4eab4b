import { describe, expect, it } from "vitest";
import * as R from "../../../src/machine/riscv.ts";
import { GUEST_OK } from "../../../src/machine/guest-memory-view.ts";
import { PhysMem } from "../../../src/machine/physmem.ts";
import { PhysMemView } from "../../../src/machine/physmem-view.ts";
import { RunPage } from "../../../src/hypervisor/runpage.ts";
import { STAT } from "../../../src/hypervisor/stats.ts";
import { VcpuContext, VmClock } from "../../../src/hypervisor/vcpu-context.ts";
import * as S from "../../../src/hypervisor/exits/services.ts";
import * as SBI from "../../../src/hypervisor/exits/sbi.ts";

const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 0x1_0000;
const PC = 0x8020_1000;
const A0 = 10;
const A1 = 11;

/** A VM of `harts` vCPUs with a small RAM, recording what SBI asked of it. */
class FakeVm implements S.VmServices {
  /** Guest RAM: a PhysMem at RAM_BASE, seen through the native board's view. */
  readonly memory = new PhysMemView(new PhysMem(RAM_SIZE));
  readonly states: number[];
  readonly console: number[] = [];
  readonly input: number[] = [];
  readonly ipis: number[] = [];
  readonly suspended: { hart: number; resumeAddr: number | undefined }[] = [];
  readonly fences: number[] = [];
  readonly started: { hart: number; start: number; opaque: bigint }[] = [];
  readonly stopped: number[] = [];
  readonly ended: string[] = [];

  constructor(readonly hartCount: number) {
    this.states = Array.from({ length: hartCount }, (_, h) => (h === 0 ? S.HSM_STARTED : S.HSM_STOPPED));
  }
  private inRam(gpa: number, length: number): boolean {
    return gpa >= RAM_BASE && gpa + length <= RAM_BASE + RAM_SIZE;
  }
  consoleWrite(bytes: Uint8Array): void {
    this.console.push(...bytes);
  }
  consoleRead(): number {
    return this.input.shift() ?? -1;
  }
  writeGuest(gpa: number, bytes: Uint8Array): void {
    expect(this.memory.copyIn(gpa, bytes)).toBe(GUEST_OK);
  }
  shutdown(exitCode: number): void {
    this.ended.push(`shutdown ${exitCode}`);
  }
  reboot(): void {
    this.ended.push("reboot");
  }
  hartState(hart: number): number {
    return this.states[hart] ?? -1;
  }
  hartStart(hart: number, start: number, opaque: bigint): number {
    if (!this.inRam(start, 1)) return S.SBI_ERR_INVALID_ADDRESS;
    // As Peers.hartStart: only a STOPPED hart is claimed.
    if (this.states[hart] !== S.HSM_STOPPED) return this.states[hart] === S.HSM_STARTED ? S.SBI_ERR_ALREADY_AVAILABLE : S.SBI_ERR_INVALID_PARAM;
    this.states[hart] = S.HSM_STARTED;
    this.started.push({ hart, start, opaque });
    return S.SBI_SUCCESS;
  }
  hartStop(hart: number): void {
    this.states[hart] = S.HSM_STOP_PENDING;
    this.stopped.push(hart);
  }
  hartSuspend(hart: number, resumeAddr?: number): number {
    if (resumeAddr !== undefined && !this.inRam(resumeAddr, 1)) return S.SBI_ERR_INVALID_ADDRESS;
    this.states[hart] = S.HSM_SUSPENDED;
    this.suspended.push({ hart, resumeAddr });
    return S.SBI_SUCCESS;
  }
  sendIpi(hart: number): void {
    this.ipis.push(hart);
  }
  remoteFenceI(hart: number): void {
    this.fences.push(hart);
  }
  readonly shootdowns: number[][] = [];
  remoteSfenceVma(_caller: number, harts: readonly number[]): void {
    this.shootdowns.push([...harts]);
  }
  text(): string {
    return String.fromCharCode(...this.console);
  }
}

function vcpu(hartId = 0): VcpuContext {
  const ctx = new VcpuContext(hartId, new RunPage(), new VmClock(VmClock.now()));
  ctx.csr.priv = R.PRV_S;
  return ctx;
}

/** Makes the SBI call (eid, fid, args in a0..a5) and returns [a0, a1] as numbers. */
function call(ctx: VcpuContext, vm: S.VmServices, eid: number, fid: number, ...args: number[]): [number, number] {
  ctx.setReg(17, eid);
  ctx.setReg(16, fid);
  args.forEach((v, i) => ctx.setReg(A0 + i, v));
  SBI.handleSbi(ctx, vm, PC);
  return [ctx.reg(A0), ctx.reg(A1)];
}

describe("SBI calling convention (SBI spec 3)", () => {
  it("returns past the ecall and counts an sbi_exit", () => {
    const ctx = vcpu();
    call(ctx, new FakeVm(1), SBI.EID_BASE, SBI.BASE_GET_SPEC_VERSION);
    expect(ctx.pc).toBe(PC + 4);
    expect(ctx.stats[STAT.sbi_exit]).toBe(1);
  });

  it("an unknown EID or FID is SBI_ERR_NOT_SUPPORTED", () => {
    const ctx = vcpu();
    const vm = new FakeVm(1);
    expect(call(ctx, vm, 0x12345678, 0)[0]).toBe(S.SBI_ERR_NOT_SUPPORTED);
    expect(call(ctx, vm, 0x09, 0)[0]).toBe(S.SBI_ERR_NOT_SUPPORTED); // reserved legacy EID
    for (const eid of [SBI.EID_BASE, SBI.EID_TIME, SBI.EID_IPI, SBI.EID_HSM, SBI.EID_SRST, SBI.EID_DBCN]) {
      expect(call(ctx, vm, eid, 99)[0]).toBe(S.SBI_ERR_NOT_SUPPORTED);
    }
  });

  it("EIDs and FIDs are signed 32-bit: junk in the upper half names nothing", () => {
    const ctx = vcpu();
    const vm = new FakeVm(1);
    ctx.setRegPair(17, SBI.EID_BASE, 1);
    ctx.setReg(16, 0);
    SBI.handleSbi(ctx, vm, PC);
    expect(ctx.reg(A0)).toBe(S.SBI_ERR_NOT_SUPPORTED);
    ctx.setReg(17, SBI.EID_BASE);
    ctx.setRegPair(16, 0, 7);
    SBI.handleSbi(ctx, vm, PC);
    expect(ctx.reg(A0)).toBe(S.SBI_ERR_NOT_SUPPORTED);
  });

  it("only console, guest-memory and reset calls need the main thread", () => {
    expect(SBI.sbiNeedsMainThread(SBI.EID_DBCN, SBI.DBCN_CONSOLE_WRITE)).toBe(true);
    expect(SBI.sbiNeedsMainThread(SBI.EID_SRST, 0)).toBe(true);
    expect(SBI.sbiNeedsMainThread(SBI.EID_LEGACY_CONSOLE_PUTCHAR, 0)).toBe(true);
    expect(SBI.sbiNeedsMainThread(SBI.EID_LEGACY_CONSOLE_GETCHAR, 0)).toBe(true);
    expect(SBI.sbiNeedsMainThread(SBI.EID_LEGACY_SHUTDOWN, 0)).toBe(true);
    expect(SBI.sbiNeedsMainThread(SBI.EID_LEGACY_SEND_IPI, 0)).toBe(true); // reads its mask from guest memory
    for (const eid of [SBI.EID_BASE, SBI.EID_TIME, SBI.EID_IPI, SBI.EID_RFENCE, SBI.EID_HSM, SBI.EID_LEGACY_SET_TIMER, 0x12345678]) {
      expect(SBI.sbiNeedsMainThread(eid, 0)).toBe(false);
    }
  });
});

describe("Base extension (SBI spec 4)", () => {
  const ctx = vcpu();
  const vm = new FakeVm(1);

  it("reports spec version 2.0 (major in bits 30:24)", () => {
    expect(call(ctx, vm, SBI.EID_BASE, SBI.BASE_GET_SPEC_VERSION)).toEqual([0, 0x0200_0000]);
  });

  it("reports popek's implementation id and version", () => {
    expect(call(ctx, vm, SBI.EID_BASE, SBI.BASE_GET_IMPL_ID)).toEqual([0, SBI.SBI_IMPL_ID_POPEK]);
    expect(call(ctx, vm, SBI.EID_BASE, SBI.BASE_GET_IMPL_VERSION)).toEqual([0, SBI.SBI_IMPL_VERSION]);
  });

  it("probe_extension returns 1 for implemented extensions and 0 otherwise", () => {
    const implemented = [SBI.EID_BASE, SBI.EID_TIME, SBI.EID_IPI, SBI.EID_RFENCE, SBI.EID_HSM, SBI.EID_SRST, SBI.EID_DBCN, 0, 1, 2, 3, 4, 5, 6, 7, 8];
    for (const eid of implemented) expect(call(ctx, vm, SBI.EID_BASE, SBI.BASE_PROBE_EXTENSION, eid)).toEqual([0, 1]);
    for (const eid of [0x09, 0x0f, 0x504d55 /* PMU */, 0x53555350 /* SUSP */, -1]) {
      expect(call(ctx, vm, SBI.EID_BASE, SBI.BASE_PROBE_EXTENSION, eid)).toEqual([0, 0]);
    }
  });

  it("mvendorid, marchid and mimpid are 0", () => {
    for (const fid of [SBI.BASE_GET_MVENDORID, SBI.BASE_GET_MARCHID, SBI.BASE_GET_MIMPID]) {
      expect(call(ctx, vm, SBI.EID_BASE, fid)).toEqual([0, 0]);
    }
  });
});

describe("TIME extension (SBI spec 6) and legacy set_timer", () => {
  it("set_timer writes the absolute deadline and clears a pending STIP", () => {
    const ctx = vcpu();
    ctx.csr.setHwPending(R.IRQ_S_TIMER, true);
    expect(call(ctx, new FakeVm(1), SBI.EID_TIME, SBI.TIME_SET_TIMER, 5_000_000_000)).toEqual([0, 0]);
    expect(ctx.page.timerDeadline[0]).toBe(5_000_000_000);
    expect(ctx.csr.mip & R.MIP_STIP).toBe(0);
  });

  it("stime_value is unsigned: all ones is a deadline far in the future, not -1", () => {
    const ctx = vcpu();
    call(ctx, new FakeVm(1), SBI.EID_TIME, SBI.TIME_SET_TIMER, -1);
    expect(ctx.page.timerDeadline[0]).toBe(2 ** 64);
  });

  it("legacy set_timer (EID 0) does the same and preserves a1", () => {
    const ctx = vcpu();
    ctx.csr.setHwPending(R.IRQ_S_TIMER, true);
    ctx.setReg(A1, 77);
    expect(call(ctx, new FakeVm(1), SBI.EID_LEGACY_SET_TIMER, 0, 5_000_000_000)).toEqual([0, 77]);
    expect(ctx.page.timerDeadline[0]).toBe(5_000_000_000);
    expect(ctx.csr.mip & R.MIP_STIP).toBe(0);
  });

  it("a deadline already passed raises STIP at once (SBI spec 6.1: the event is in the past)", () => {
    const ctx = vcpu();
    call(ctx, new FakeVm(1), SBI.EID_TIME, SBI.TIME_SET_TIMER, 0);
    expect(ctx.csr.mip & R.MIP_STIP).toBe(R.MIP_STIP);
    call(ctx, new FakeVm(1), SBI.EID_TIME, SBI.TIME_SET_TIMER, -1);
    expect(ctx.csr.mip & R.MIP_STIP).toBe(0);
  });
});

describe("IPI extension (SBI spec 7)", () => {
  function started(n: number): FakeVm {
    const vm = new FakeVm(n);
    vm.states.fill(S.HSM_STARTED);
    return vm;
  }

  it("send_ipi reaches the harts of hart_mask counted from hart_mask_base", () => {
    const vm = started(4);
    expect(call(vcpu(), vm, SBI.EID_IPI, SBI.IPI_SEND_IPI, 0b101, 1)).toEqual([0, 0]);
    expect(vm.ipis).toEqual([1, 3]);
  });

  it("hart_mask_base = -1 means every hart, whatever hart_mask says", () => {
    const vm = started(3);
    expect(call(vcpu(), vm, SBI.EID_IPI, SBI.IPI_SEND_IPI, 0, -1)[0]).toBe(0);
    expect(vm.ipis).toEqual([0, 1, 2]);
  });

  it("a hart beyond the VM is SBI_ERR_INVALID_PARAM, and nobody is interrupted", () => {
    const vm = started(2);
    expect(call(vcpu(), vm, SBI.EID_IPI, SBI.IPI_SEND_IPI, 0b111, 0)[0]).toBe(S.SBI_ERR_INVALID_PARAM);
    expect(call(vcpu(), vm, SBI.EID_IPI, SBI.IPI_SEND_IPI, 1, 2)[0]).toBe(S.SBI_ERR_INVALID_PARAM);
    expect(call(vcpu(), vm, SBI.EID_IPI, SBI.IPI_SEND_IPI, 1, 2 ** 40)[0]).toBe(S.SBI_ERR_INVALID_PARAM);
    expect(call(vcpu(), vm, SBI.EID_IPI, SBI.IPI_SEND_IPI, -1, 0)[0]).toBe(S.SBI_ERR_INVALID_PARAM); // bit 63
    expect(vm.ipis).toEqual([]);
  });

  it("an IPI to a stopped hart is dropped", () => {
    const vm = new FakeVm(2); // hart 1 stopped
    expect(call(vcpu(), vm, SBI.EID_IPI, SBI.IPI_SEND_IPI, 0b11, 0)[0]).toBe(0);
    expect(vm.ipis).toEqual([0]);
  });
});

describe("RFENCE extension (SBI spec 8)", () => {
  it("remote_fence_i fences every hart named", () => {
    const vm = new FakeVm(3);
    expect(call(vcpu(), vm, SBI.EID_RFENCE, SBI.RFENCE_FENCE_I, 0b110, 0)).toEqual([0, 0]);
    expect(vm.fences).toEqual([1, 2]);
  });

  it("remote_sfence_vma and _asid succeed after checking the hart mask", () => {
    const vm = new FakeVm(2);
    expect(call(vcpu(), vm, SBI.EID_RFENCE, SBI.RFENCE_SFENCE_VMA, 0b11, 0, 0, -1)[0]).toBe(0);
    expect(call(vcpu(), vm, SBI.EID_RFENCE, SBI.RFENCE_SFENCE_VMA_ASID, 1, -1, 0x1000, 0x1000, 3)[0]).toBe(0);
    expect(call(vcpu(), vm, SBI.EID_RFENCE, SBI.RFENCE_SFENCE_VMA, 0b100, 0, 0, 0)[0]).toBe(S.SBI_ERR_INVALID_PARAM);
  });

  it("the hfence functions need the H extension: not supported", () => {
    for (const fid of [3, 4, 5, 6]) expect(call(vcpu(), new FakeVm(1), SBI.EID_RFENCE, fid, 1, 0)[0]).toBe(S.SBI_ERR_NOT_SUPPORTED);
  });
});

describe("HSM extension (SBI spec 9)", () => {
  it("hart_start starts a stopped hart at start_addr with opaque", () => {
    const vm = new FakeVm(2);
    expect(call(vcpu(), vm, SBI.EID_HSM, SBI.HSM_HART_START, 1, RAM_BASE + 0x100, 0xabcd)).toEqual([0, 0]);
    expect(vm.started).toEqual([{ hart: 1, start: RAM_BASE + 0x100, opaque: 0xabcdn }]);
  });

  it("hart_start passes all 64 bits of opaque, above 2^53 too", () => {
    const vm = new FakeVm(2);
    const ctx = vcpu();
    ctx.setRegPair(A0 + 2, 0x00000001, 0x0badc0de | 0);
    expect(call(ctx, vm, SBI.EID_HSM, SBI.HSM_HART_START, 1, RAM_BASE)[0]).toBe(0);
    expect(vm.started[0].opaque).toBe(0x0badc0de00000001n);
    ctx.setRegPair(A0 + 2, -1, -1);
    vm.states[1] = S.HSM_STOPPED;
    call(ctx, vm, SBI.EID_HSM, SBI.HSM_HART_START, 1, RAM_BASE);
    expect(vm.started[1].opaque).toBe(0xffffffffffffffffn);
  });

  it("hart_start of a started hart is SBI_ERR_ALREADY_AVAILABLE", () => {
    const vm = new FakeVm(2);
    expect(call(vcpu(), vm, SBI.EID_HSM, SBI.HSM_HART_START, 0, RAM_BASE, 0)[0]).toBe(S.SBI_ERR_ALREADY_AVAILABLE);
    expect(vm.started).toEqual([]);
  });

  it("hart_start of a hart that does not exist is SBI_ERR_INVALID_PARAM", () => {
    const vm = new FakeVm(2);
    for (const hart of [2, -1, 2 ** 32]) expect(call(vcpu(), vm, SBI.EID_HSM, SBI.HSM_HART_START, hart, RAM_BASE, 0)[0]).toBe(S.SBI_ERR_INVALID_PARAM);
  });

  it("hart_start passes the VM's verdict on start_addr through", () => {
    const vm = new FakeVm(2);
    expect(call(vcpu(), vm, SBI.EID_HSM, SBI.HSM_HART_START, 1, 0x1000, 0)[0]).toBe(S.SBI_ERR_INVALID_ADDRESS);
    expect(call(vcpu(), vm, SBI.EID_HSM, SBI.HSM_HART_START, 1, -4, 0)[0]).toBe(S.SBI_ERR_INVALID_ADDRESS);
  });

  it("hart_stop stops the calling hart and does not return: a0 and a1 are not written", () => {
    const vm = new FakeVm(2);
    vm.states[1] = S.HSM_STARTED;
    const ctx = vcpu(1);
    ctx.setReg(A0, 0x77);
    ctx.setReg(A1, 0x5a5a);
    const [a0, a1] = call(ctx, vm, SBI.EID_HSM, SBI.HSM_HART_STOP);
    expect(vm.stopped).toEqual([1]);
    expect(vm.states[1]).toBe(S.HSM_STOP_PENDING);
    // From STOPPED on, a0/a1 belong to the next hart_start: the handler leaves them as they were.
    expect([a0, a1]).toEqual([0x77, 0x5a5a]);
  });

  it("hart_get_status reports the HSM state, or SBI_ERR_INVALID_PARAM", () => {
    const vm = new FakeVm(2);
    expect(call(vcpu(), vm, SBI.EID_HSM, SBI.HSM_HART_GET_STATUS, 0)).toEqual([0, S.HSM_STARTED]);
    expect(call(vcpu(), vm, SBI.EID_HSM, SBI.HSM_HART_GET_STATUS, 1)).toEqual([0, S.HSM_STOPPED]);
    expect(call(vcpu(), vm, SBI.EID_HSM, SBI.HSM_HART_GET_STATUS, 2)[0]).toBe(S.SBI_ERR_INVALID_PARAM);
  });

  it("hart_suspend, default retentive: returns success once resumed; the vCPU waits, SUSPENDED meanwhile", () => {
    const vm = new FakeVm(1);
    const ctx = vcpu();
    ctx.setReg(17, SBI.EID_HSM);
    ctx.setReg(16, SBI.HSM_HART_SUSPEND);
    ctx.setReg(A0, SBI.SUSPEND_DEFAULT_RETENTIVE);
    expect(SBI.handleSbi(ctx, vm, PC)).toBe(SBI.SBI_SUSPEND);
    expect(ctx.reg(A0)).toBe(S.SBI_SUCCESS);
    expect(ctx.pc).toBe(PC + 4);
    expect(vm.suspended).toEqual([{ hart: 0, resumeAddr: undefined }]);
    expect(vm.hartState(0)).toBe(S.HSM_SUSPENDED);
  });

  it("hart_suspend, default non-retentive: resumes at resume_addr with a0 = hartid, a1 = opaque, satp = 0, SIE = 0", () => {
    const vm = new FakeVm(2);
    const ctx = vcpu(1);
    ctx.csr.write(R.CSR_SSTATUS, R.MSTATUS_SIE, 0);
    ctx.csr.write(R.CSR_SATP, 0, 0); // Bare (guest paging is not virtualized yet)
    ctx.setReg(17, SBI.EID_HSM);
    ctx.setReg(16, SBI.HSM_HART_SUSPEND);
    ctx.setReg(A0, SBI.SUSPEND_DEFAULT_NON_RETENTIVE);
    ctx.setReg(A1, RAM_BASE + 0x2000);
    ctx.setRegPair(A0 + 2, 0x5678, 0x7eadbeef); // above 2^53: exact all the same
    expect(SBI.handleSbi(ctx, vm, PC)).toBe(SBI.SBI_SUSPEND);
    expect(ctx.pc).toBe(RAM_BASE + 0x2000);
    expect(ctx.reg(A0)).toBe(1);
    expect([ctx.x[2 * A1], ctx.x[2 * A1 + 1]]).toEqual([0x5678, 0x7eadbeef]);
    expect(ctx.csr.mstatus & R.MSTATUS_SIE).toBe(0);
    expect(ctx.csr.priv).toBe(R.PRV_S);
    expect(vm.hartState(1)).toBe(S.HSM_SUSPENDED);
  });

  it("hart_suspend: a resume address outside RAM, reserved and platform types are refused and the call returns", () => {
    const vm = new FakeVm(1);
    const ctx = vcpu();
    expect(call(ctx, vm, SBI.EID_HSM, SBI.HSM_HART_SUSPEND, SBI.SUSPEND_DEFAULT_NON_RETENTIVE, 0x1000, 0)[0]).toBe(S.SBI_ERR_INVALID_ADDRESS);
    expect(ctx.pc).toBe(PC + 4);
    for (const type of [1, 0x1000_0000, 0x8000_0001, 0x9000_0000]) {
      expect(call(vcpu(), vm, SBI.EID_HSM, SBI.HSM_HART_SUSPEND, type, RAM_BASE, 0)[0]).toBe(S.SBI_ERR_INVALID_PARAM);
    }
    expect(vm.suspended).toEqual([]);
    expect(vm.hartState(0)).toBe(S.HSM_STARTED);
  });
});

describe("SRST extension (SBI spec 10)", () => {
  it("shutdown with no reason exits 0; system failure exits 1", () => {
    const vm = new FakeVm(1);
    call(vcpu(), vm, SBI.EID_SRST, SBI.SRST_SYSTEM_RESET, SBI.SRST_TYPE_SHUTDOWN, SBI.SRST_REASON_NONE);
    call(vcpu(), vm, SBI.EID_SRST, SBI.SRST_SYSTEM_RESET, SBI.SRST_TYPE_SHUTDOWN, SBI.SRST_REASON_SYSTEM_FAILURE);
    expect(vm.ended).toEqual(["shutdown 0", "shutdown 1"]);
  });

  it("popek's own reasons 0xE0000000 + n exit with status n", () => {
    const vm = new FakeVm(1);
    call(vcpu(), vm, SBI.EID_SRST, SBI.SRST_SYSTEM_RESET, 0, SBI.SRST_REASON_POPEK_EXIT + 42);
    expect(vm.ended).toEqual(["shutdown 42"]);
  });

  it("cold and warm reboot reboot the VM", () => {
    const vm = new FakeVm(1);
    call(vcpu(), vm, SBI.EID_SRST, SBI.SRST_SYSTEM_RESET, SBI.SRST_TYPE_COLD_REBOOT, 0);
    call(vcpu(), vm, SBI.EID_SRST, SBI.SRST_SYSTEM_RESET, SBI.SRST_TYPE_WARM_REBOOT, 0);
    expect(vm.ended).toEqual(["reboot", "reboot"]);
  });

  it("reserved or unimplemented types and reasons are SBI_ERR_INVALID_PARAM, and nothing happens", () => {
    const vm = new FakeVm(1);
    const bad: [number, number][] = [[3, 0], [0xf000_0000, 0], [0, 2], [0, 0xe000_0100], [0, 0xf000_0000]];
    for (const [type, reason] of bad) expect(call(vcpu(), vm, SBI.EID_SRST, SBI.SRST_SYSTEM_RESET, type, reason)[0]).toBe(S.SBI_ERR_INVALID_PARAM);
    expect(vm.ended).toEqual([]);
  });

  it("uses only the low 32 bits of its uint32_t parameters", () => {
    const vm = new FakeVm(1);
    call(vcpu(), vm, SBI.EID_SRST, SBI.SRST_SYSTEM_RESET, 2 ** 32 * 5, 2 ** 32 + 1);
    expect(vm.ended).toEqual(["shutdown 1"]);
  });
});

describe("DBCN extension (SBI spec 12)", () => {
  function withText(text: string, at = RAM_BASE + 0x100): FakeVm {
    const vm = new FakeVm(1);
    vm.writeGuest(at, new TextEncoder().encode(text));
    return vm;
  }

  it("console_write writes the buffer and returns the byte count", () => {
    const vm = withText("hello");
    expect(call(vcpu(), vm, SBI.EID_DBCN, SBI.DBCN_CONSOLE_WRITE, 5, RAM_BASE + 0x100, 0)).toEqual([0, 5]);
    expect(vm.text()).toBe("hello");
  });

  it("console_write of 0 bytes succeeds and writes nothing", () => {
    const vm = new FakeVm(1);
    expect(call(vcpu(), vm, SBI.EID_DBCN, SBI.DBCN_CONSOLE_WRITE, 0, 0, 0)).toEqual([0, 0]);
    expect(vm.console).toEqual([]);
  });

  it("a long console_write is partial: at most DBCN_MAX_BYTES per call", () => {
    const vm = new FakeVm(1);
    expect(call(vcpu(), vm, SBI.EID_DBCN, SBI.DBCN_CONSOLE_WRITE, RAM_SIZE, RAM_BASE, 0)).toEqual([0, SBI.DBCN_MAX_BYTES]);
    expect(vm.console.length).toBe(SBI.DBCN_MAX_BYTES);
  });

  it("a buffer outside guest RAM, or past its end, or above 2^64 is SBI_ERR_INVALID_PARAM", () => {
    const vm = new FakeVm(1);
    const bad: [number, number, number][] = [
      [4, 0x1000_0000, 0],
      [RAM_SIZE + 1, RAM_BASE, 0],
      [16, RAM_BASE + RAM_SIZE - 8, 0],
      [4, RAM_BASE, 1],
      [-1, RAM_BASE, 0],
      [2, -1, 0],
    ];
    for (const [n, lo, hi] of bad) expect(call(vcpu(), vm, SBI.EID_DBCN, SBI.DBCN_CONSOLE_WRITE, n, lo, hi)[0]).toBe(S.SBI_ERR_INVALID_PARAM);
    expect(vm.console).toEqual([]);
  });

  it("console_read fills the buffer with what is waiting, up to num_bytes", () => {
    const vm = new FakeVm(1);
    vm.input.push(...new TextEncoder().encode("abc"));
    expect(call(vcpu(), vm, SBI.EID_DBCN, SBI.DBCN_CONSOLE_READ, 2, RAM_BASE, 0)).toEqual([0, 2]);
    expect([vm.memory.readU8(RAM_BASE), vm.memory.readU8(RAM_BASE + 1)].map((b) => String.fromCharCode(b)).join("")).toBe("ab");
    expect(call(vcpu(), vm, SBI.EID_DBCN, SBI.DBCN_CONSOLE_READ, 8, RAM_BASE, 0)).toEqual([0, 1]);
    expect(call(vcpu(), vm, SBI.EID_DBCN, SBI.DBCN_CONSOLE_READ, 8, RAM_BASE, 0)).toEqual([0, 0]);
  });

  it("console_read into a bad buffer is SBI_ERR_INVALID_PARAM and consumes no input", () => {
    const vm = new FakeVm(1);
    vm.input.push(0x41);
    expect(call(vcpu(), vm, SBI.EID_DBCN, SBI.DBCN_CONSOLE_READ, 4, 0x1000, 0)[0]).toBe(S.SBI_ERR_INVALID_PARAM);
    expect(vm.input).toEqual([0x41]);
  });

  it("console_write_byte writes the low 8 bits", () => {
    const vm = new FakeVm(1);
    expect(call(vcpu(), vm, SBI.EID_DBCN, SBI.DBCN_CONSOLE_WRITE_BYTE, 0x1241)).toEqual([0, 0]);
    expect(vm.text()).toBe("A");
  });
});

describe("legacy extensions (SBI spec 5)", () => {
  it("console_putchar writes a byte, returns 0 in a0 and preserves a1", () => {
    const vm = new FakeVm(1);
    const ctx = vcpu();
    ctx.setReg(A1, 99);
    expect(call(ctx, vm, SBI.EID_LEGACY_CONSOLE_PUTCHAR, 0, 0x7a)).toEqual([0, 99]);
    expect(vm.text()).toBe("z");
  });

  it("console_getchar returns the byte, or -1 when nothing waits", () => {
    const vm = new FakeVm(1);
    vm.input.push(0x31);
    expect(call(vcpu(), vm, SBI.EID_LEGACY_CONSOLE_GETCHAR, 0)[0]).toBe(0x31);
    expect(call(vcpu(), vm, SBI.EID_LEGACY_CONSOLE_GETCHAR, 0)[0]).toBe(-1);
  });

  it("the FID is ignored", () => {
    const ctx = vcpu();
    ctx.setRegPair(16, 5, 12345);
    ctx.setReg(17, SBI.EID_LEGACY_CONSOLE_PUTCHAR);
    ctx.setReg(A0, 0x21);
    const vm = new FakeVm(1);
    SBI.handleSbi(ctx, vm, PC);
    expect(vm.text()).toBe("!");
  });

  it("clear_ipi clears SSIP and a queued IPI, and says whether one was pending", () => {
    const ctx = vcpu();
    ctx.csr.mipSw |= R.MIP_SSIP;
    Atomics.store(ctx.page.ipi, 0, 1);
    expect(call(ctx, new FakeVm(1), SBI.EID_LEGACY_CLEAR_IPI, 0)[0]).toBe(1);
    expect(ctx.csr.mip & R.MIP_SSIP).toBe(0);
    expect(ctx.page.ipi[0]).toBe(0);
    expect(call(ctx, new FakeVm(1), SBI.EID_LEGACY_CLEAR_IPI, 0)[0]).toBe(0);
  });

  it("send_ipi reads its hart mask from guest memory", () => {
    const vm = new FakeVm(3);
    vm.states.fill(S.HSM_STARTED);
    vm.writeGuest(RAM_BASE + 0x40, Uint8Array.of(0b110, 0, 0, 0, 0, 0, 0, 0));
    expect(call(vcpu(), vm, SBI.EID_LEGACY_SEND_IPI, 0, RAM_BASE + 0x40)[0]).toBe(0);
    expect(vm.ipis).toEqual([1, 2]);
  });

  it("a null hart mask pointer means every hart", () => {
    const vm = new FakeVm(2);
    expect(call(vcpu(), vm, SBI.EID_LEGACY_REMOTE_FENCE_I, 0, 0)[0]).toBe(0);
    expect(vm.fences).toEqual([0, 1]);
  });

  it("a mask naming a missing hart is refused and changes nothing", () => {
    const vm = new FakeVm(2);
    vm.writeGuest(RAM_BASE, Uint8Array.of(0b101, 0, 0, 0, 0, 0, 0, 0));
    expect(call(vcpu(), vm, SBI.EID_LEGACY_REMOTE_FENCE_I, 0, RAM_BASE)[0]).toBe(S.SBI_ERR_INVALID_PARAM);
    expect(vm.fences).toEqual([]);
  });

  it("a hart mask pointer outside RAM is a load access fault taken at the ecall", () => {
    const ctx = vcpu();
    ctx.csr.write(R.CSR_MEDELEG, 1 << R.CAUSE_LOAD_ACCESS, 0);
    ctx.csr.setNum(R.CSR_STVEC, RAM_BASE + 0x200);
    call(ctx, new FakeVm(1), SBI.EID_LEGACY_SEND_IPI, 0, 0x1000);
    expect(ctx.pc).toBe(RAM_BASE + 0x200);
    expect(ctx.csr.num(R.CSR_SEPC)).toBe(PC);
    expect(ctx.csr.num(R.CSR_SCAUSE)).toBe(R.CAUSE_LOAD_ACCESS);
    expect(ctx.csr.num(R.CSR_STVAL)).toBe(0x1000);
  });

  it("remote_sfence_vma(_asid) check the mask and succeed", () => {
    const vm = new FakeVm(1);
    expect(call(vcpu(), vm, SBI.EID_LEGACY_REMOTE_SFENCE_VMA, 0, 0, 0, 0)[0]).toBe(0);
    expect(call(vcpu(), vm, SBI.EID_LEGACY_REMOTE_SFENCE_VMA_ASID, 0, 0, 0, 0, 1)[0]).toBe(0);
  });

  it("shutdown powers the VM off with status 0", () => {
    const vm = new FakeVm(1);
    call(vcpu(), vm, SBI.EID_LEGACY_SHUTDOWN, 0);
    expect(vm.ended).toEqual(["shutdown 0"]);
  });
});

describe("a hostile guest cannot make SBI throw", () => {
  it("random registers on every EID give an SBI error or success, never an exception", () => {
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed | 0;
    };
    const eids = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, SBI.EID_BASE, SBI.EID_TIME, SBI.EID_IPI, SBI.EID_RFENCE, SBI.EID_HSM, SBI.EID_SRST, SBI.EID_DBCN];
    for (let i = 0; i < 2000; i++) {
      const ctx = vcpu(1);
      const vm = new FakeVm(2);
      for (let r = 10; r <= 16; r++) ctx.setRegPair(r, next(), i % 3 === 0 ? 0 : next());
      ctx.setReg(16, i % 8);
      ctx.setReg(17, eids[i % eids.length]);
      expect(() => SBI.handleSbi(ctx, vm, PC)).not.toThrow();
      expect(Number.isFinite(ctx.pc)).toBe(true);
    }
  });
});
