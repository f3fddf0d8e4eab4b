/*
 * The vCPU thread's loop: the machine's hart running guest code in real
 * U-mode over machine memory, translated by the VM's guest-physical table.
 * Every trap reaches the hart's host trap handler (this runner): handled
 * here when --exit-handler vcpu allows it, otherwise written into the run
 * page as an exit for the hypervisor's main thread. Between slices the loop
 * samples virtual interrupts (device lines, IPIs, timers) and delivers them.
 *
 * The loop is an explicit state machine: Stopped (waiting for HSM start) →
 * Running ⇄ Exit (waiting for the hypervisor) / Halted (wfi) → Finished.
 */

import * as hdr from "hdr-histogram-js";
import { Bus } from "../machine/bus.ts";
import { runSlice } from "../machine/hart-loop.ts";
import { Hart, type HostTrapHandler } from "../machine/hart.ts";
import type { GuestMemoryView } from "../machine/guest-memory-view.ts";
import { TICKS_PER_MS } from "../machine/memlayout.ts";
import { PhysMem } from "../machine/physmem.ts";
import * as R from "../machine/riscv.ts";
import { pendingInterrupt } from "../machine/trap.ts";
import { EXIT_CONTINUE, EXIT_STOP, EXIT_WAIT, TrapDispatcher } from "./exits/dispatch.ts";
import { injectPendingInterrupt, interruptWaiting } from "./exits/reflect.ts";
import { fromPredecoded } from "./exits/decode-trap.ts";
import { fastCsr } from "./exits/csr.ts";
import type { VmServices } from "./exits/services.ts";
import { GuestPhysView, type GuestPhysMap } from "./guest-phys-view.ts";
import { Peers, wakeVcpu } from "./peers.ts";
import * as P from "./runpage.ts";
import { STAT } from "./stats.ts";
import { VcpuContext, VmClock } from "./vcpu-context.ts";
import { WAIT_SPIN, waitWhile } from "./wait.ts";

export interface VcpuConfig {
  readonly hartId: number;
  readonly memory: WebAssembly.Memory;
  readonly memorySize: number;
  /** Run pages of every vCPU of the VM, by hart id. */
  readonly pages: readonly SharedArrayBuffer[];
  /** The hypervisor's doorbell: bumped with every exit posted to the main thread. */
  readonly doorbell: SharedArrayBuffer;
  readonly vmStartMs: number;
  readonly satpLo: number;
  readonly satpHi: number;
  /** The VM's guest-physical map (shared): this thread translates guest addresses through it without an exit. */
  readonly guestMap: GuestPhysMap;
  readonly sbiByHypervisor: boolean;
  /** --exit-handler vcpu: handle CSR, xRET, SBI timer/IPI and reflections on this thread. */
  readonly handleLocally: boolean;
  /** WAIT_SPIN, WAIT_BLOCK or WAIT_POLL. */
  readonly wait: number;
  /** Instructions per slice: the bound on how long a pending interrupt waits. */
  readonly slice: number;
}

/** What the vCPU thread exposes over comlink. */
export interface VcpuControl {
  /** Stops running guest code at the next slice boundary; resolves once the vCPU is parked. */
  pause(): Promise<void>;
  resume(): void;
  /** pc and x0..x31 as unsigned hex strings (exact 64-bit values). */
  registers(): { pc: number; x: string[] };
  /** Sets xN (1..31) or, with reg = "pc", the pc; only while paused. */
  setRegister(reg: number | "pc", value: string): void;
  latency(): LatencySummary;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ns: number;
  readonly p90Ns: number;
  readonly p99Ns: number;
  readonly maxNs: number;
  readonly meanNs: number;
}

const PENDING_NONE = 0;
const PENDING_WAIT = 1;
const PENDING_STOP = 2;
/** One exit round trip in this many is timed for the latency histogram (a power of two). */
export const LATENCY_SAMPLE_EVERY = 16;
/** Longest stretch without returning to this thread's event loop (for comlink calls), in ms. */
const YIELD_MS = 20;
/** Longest single sleep in wfi before re-checking timers and control, in ms. */
const WFI_SLEEP_MS = 10;

