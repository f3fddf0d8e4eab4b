/*
 * The main thread's half of the exit path for one VM: finds vCPUs whose run
 * page holds an exit, handles it and hands the vCPU back. Plain CSR exits are
 * emulated from the mailbox alone (the hottest path); anything else goes
 * through the vCPU's TrapDispatcher with the VM's services.
 */

import type { ExitObserver } from "./exit-observer.ts";
import { REGISTER_WORDS, X0_SINK as X0_SINK_INDEX } from "../isa/ops.ts";
import type { Bus } from "../machine/bus.ts";
import { pairToNumber } from "../machine/u64.ts";
import { fastCsr } from "./exits/csr.ts";
import { fromPredecoded } from "./exits/decode-trap.ts";
import { EXIT_CONTINUE, EXIT_STOP, EXIT_WAIT, TrapDispatcher, type MainThreadExits } from "./exits/dispatch.ts";
import { performMmio } from "./exits/mmio.ts";
import { injectPendingInterrupt } from "./exits/reflect.ts";
import type { VmServices } from "./exits/services.ts";
import type { GuestMemory } from "./guest-memory.ts";
import * as P from "./runpage.ts";
import type { VcpuContext } from "./vcpu-context.ts";
import type { ShadowMmu } from "./shadow/shadow-mmu.ts";

/** What serving needs from the VM beyond its vCPUs. */
export interface ExitOwner {
  /** False once the VM has stopped: serving ends at once. */
  readonly running: boolean;
  fail(message: string): void;
}

export class VmExitServer implements MainThreadExits {
  private readonly dispatchers: TrapDispatcher[] = [];
  /** A register file for CSR exits emulated from the mailbox (see serve); only the operand's pair is live. */
  private readonly scratch = new Int32Array(REGISTER_WORDS);

  /** Sees every exit before and after it is served (the lockstep check, exit-observer.ts). */
  observer: ExitObserver | undefined;
  /** Told of each debug exit (a vCPU at a debugger breakpoint, REASON_DEBUG), which is held (VCPU_DEBUG), not served (vm-debug.ts). */
  onDebugStop: ((hart: number) => void) | undefined;

  constructor(
    private readonly pages: readonly P.RunPage[],
    private readonly contexts: readonly VcpuContext[],
    shadows: readonly ShadowMmu[],
    private readonly memory: GuestMemory,
    private readonly bus: Bus,
    private readonly owner: ExitOwner,
    /** The vCPUs may sleep in Atomics.wait (block, poll): each resume must notify. */
    private readonly wakeOnResume: boolean,
    sbiByHypervisor: boolean,
    services: VmServices,
  ) {
    // A vCPU whose guest TLB is virtualized (--mmu swtlb, ctx.softTlb) has no shadow tables.
    for (const ctx of contexts) this.dispatchers.push(new TrapDispatcher(ctx, sbiByHypervisor, services, this, ctx.softTlb === undefined ? shadows[ctx.hartId] : undefined));
  }

  /** Handles every exit now pending on this VM's vCPUs; returns how many. */
  serve(): number {
    let handled = 0;
    for (let h = 0; h < this.pages.length; h++) {
      const page = this.pages[h];
      if (Atomics.load(page.state, 0) !== P.VCPU_EXIT) continue;
      handled++;
      this.observer?.exitPosted(h, page);
      if (this.serveCsrFromMailbox(page, this.contexts[h])) continue;
      if (page.exit[P.EXIT_REASON] === P.REASON_DEBUG) {
        Atomics.store(page.state, 0, P.VCPU_DEBUG);
        this.onDebugStop?.(h);
        continue;
      }
      // The handler may name a result register (ctx.setResultPair: an MMIO load's value).
      page.exit[P.EXIT_RESULT_REG] = P.NO_RESULT_REG;
      const answer = this.serveExit(h, page);
      if (!this.owner.running) return handled;
      page.exit[P.EXIT_REASON] = answer;
      this.resumeVcpu(page);
    }
    return handled;
  }

