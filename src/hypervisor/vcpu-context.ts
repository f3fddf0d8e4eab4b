/*
 * A vCPU as the exit handlers see it: its registers and pc (in the run page),
 * its virtual hart (privilege and CSR image, also in the run page), the VM's
 * clock, and its counters. The same object type is built on the vCPU thread
 * and on the hypervisor's main thread over the same shared buffer, so an
 * exit handler runs unchanged in either place (--exit-handler vcpu|main).
 */

import { CsrFile, type CsrHost, type SoftTlbHost } from "../machine/csr.ts";
import { TICKS_PER_MS } from "../machine/memlayout.ts";
import { hiOf, loOf, pairToNumber } from "../machine/u64.ts";
import { EXIT_RESULT_REG, type RunPage } from "./runpage.ts";

/** The VM's time base, identical on every thread: mtime ticks (10 MHz) since the VM started. */
export class VmClock {
  constructor(readonly startMs: number) {}
  static now(): number {
    return performance.timeOrigin + performance.now();
  }
  mtime(): number {
    return Math.floor((VmClock.now() - this.startMs) * TICKS_PER_MS);
  }
}

export class VcpuContext implements CsrHost {
  /** The virtual hart's CSRs; csr.priv is the virtual privilege the guest believes it runs at. */
  readonly csr: CsrFile;
  readonly x: Int32Array;
  /** Instructions the guest retired before the current slice (maintained by the vCPU thread). */
  retiredBase = 0;

  /** The counters this thread writes (each array of the run page has one writer; see runpage.ts). */
  readonly stats: Float64Array;

  /**
   * Built by the hypervisor when it creates the vCPU (`onVcpuThread` false:
   * resets the virtual hart), and by the vCPU thread attaching to the same
   * run page (true: adopts the image already there).
   */
  constructor(
    readonly hartId: number,
    readonly page: RunPage,
    readonly clock: VmClock,
    readonly onVcpuThread = false,
  ) {
    this.x = page.regs;
    this.stats = onVcpuThread ? page.stats : page.mainStats;
    const storage = { lo: page.vcsrLo, hi: page.vcsrHi, state: page.vcsrState, offsets: page.vcsrOffsets };
    this.csr = new CsrFile(hartId, this, storage, !onVcpuThread);
  }

  get pc(): number {
    return this.page.pc[0];
  }
  set pc(v: number) {
    this.page.pc[0] = v;
  }

  /** xN as a signed number (exact below 2^53). */
  reg(r: number): number {
    return pairToNumber(this.x[2 * r], this.x[2 * r + 1]);
  }
  setReg(r: number, value: number): void {
    if (r === 0) return;
    this.x[2 * r] = loOf(value);
    this.x[2 * r + 1] = hiOf(value);
  }
  setRegPair(r: number, lo: number, hi: number): void {
    if (r === 0) return;
    this.x[2 * r] = lo;
    this.x[2 * r + 1] = hi;
  }

  /**
   * Sets the register an exit produces (an MMIO load's destination). On the
   * main thread the value travels back in the exit mailbox and the vCPU
   * writes it as it resumes, so its register line never leaves its core.
   */
  setResultPair(r: number, lo: number, hi: number): void {
    if (r === 0) return;
    if (this.onVcpuThread) {
      this.setRegPair(r, lo, hi);
      return;
    }
    const page = this.page;
    page.exitOperand[0] = lo;
    page.exitOperand[1] = hi;
    page.exit[EXIT_RESULT_REG] = 2 * r;
  }

  /** Counts an exit; `stat` is an index from STAT (a number, so every call site stays a plain array store). */
  count(stat: number, n = 1): void {
    this.stats[stat] += n;
  }

  // ---- CsrHost: the virtual CSR file's view of time and counters ----
  mtime(): number {
    return this.clock.mtime();
  }
  /**
   * Instructions retired: live from the hart on the vCPU thread (see liveRetired), else the count
   * the vCPU published with the exit being handled.
   */
  retired(): number {
    return this.liveRetired?.() ?? this.page.exitRetired[0];
  }
  /** Set on the vCPU thread: reads the hart's own count, so no exit has to publish it. */
  liveRetired: (() => number) | undefined;
  /** The SBI timer (set_timer): its deadline in the run page, Infinity until the guest sets one. */
  supervisorTimerDeadline(): number {
    return this.page.timerDeadline[0];
  }
  /**
   * The time CSR: one reading of the VM's clock, against which the
   * supervisor timer (Sstc's stimecmp or the SBI timer) is re-evaluated at
   * once, so a guest polling time finds STIP raised the moment it sees the
   * deadline pass; onTimeRead adds what this thread can reach besides (the
   * VM's CLINT, on the main thread).
   */
  readTime(): number {
    const now = this.clock.mtime();
    this.csr.updateStimecmp(now);
    this.onTimeRead?.();
    return now;
  }
  onTimeRead: (() => void) | undefined;
  /** --mmu swtlb: the virtual TLB-write CSRs (swtlb-virt.ts); undefined otherwise, so they do not exist. */
  softTlb: SoftTlbHost | undefined;
  translationChanged(): void {
    // Guest paging is not virtualized yet (shadow page tables come next); satp writes are checked in exits/csr.ts.
  }
}