/** Services a vCPU thread can offer itself: the peer operations; the rest belongs to the main thread. */
function threadServices(peers: Peers, memory: GuestMemoryView): VmServices {
  const mainOnly = (): never => {
    throw new Error("vcpu: a main-thread service was called on a vCPU thread");
  };
  return {
    hartCount: peers.hartCount,
    memory,
    consoleWrite: mainOnly,
    consoleRead: mainOnly,
    shutdown: mainOnly,
    reboot: mainOnly,
    hartState: (h) => peers.hartState(h),
    hartStart: (h, start, opaque) => peers.hartStart(h, start, opaque),
    hartStop: (h) => peers.hartStop(h),
    hartSuspend: (h, resumeAddr) => peers.hartSuspend(h, resumeAddr),
    sendIpi: (h) => peers.sendIpi(h),
    remoteFenceI: (h) => peers.remoteFenceI(h),
  };
}

export class VcpuRunner implements HostTrapHandler, VcpuControl {
  readonly page: P.RunPage;
  readonly hart: Hart;
  readonly ctx: VcpuContext;
  private readonly mem: PhysMem;
  /** Guest memory as this thread sees it: translates without an exit, never backs a page. */
  readonly memory: GuestPhysView;
  private readonly doorbell: Int32Array;
  private readonly dispatcher: TrapDispatcher;
  private readonly histogram = hdr.build({ useWebAssembly: false, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 60e9 });
  private readonly handleLocally: boolean;
  private pending = PENDING_NONE;
  private exitSerial = 0;
  stopReason = "";

  constructor(readonly config: VcpuConfig) {
    this.page = new P.RunPage(config.pages[config.hartId]);
    this.handleLocally = config.handleLocally;
    this.mem = new PhysMem(config.memorySize, config.memory);
    this.doorbell = new Int32Array(config.doorbell);
    const clock = new VmClock(config.vmStartMs);
    // The hart: no devices (every non-RAM access faults to us), registers in the run page.
    this.hart = new Hart(config.hartId, { mem: this.mem, bus: new Bus(), mtime: () => clock.mtime() }, { regs: this.page.regs });
    const c = this.hart.csr;
    c.priv = R.PRV_U;
    c.write(R.CSR_SATP, config.satpLo, config.satpHi);
    // mcounteren = 0: every counter read traps, so the virtual counters and their gating apply.
    this.hart.translationChanged();
    this.hart.hostTraps = this;
    this.ctx = new VcpuContext(config.hartId, this.page, clock, true);
    this.ctx.liveRetired = () => this.hart.retired();
    const peers = new Peers(config.pages.map((b) => new P.RunPage(b)), config.guestMap.ramBase, config.guestMap.ramSize);
    this.memory = new GuestPhysView(this.mem.buffer, config.guestMap);
    this.dispatcher = new TrapDispatcher(this.ctx, config.sbiByHypervisor, threadServices(peers, this.memory), undefined);
  }

  // ---- HostTrapHandler: every trap of the guest lands here, inside runSlice ----

  /**
   * The hottest exit, a CSR access, before it becomes a trap. With
   * --exit-handler vcpu plain CSRs are emulated right here (fastCsr); with
   * main the access goes to the hypervisor as an illegal-instruction exit.
   * Either way it runs in a function of its own, so that V8 optimises it for
   * this one case whatever mix of exits trap() sees.
   */
  csrAccess(h: Hart, w0: number, imm: number, pc: number): number {
    const page = this.page;
    if (this.handleLocally) {
      const next = fastCsr(this.ctx, this.ctx.x, w0, imm, pc);
      if (next >= 0) {
        page.stats[STAT.exits]++;
        // A read of time may have raised the virtual STIP (VcpuContext.readTime): deliver it now.
        if ((imm & 0xfff) === R.CSR_TIME && pendingInterrupt(this.ctx.csr) >= 0) h.stop = true;
      }
      return next; // -1: the general path, through trap()
    }
    page.stats[STAT.exits]++;
    const bits = h.instructionBits(pc);
    if (!this.exitToMain(h, R.CAUSE_ILLEGAL_INSTRUCTION, bits, bits, w0, imm, pc)) h.stop = true;
    return h.pc;
  }