  /**
   * The hottest exit: a plain CSR access, emulated from the mailbox alone —
   * its operand in, its result out — without touching the vCPU's registers,
   * whose cache lines stay on the vCPU's core. The answer is written in one
   * burst just before the state flips: the vCPU is spinning on this line, and
   * every store that reaches it after the vCPU has re-read it costs another
   * transfer of the line. False if the exit needs the general path.
   */
  private serveCsrFromMailbox(page: P.RunPage, ctx: VcpuContext): boolean {
    const w0 = page.exitDecoded[0];
    if (w0 === 0 || page.exit[P.EXIT_REASON] !== P.REASON_TRAP) return false;
    const scratch = this.scratch;
    const rs1 = (w0 >>> 16) & 0xff;
    scratch[rs1] = page.exitOperand[0];
    scratch[rs1 + 1] = page.exitOperand[1];
    const next = fastCsr(ctx, scratch, w0, page.exitDecoded[1], page.pc[0]);
    if (next === -1) return false; // any other value is a pc, upper-half (negative) ones included
    const rd = (w0 >>> 8) & 0xff;
    const lo = scratch[rd];
    const hi = scratch[rd + 1];
    page.pc[0] = next;
    page.exitOperand[0] = lo;
    page.exitOperand[1] = hi;
    page.exit[P.EXIT_RESULT_REG] = rd === X0_SINK_INDEX ? P.NO_RESULT_REG : rd;
    page.exit[P.EXIT_REASON] = P.RESUME_CSR;
    this.resumeVcpu(page);
    return true;
  }

  /** Any other exit, through the dispatcher; returns the answer (RESUME_RUN or RESUME_WAIT). */
  private serveExit(h: number, page: P.RunPage): number {
    const ctx = this.contexts[h];
    if (page.exit[P.EXIT_REASON] === P.REASON_INTERRUPT) {
      injectPendingInterrupt(ctx);
      return P.RESUME_RUN;
    }
    const w0 = page.exitDecoded[0];
    const insn = page.exit[P.EXIT_INSN];
    const decoded = w0 !== 0 ? fromPredecoded(insn, w0, page.exitDecoded[1]) : undefined;
    const dispatcher = this.dispatchers[h];
    const outcome = dispatcher.dispatch(page.exit[P.EXIT_CAUSE], page.exitTval[0], ctx.pc, insn, decoded);
    if (outcome === EXIT_WAIT) return P.RESUME_WAIT;
    if (outcome === EXIT_STOP) this.owner.fail(dispatcher.stopReason);
    else if (outcome !== EXIT_CONTINUE) this.owner.fail(`vcpu ${h}: exit could not be handled`);
    return P.RESUME_RUN;
  }

  /** Hands the vCPU back: flips its state, and wakes it if it may be asleep. */
  private resumeVcpu(page: P.RunPage): void {
    this.observer?.exitServed(page);
    Atomics.store(page.state, 0, P.VCPU_RUNNING);
    if (this.wakeOnResume) Atomics.notify(page.state, 0);
  }

  /** Whether vCPU h waits in a debug exit. */
  isHeld(h: number): boolean {
    return Atomics.load(this.pages[h].state, 0) === P.VCPU_DEBUG;
  }

  /** Lets a vCPU held in its debug exit go, at its run page's pc; it sleeps in Atomics.wait, so it is woken. */
  release(h: number): void {
    if (!this.isHeld(h)) return;
    const page = this.pages[h];
    page.exit[P.EXIT_RESULT_REG] = P.NO_RESULT_REG;
    page.exit[P.EXIT_REASON] = P.RESUME_RUN;
    this.observer?.exitServed(page);
    Atomics.store(page.state, 0, P.VCPU_RUNNING);
    Atomics.notify(page.state, 0);
  }

  // ---- MainThreadExits ----
  mapRam(gpa: number): boolean {
    return this.memory.ensure(gpa);
  }
  mmio(ctx: VcpuContext, gpa: number, insn: number, pc: number, va = gpa): boolean {
    // The access's start travels in the exit record (vcpu-runner.ts exitToMain): the vCPU's registers stay on its core.
    const page = this.pages[ctx.hartId];
    return performMmio(this.bus, ctx, gpa, insn, pc, pairToNumber(page.exitOperand[0], page.exitOperand[1]), va);
  }
}