  trap(h: Hart, cause: number, tval: number, pc: number): boolean {
    const page = this.page;
    page.stats[STAT.exits]++;
    if (this.handleLocally) {
      const illegal = cause === R.CAUSE_ILLEGAL_INSTRUCTION;
      page.pc[0] = pc;
      const decoded = illegal ? fromPredecoded(tval, h.rareW0, h.rareImm) : undefined;
      const outcome = this.dispatcher.dispatch(cause, tval, pc, illegal ? tval : 0, decoded);
      if (outcome === EXIT_CONTINUE) {
        h.pc = page.pc[0];
        // An emulated CSR write, xRET or SBI call may have made an interrupt takeable (or sent an IPI
        // still to be folded in): end the slice so the loop samples and delivers it.
        return !this.dispatcher.interruptsMayChange;
      }
      if (outcome === EXIT_WAIT) {
        h.pc = page.pc[0];
        this.pending = PENDING_WAIT;
        return false;
      }
      if (outcome === EXIT_STOP) {
        this.stopReason = this.dispatcher.stopReason;
        this.pending = PENDING_STOP;
        return false;
      }
    }
    // To the main thread, with the instruction bits and (for an illegal instruction) its predecoded form.
    const illegal = cause === R.CAUSE_ILLEGAL_INSTRUCTION;
    const insn = illegal ? tval : isDataFault(cause) ? h.instructionBits(pc) : 0;
    return this.exitToMain(h, cause, tval, insn, illegal ? h.rareW0 : 0, h.rareImm, pc);
  }

  /**
   * Posts an exit into the run page's mailbox, waits for the hypervisor's
   * answer and applies it: pc, the result register of a CSR exit, a wait,
   * a stop. Returns whether the slice may go on at hart.pc.
   */
  private exitToMain(h: Hart, cause: number, tval: number, insn: number, w0: number, imm: number, pc: number): boolean {
    const page = this.page;
    const retired = h.retired();
    // A CSR instruction's source register travels in the mailbox: the main thread need not touch x.
    const rs1 = (w0 >>> 16) & 0xff;
    const operandLo = w0 !== 0 ? h.x[rs1] : 0;
    const operandHi = w0 !== 0 ? h.x[rs1 + 1] : 0;
    // One burst of stores into the mailbox line, which the main thread is polling: each store that
    // lands after it has re-read the line would cost another transfer of it.
    page.pc[0] = pc;
    page.exitTval[0] = tval;
    page.exitRetired[0] = retired;
    page.exit[P.EXIT_REASON] = P.REASON_TRAP;
    page.exit[P.EXIT_CAUSE] = cause;
    page.exit[P.EXIT_INSN] = insn;
    page.exitDecoded[0] = w0;
    page.exitDecoded[1] = imm;
    page.exitOperand[0] = operandLo;
    page.exitOperand[1] = operandHi;
    // Wait for the answer right here, inside the slice: leaving and re-entering the interpreter
    // would double the cost of a round trip that is otherwise close to the bare handoff.
    const answer = this.postExitAndWait();
    h.pc = page.pc[0];
    if (Atomics.load(page.state, 0) === P.VCPU_STOPPED) return false;
    const resultReg = page.exit[P.EXIT_RESULT_REG];
    if (resultReg >= 0) {
      h.x[resultReg] = page.exitOperand[0];
      h.x[resultReg + 1] = page.exitOperand[1];
    }
    if (answer === P.RESUME_WAIT) {
      this.pending = PENDING_WAIT;
      return false;
    }
    // Time has passed and the hypervisor may have raised a virtual interrupt (a device line, an IPI):
    // look as at a slice boundary, and end the slice if one is now takeable. A plain CSR access
    // (RESUME_CSR) cannot have touched the timers, so their clock read is saved.
    if (answer === P.RESUME_CSR) this.foldIpis();
    else this.sampleInterrupts();
    return pendingInterrupt(this.ctx.csr) < 0;
  }

  // ---- the loop ----

  /** Runs until the VM stops this vCPU. Async only to let control-plane calls in between slices. */
  async run(): Promise<void> {
    const page = this.page;
    let lastYield = performance.now();
    for (;;) {
      const control = Atomics.load(page.control, 0);
      if ((control & P.CONTROL_STOP) !== 0 || Atomics.load(page.state, 0) === P.VCPU_STOPPED) break;
      if ((control & P.CONTROL_STARTED) === 0 || (control & P.CONTROL_PAUSE) !== 0) {
        // Stopped (HSM) or paused: sleep until the control word changes.
        if ((control & P.CONTROL_PAUSE) !== 0) this.settlePause();
        Atomics.wait(page.control, 0, control, WFI_SLEEP_MS);
        await yieldNow();
        lastYield = performance.now();
        continue;
      }
      if ((control & P.CONTROL_SUSPENDED) !== 0 && !this.resumeFromSuspend()) {
        // Still suspended (HSM): no guest code runs until an interrupt is pending in sie.
        await yieldNow();
        lastYield = performance.now();
        continue;
      }
      if ((control & P.CONTROL_FENCE_I) !== 0) {
        Atomics.and(page.control, 0, ~P.CONTROL_FENCE_I);
        this.mem.flushCode();
      }
      this.sampleInterrupts();
      if (pendingInterrupt(this.ctx.csr) >= 0) {
        if (this.config.handleLocally) injectPendingInterrupt(this.ctx);
        else {
          page.exit[P.EXIT_REASON] = P.REASON_INTERRUPT;
          this.postExitAndWait();
        }
      }
      this.hart.pc = page.pc[0];
      runSlice(this.hart, this.config.slice);
      page.stats[STAT.instructions] = this.hart.instret;
      page.pc[0] = this.hart.pc;
      const pending = this.pending;
      this.pending = PENDING_NONE;
      if (pending === PENDING_WAIT) {
        this.waitForInterrupt();
      } else if (pending === PENDING_STOP) {
        return; // the worker reports stopReason to the hypervisor
      }
      const now = performance.now();
      if (now - lastYield >= YIELD_MS) {
        await yieldNow();
        lastYield = performance.now();
      }
    }
  }

  /** Posts the exit in the run page, waits for the hypervisor's answer by the wait policy, returns it. */
  private postExitAndWait(): number {
    const page = this.page;
    // Timing every round trip (two clock reads and a histogram update) would cost a third of a
    // spinning exit; one in LATENCY_SAMPLE_EVERY is timed, an unbiased sample of the distribution.
    const timed = (++this.exitSerial & (LATENCY_SAMPLE_EVERY - 1)) === 0;
    const start = timed ? performance.now() : 0;
    Atomics.store(page.state, 0, P.VCPU_EXIT);
    page.stats[STAT.main_exits]++;
    // A spinning VM keeps the main thread polling run pages (hypervisor.ts), so it never sleeps on
    // the doorbell while this vCPU runs: ringing it would only move its cache line between vCPUs.
    if (this.config.wait !== WAIT_SPIN) {
      Atomics.add(this.doorbell, 0, 1);
      Atomics.notify(this.doorbell, 0);
    }
    waitWhile(page.state, 0, P.VCPU_EXIT, this.config.wait);
    if (timed) this.histogram.recordValue(Math.max(1, Math.round((performance.now() - start) * 1e6)));
    return page.exit[P.EXIT_REASON];
  }

  /** Folds IPIs and timers into the virtual mip. */
  private sampleInterrupts(): void {
    this.foldIpis();
    this.ctx.csr.updateStimecmp(); // Sstc's comparator and the SBI timer together drive STIP
  }

  /** Folds IPIs from other vCPUs into the virtual mip.SSIP. */
  private foldIpis(): void {
    const page = this.page;
    if (Atomics.load(page.ipi, 0) !== 0 && Atomics.exchange(page.ipi, 0, 0) !== 0) this.ctx.csr.mipSw |= R.MIP_SSIP;
  }

  /**
   * HSM hart_suspend: waits like wfi, but resumes only once an interrupt is
   * pending (a wfi may also end early, as the spec allows; a suspend may not).
   * True when the vCPU is resumed and its HSM state is STARTED again.
   */
  private resumeFromSuspend(): boolean {
    this.waitForInterrupt();
    if (!interruptWaiting(this.ctx)) return false;
    Atomics.and(this.page.control, 0, ~P.CONTROL_SUSPENDED);
    return true;
  }

  /** wfi: sleep (by the wait policy) until a virtual interrupt is pending in mie, or the vCPU is stopped. */
  private waitForInterrupt(): void {
    const page = this.page;
    for (;;) {
      const seq = Atomics.load(page.wake, 0);
      this.sampleInterrupts();
      if (interruptWaiting(this.ctx)) return;
      const control = Atomics.load(page.control, 0);
      if ((control & (P.CONTROL_STOP | P.CONTROL_PAUSE)) !== 0 || (control & P.CONTROL_STARTED) === 0) return;
      let sleepMs = WFI_SLEEP_MS;
      const deadline = Math.min(page.timerDeadline[0], this.ctx.csr.stce ? this.ctx.csr.unsignedNum(R.CSR_STIMECMP) : Infinity);
      if (deadline !== Infinity) sleepMs = Math.max(0, Math.min(sleepMs, (deadline - this.ctx.mtime()) / TICKS_PER_MS));
      if (this.config.wait === WAIT_SPIN) {
        const until = performance.now() + sleepMs;
        while (Atomics.load(page.wake, 0) === seq && performance.now() < until) {
          /* spin */
        }
      } else {
        Atomics.wait(page.wake, 0, seq, sleepMs);
      }
      if (sleepMs >= WFI_SLEEP_MS) return; // let the loop look at control and its event loop
    }
  }

  // ---- VcpuControl (comlink) ----
  private pauseWaiters: (() => void)[] = [];
  private parked = false;

  pause(): Promise<void> {
    Atomics.or(this.page.control, 0, P.CONTROL_PAUSE);
    wakeVcpu(this.page);
    return new Promise((resolve) => {
      this.pauseWaiters.push(resolve);
      if (this.parked) this.settlePause();
    });
  }

  resume(): void {
    this.parked = false;
    Atomics.and(this.page.control, 0, ~P.CONTROL_PAUSE);
    Atomics.notify(this.page.control, 0);
  }

  private settlePause(): void {
    this.parked = true;
    for (const resolve of this.pauseWaiters.splice(0)) resolve();
  }

  setRegister(reg: number | "pc", value: string): void {
    if (!this.parked) throw new Error(`vcpu ${this.config.hartId}: pause it before writing registers`);
    const v = BigInt.asUintN(64, BigInt(value));
    if (reg === "pc") {
      this.page.pc[0] = Number(BigInt.asIntN(64, v));
      return;
    }
    if (!Number.isInteger(reg) || reg < 1 || reg > 31) throw new Error(`vcpu ${this.config.hartId}: no register x${reg}`);
    this.page.regs[2 * reg] = Number(BigInt.asIntN(32, v));
    this.page.regs[2 * reg + 1] = Number(BigInt.asIntN(32, v >> 32n));
  }

  registers(): { pc: number; x: string[] } {
    const x: string[] = [];
    for (let r = 0; r < 32; r++) x.push("0x" + BigInt.asUintN(64, this.hart.getRegBig(r)).toString(16));
    return { pc: this.page.pc[0], x };
  }

  latency(): LatencySummary {
    const h = this.histogram;
    return {
      count: h.totalCount,
      p50Ns: h.getValueAtPercentile(50),
      p90Ns: h.getValueAtPercentile(90),
      p99Ns: h.getValueAtPercentile(99),
      maxNs: h.maxValue,
      meanNs: h.mean,
    };
  }
}

function isDataFault(cause: number): boolean {
  return cause === R.CAUSE_LOAD_PAGE_FAULT || cause === R.CAUSE_STORE_PAGE_FAULT;
}

function yieldNow(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
