/*
 * The vCPU thread's loop: the machine's hart running guest code in real
 * U-mode over machine memory, translated by the VM's guest-physical table.
 * Every trap reaches the hart's host trap handler (this runner): handled
 * here when --exit-handler vcpu allows it, otherwise written into the run
 * page as an exit for the hypervisor's main thread. Between slices the loop
 * samples virtual interrupts (device lines, IPIs, timers) and delivers them.
 *
 * The thread is an explicit state machine (vcpu-state.ts): run() performs
 * the activity of the current state — a slice, a wait, a park — and hands
 * the event it produced to the one transition function. Inside a slice,
 * an exit to the main thread waits for its answer in place (exitToMain).
 */

import * as hdr from "hdr-histogram-js";
import { Bus } from "../machine/bus.ts";
import { runSlice } from "../machine/hart-loop.ts";
import { warmInterpreter } from "../machine/interp-warmup.ts";
import { WARM_AFTER } from "../machine/tier-up.ts";
import { Hart, type HostTrapHandler } from "../machine/hart.ts";
import type { GuestMemoryView } from "../machine/guest-memory-view.ts";
import { TICKS_PER_MS } from "../machine/memlayout.ts";
import { PhysMem } from "../machine/physmem.ts";
import { vcpuArenaRegs } from "../machine/jit/wasm-arena.ts";
import { hiOf, isExactPair, loOf, pairToNumber } from "../machine/u64.ts";
import * as R from "../machine/riscv.ts";
import { pendingInterrupt } from "../machine/trap.ts";
import { EXIT_CONTINUE, EXIT_STOP, EXIT_WAIT, TrapDispatcher } from "./exits/dispatch.ts";
import { injectPendingInterrupt, interruptWaiting } from "./exits/reflect.ts";
import { fromPredecoded } from "./exits/decode-trap.ts";
import { accessStartInto } from "./exits/mmio-decode.ts";
import { fastCsr } from "./exits/csr.ts";
import type { VmServices } from "./exits/services.ts";
import { HSM_STARTED, HSM_START_PENDING, HSM_STOP_PENDING, HSM_STOPPED, HSM_SUSPENDED } from "./exits/services.ts";
import { GuestPhysView, type GuestPhysMap } from "../machine/guest-phys-view.ts";
import { Peers, wakeVcpu } from "./peers.ts";
import * as P from "./runpage.ts";
import { STAT } from "./stats.ts";
import { CoreSharingSampler } from "../host/core-sharing.ts";
import { ShadowMmu } from "./shadow/shadow-mmu.ts";
import { claimShadowFlush, shootdown, type ShootdownSite } from "./shadow/shootdown.ts";
import { VcpuContext, VmClock } from "./vcpu-context.ts";
import * as V from "./vcpu-state.ts";
import { POLL_SPIN_MS, PollWindow, SpinGuard, WAIT_POLL, WAIT_SPIN, waitWhile } from "./wait.ts";
import { DebugBreakpoints } from "./debug-breakpoints.ts";
import { GuestDebugWalk } from "./guest-debug-walk.ts";
import type { MmuMode } from "../machine/swtlb.ts";
import { SWTLB_FORWARD, SWTLB_HANDLED, SwtlbShadow, virtualSoftTlbHost } from "./swtlb-virt.ts";
import type { IsaVariant } from "../machine/isa-variant.ts";
import { CodeScanner, SCAN_EMULATE, SCAN_HANDLED } from "./nonvirt/code-scanner.ts";
import { HwMode } from "./hw-mode.ts";
import { WfiSpinDetector } from "./wfi-spin.ts";
import { IoEvents, type IoEventConfig } from "./ioevents.ts";
import * as HX from "../machine/hext-defs.ts";

export interface VcpuConfig {
  readonly hartId: number;
  readonly memory: WebAssembly.Memory;
  readonly memorySize: number;
  /** Each vCPU's wasm arena span in `memory` (hypervisor/frames.ts), by hart id; -1: none, the JS tier only. */
  readonly arenaAt: readonly number[];
  /** Run pages of every vCPU of the VM, by hart id. */
  readonly pages: readonly SharedArrayBuffer[];
  /** The hypervisor's doorbell: bumped with every exit posted to the main thread. */
  readonly doorbell: SharedArrayBuffer;
  readonly vmStartMs: number;
  readonly satpLo: number;
  readonly satpHi: number;
  /** The VM's guest-physical map (shared): this thread translates guest addresses through it without an exit. */
  readonly guestMap: GuestPhysMap;
  /** This vCPU's shadow page tables (shadow/shadow-state.ts), shared with the main thread. */
  readonly shadow: SharedArrayBuffer;
  readonly sbiByHypervisor: boolean;
  /** --exit-handler vcpu: handle CSR, xRET, SBI timer/IPI and reflections on this thread. */
  readonly handleLocally: boolean;
  /** WAIT_SPIN, WAIT_BLOCK or WAIT_POLL. */
  readonly wait: number;
  /** Instructions per slice: the bound on how long a pending interrupt waits. */
  readonly slice: number;
  /** The real hart's MMU: with "swtlb" its soft TLB is kept by swtlb-virt.ts. */
  readonly mmu?: MmuMode;
  /** The real hart's instruction-set variant (src/machine/isa-variant.ts). */
  readonly isaVariant?: IsaVariant;
  /** --nonvirt-fix scan: this thread scans and patches guest code pages (nonvirt/code-scanner.ts). */
  readonly scanCode?: boolean;
  /** --virt hw: the G-stage (the VM's guest-physical table as hgatp); the hart has H and runs virtual S/U in VS/VU (hw-mode.ts). */
  readonly hgatp?: { readonly lo: number; readonly hi: number };
  /** Its exit-trace rings when the run is traced (src/trace/, installed by workers/vcpu.ts); absent, nothing is traced. */
  readonly trace?: SharedArrayBuffer;
  /** Device register stores this thread serves itself (ioevents.ts); absent or empty: none. */
  readonly ioEvents?: readonly IoEventConfig[];
  /** --pin: the one core this vCPU's thread runs on; absent, any core its process may use. */
  readonly pinCpu?: number;
  /** The Linux thread id of the main thread that serves this vCPU's exits (host_cpu_shared); absent, not looked at. */
  readonly mainThreadId?: number;
  /** The debugger's breakpoints (debug-breakpoints.ts), shared with the main thread; absent, none can be planted. */
  readonly debugBreakpoints?: SharedArrayBuffer;
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
  /** The whole histogram (HDR, compressed base64): experiments add the vCPUs' together (src/lab). */
  readonly histogram: string;
}

/** One exit round trip in this many is timed for the latency histogram (a power of two). */
const LATENCY_SAMPLE_EVERY = 16;
/** Longest stretch without returning to this thread's event loop (for comlink calls), in ms. */
const YIELD_MS = 20;
/** Longest sleep in a debug exit before it looks for a shootdown to serve, in ms. */
const DEBUG_EXIT_POLL_MS = 5;
/** Longest single sleep in wfi before re-checking timers and control, in ms. */
const WFI_SLEEP_MS = 10;

/** Services a vCPU thread can offer itself: the peer operations; the rest belongs to the main thread. */
function threadServices(peers: Peers, memory: GuestMemoryView, shootdownSite: ShootdownSite): VmServices {
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
    remoteSfenceVma: (caller, harts, stats) => shootdown(peers.pages, caller, harts, shootdownSite, stats),
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
  /** This vCPU's shadow page tables; the hart's real satp names one of them, or the VM's guest-physical table. */
  readonly shadow: ShadowMmu;
  /** What the hart's real satp holds now: the shadow slot (-1: guest-physical table) and its low word. */
  private hartSlot = -1;
  private hartSatpLo: number;
  private readonly histogram = hdr.build({ useWebAssembly: false, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 60e9 });
  private readonly handleLocally: boolean;
  /** How the current slice ends, set by the trap handlers inside it (V.SLICE_DONE unless one says otherwise). */
  private sliceEnd: V.VcpuEvent = V.SLICE_DONE;
  private exitSerial = 0;
  /** --wait poll: an exit's wait spins a fixed window before it blocks, less when it sees its core lost (wait.ts says why it does not adapt). */
  private readonly pollWindow = new PollWindow(new SpinGuard(), false);
  /** A data fault's start address (lo, hi) for the exit record. */
  private readonly accessStart = new Int32Array(2);
  /** --virt hw: guest-physical minus guest-virtual address of the guest-page fault being posted (0 otherwise). */
  private hwStartShift = 0;
  /** What this thread last stored in the run page's `halted` word. */
  private halted = 0;
  /** Where the thread is in its life (vcpu-state.ts); moved only by run(), through V.transition. */
  private state: V.VcpuState = V.STOPPED;
  /** --mmu swtlb: the real TLB kept as the guest's virtual TLB composed with the VM's map. */
  private readonly swtlb: SwtlbShadow | undefined;
  /** --nonvirt-fix scan: the code scanner, which sees every trap first. */
  private readonly scanner: CodeScanner | undefined;
  /** Why this vCPU stopped the VM (the Finished state's reason), once run() has returned. */
  stopReason = "";
  /** --virt hw: the guest's S/U state moved between the virtual CSR file and the hart's VS CSRs. */
  private readonly hw: HwMode | undefined;
  /** Notify stores taken on this thread (ioevents.ts), if the VM registered any. */
  private readonly ioEvents: IoEvents | undefined;
  /** Notices the guest spinning through a wfi that ends at once (wfi-spin.ts). */
  private readonly wfiSpin = new WfiSpinDetector();
  /** Looks now and then whether this thread shares a host core with the main thread (host_cpu_shared). */
  private readonly coreSharing: CoreSharingSampler;
  /** The debugger's breakpoints, looked up only when the guest executes an ebreak; and the guest's view of a pc, to look it up by. */
  private readonly debugBreakpoints: DebugBreakpoints | undefined;
  private readonly debugWalk: GuestDebugWalk;

  constructor(readonly config: VcpuConfig) {
    this.coreSharing = new CoreSharingSampler(config.mainThreadId);
    const arenaAt = config.arenaAt[config.hartId];
    // Other threads' writes into its RAM are marked in the VM's log, so fence.i drops only what they wrote.
    const codeWrites = config.guestMap.codeWrites;
    this.mem = new PhysMem(config.memorySize, config.memory, undefined, 0, arenaAt >= 0 ? { arenaAt, codeWrites } : { codeWrites });
    const storage = this.mem.arena?.hartStorage(0);
    // With an arena, the registers are its slot's (the main thread's run page names the same ones).
    this.page = new P.RunPage(config.pages[config.hartId], storage?.regs);
    this.handleLocally = config.handleLocally;
    this.ioEvents = config.ioEvents !== undefined && config.ioEvents.length > 0 ? new IoEvents(config.ioEvents) : undefined;
    this.doorbell = new Int32Array(config.doorbell);
    const clock = new VmClock(config.vmStartMs);
    // The hart: no devices (every non-RAM access faults to us), registers in the run page.
    this.hart = new Hart(config.hartId, { mem: this.mem, bus: new Bus(), mtime: () => clock.mtime() }, { regs: this.page.regs, tlbs: storage?.tlbs }, { mmu: config.mmu, isaVariant: config.isaVariant, h: config.hgatp !== undefined });
    const c = this.hart.csr;
    c.priv = R.PRV_U;
    c.write(R.CSR_SATP, config.satpLo, config.satpHi);
    // mcounteren = 0: every counter read traps, so the virtual counters and their gating apply.
    this.hart.translationChanged();
    this.hart.hostTraps = this;
    this.ctx = new VcpuContext(config.hartId, this.page, clock, true);
    this.ctx.liveRetired = () => this.hart.retired();
    const regsOf = (h: number): Int32Array | undefined => {
      const at = config.arenaAt[h];
      return at >= 0 ? vcpuArenaRegs(this.mem.buffer, at, this.mem.pages) : undefined;
    };
    const peers = new Peers(config.pages.map((b, h) => new P.RunPage(b, regsOf(h))), config.guestMap.ramBase, config.guestMap.ramSize);
    this.memory = new GuestPhysView(this.mem.buffer, config.guestMap);
    const swtlb = config.mmu === "swtlb";
    if (swtlb) this.ctx.softTlb = virtualSoftTlbHost(this.ctx);
    this.swtlb = swtlb ? new SwtlbShadow(this.hart, this.ctx, this.memory) : undefined;
    this.shadow = new ShadowMmu(config.shadow, this.mem, this.memory, this.page.stats);
    this.hartSatpLo = config.satpLo;
    const root = ((config.satpHi & 0xfffff) * 2 ** 32 + (config.satpLo >>> 0)) * 4096;
    this.scanner = config.scanCode ? new CodeScanner(this.mem, this.memory, root, this.page.stats) : undefined;
    const site: ShootdownSite = {
      flushesParked: false,
      flushHere: () => this.shadow.flushAll(),
      serveOwn: () => this.serveShadowFlush(),
    };
    // Under --mmu swtlb the guest's own TLB is virtualized instead (swtlb-virt.ts): no shadow tables.
    this.hw = config.hgatp !== undefined ? new HwMode(this.hart, this.ctx.csr, config.hgatp.lo, config.hgatp.hi) : undefined;
    this.dispatcher = new TrapDispatcher(this.ctx, config.sbiByHypervisor, threadServices(peers, this.memory, site), undefined, swtlb ? undefined : this.shadow);
    this.dispatcher.ioEvents = this.ioEvents;
    this.debugBreakpoints = config.debugBreakpoints === undefined ? undefined : new DebugBreakpoints(config.debugBreakpoints);
    this.debugWalk = new GuestDebugWalk(this.memory, this.ctx.csr);
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
      if (next !== -1) { // any other value is a pc, upper-half (negative) ones included
        page.stats[STAT.exits]++;
        this.swtlb?.afterExit();
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

  trap(h: Hart, cause: number, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number, w0: number, imm: number): boolean {
    const page = this.page;
    page.stats[STAT.exits]++;
    if (this.scanner !== undefined && isExactPair(tvalLo, tvalHi) && isExactPair(pcLo, pcHi)) {
      const scan = this.scanner.onTrap(h, cause, pairToNumber(tvalLo, tvalHi), pairToNumber(pcLo, pcHi));
      if (scan === SCAN_HANDLED) return true;
      if (scan === SCAN_EMULATE) {
        // A patched site: from here on, the exit of the original instruction it stands for.
        tvalLo = this.scanner.original | 0;
        tvalHi = 0;
        w0 = 0;
      }
    }
    if (this.hw !== undefined && this.hw.active) return this.hwExit(h, cause, tvalLo, tvalHi, pcLo, pcHi, w0, imm);
    if (this.swtlb !== undefined && isExactPair(tvalLo, tvalHi) && isExactPair(pcLo, pcHi)) {
      // --mmu swtlb: refills (and the guest's own page faults) are the TLB's, always on this thread.
      const swtlb = this.swtlb.onTrap(cause, pairToNumber(tvalLo, tvalHi), pairToNumber(pcLo, pcHi));
      if (swtlb === SWTLB_HANDLED) {
        h.pc = page.pc[0];
        return true;
      }
      if (swtlb === SWTLB_FORWARD) {
        cause = this.swtlb.forwardCause;
        tvalLo = loOf(this.swtlb.forwardTval);
        tvalHi = hiOf(this.swtlb.forwardTval);
      }
    }
    return this.deliver(h, cause, tvalLo, tvalHi, pcLo, pcHi, w0, imm, -1);
  }

  /**
   * --virt hw: a trap the hart sends to HS while the guest runs in VS/VU. The
   * guest's state goes back to the virtual CSR file (HwMode.leave) and the
   * trap is handled as its --virt trap twin: an ecall from VS as an ecall
   * from virtual S, a virtual-instruction exception as the illegal
   * instruction trap-and-emulate would see, a guest-page fault as a fault
   * on its guest-physical address (first touch or MMIO). The slice ends:
   * the next one re-enters VS if the guest is still below virtual M.
   */
  private hwExit(h: Hart, cause: number, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number, w0: number, imm: number): false {
    const hw = this.hw as HwMode;
    let insn = -1;
    if (cause === HX.CAUSE_ECALL_VS) cause = R.CAUSE_ECALL_U;
    else if (cause === HX.CAUSE_VIRTUAL_INSTRUCTION) cause = R.CAUSE_ILLEGAL_INSTRUCTION;
    else if (cause === HX.CAUSE_LOAD_GUEST_PAGE_FAULT || cause === HX.CAUSE_STORE_GUEST_PAGE_FAULT || cause === HX.CAUSE_FETCH_GUEST_PAGE_FAULT) {
      // The instruction is read through both stages, so before the hart leaves VS.
      insn = cause === HX.CAUSE_FETCH_GUEST_PAGE_FAULT ? 0 : h.instructionBits(pairToNumber(pcLo, pcHi));
      const gpa = h.hext?.faultGpa ?? -1;
      // The hart's xtval is the guest-virtual address; the exit carries the guest-physical one. The
      // access's start (the MMIO access rule's check) is taken from the registers, so virtual: move it
      // by the same distance, or an ioremapped device (va != pa) would look like a split access.
      if (gpa >= 0 && isExactPair(tvalLo, tvalHi)) this.hwStartShift = gpa - pairToNumber(tvalLo, tvalHi);
      tvalLo = loOf(gpa);
      tvalHi = hiOf(gpa);
    }
    hw.leave();
    this.deliver(h, cause, tvalLo, tvalHi, pcLo, pcHi, w0, imm, insn);
    return false;
  }

  /** The trap as --virt trap handles it; `insn` the instruction's bits when the caller has them, else -1. */
  private deliver(h: Hart, cause: number, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number, w0: number, imm: number, insn: number): boolean {
    const page = this.page;
    if (!isExactPair(tvalLo, tvalHi) || !isExactPair(pcLo, pcHi)) {
      // A wild address (u64.ts) cannot travel in the run page's numbers; it needs no main thread either.
      this.dispatcher.wildAccess(cause, tvalLo, tvalHi, pcLo, pcHi);
      h.pc = page.pc[0];
      return false;
    }
    const tval = pairToNumber(tvalLo, tvalHi);
    const pc = pairToNumber(pcLo, pcHi);
    if (cause === R.CAUSE_BREAKPOINT && this.atDebugBreakpoint(pcLo, pcHi)) return this.debugExit(h, pc);
    if (this.ioEvents !== undefined && this.takeIoEvent(h, cause, tval, pc)) return true;
    if (this.handleLocally) {
      const illegal = cause === R.CAUSE_ILLEGAL_INSTRUCTION;
      page.pc[0] = pc;
      const decoded = illegal && w0 !== 0 ? fromPredecoded(tval, w0, imm) : undefined;
      // A store fault may be one into a write-protected guest page table, emulated here (exits/pt-write.ts).
      const bits = illegal ? tval : insn >= 0 ? insn : cause === R.CAUSE_STORE_PAGE_FAULT ? h.instructionBits(pc) : 0;
      const outcome = this.dispatcher.dispatch(cause, tval, pc, bits, decoded);
      if (outcome === EXIT_CONTINUE || outcome === EXIT_WAIT) this.syncTranslation();
      if (outcome === EXIT_CONTINUE) {
        h.pc = page.pc[0];
        // An emulated CSR write, xRET or SBI call may have made an interrupt takeable (or sent an IPI
        // still to be folded in): end the slice so the loop samples and delivers it. An SBI call may
        // also have been this hart's hart_stop: then not one more instruction may run.
        if (!this.dispatcher.interruptsMayChange) return true;
        this.noteHartStop();
        return false;
      }
      if (outcome === EXIT_WAIT) {
        h.pc = page.pc[0];
        this.noteWait();
        return false;
      }
      if (outcome === EXIT_STOP) {
        this.sliceEnd = { kind: "fatal", reason: this.dispatcher.stopReason };
        return false;
      }
    }
    // To the main thread, with the instruction bits and (for an illegal instruction) its predecoded form.
    const illegal = cause === R.CAUSE_ILLEGAL_INSTRUCTION;
    const bits = insn >= 0 ? insn : illegal ? tval : isDataFault(cause) ? h.instructionBits(pc) : 0;
    return this.exitToMain(h, cause, tval, bits, illegal ? w0 : 0, illegal ? imm : 0, pc);
  }

  /**
   * Whether the ebreak the guest executed at pc is one the debugger planted,
   * not the guest's own (which is reflected into the guest as ever). The
   * pc is looked up where the guest's own page tables put it, as GDB planted it.
   */
  private atDebugBreakpoint(pcLo: number, pcHi: number): boolean {
    const set = this.debugBreakpoints;
    return set !== undefined && !set.empty && set.has(this.debugWalk.translate(pcLo, pcHi));
  }

  /**
   * The guest reached a debugger breakpoint: the vCPU stops before it and
   * posts a debug exit (REASON_DEBUG). The main thread halts the other
   * vCPUs and tells GDB; this one sleeps, whatever the wait policy (a
   * person is at the debugger), until it is let go at page.pc (the
   * debugger may have moved it). The slice ends there: the debugger may
   * have rewritten code, and the next slice starts with the fence.i the
   * main thread asked for.
   */
  private debugExit(h: Hart, pc: number): false {
    const page = this.page;
    page.pc[0] = pc;
    page.exitTval[0] = pc;
    page.exitRetired[0] = h.retired();
    page.exit[P.EXIT_REASON] = P.REASON_DEBUG;
    page.exit[P.EXIT_CAUSE] = R.CAUSE_BREAKPOINT;
    page.exit[P.EXIT_INSN] = 0;
    page.exitDecoded[0] = 0;
    Atomics.store(page.state, 0, P.VCPU_EXIT);
    page.stats[STAT.main_exits]++;
    Atomics.add(this.doorbell, 0, 1);
    Atomics.notify(this.doorbell, 0);
    // Parked in an exit, as long as a person likes: a shootdown another vCPU's thread sends meanwhile
    // (which cannot flush for it, shadow/shootdown.ts) is served here, or that vCPU would wait as long.
    for (let state = P.VCPU_EXIT; state === P.VCPU_EXIT || state === P.VCPU_DEBUG; state = Atomics.load(page.state, 0)) {
      this.serveShadowFlush();
      Atomics.wait(page.state, 0, state, DEBUG_EXIT_POLL_MS);
    }
    h.pc = page.pc[0];
    return false;
  }

  /**
   * A store fault that is a registered notify (ioevents.ts), taken here.
   * Only while the vCPU runs untranslated on the guest-physical table
   * (virtual paging off, no --mmu swtlb, not in VS), where the fault's
   * address is the guest-physical one. A paging guest's notify is found by
   * the shadow fill's walk, which runs on this thread with --exit-handler
   * vcpu (exits/dispatch.ts); with the main thread's handler it exits.
   */
  private takeIoEvent(h: Hart, cause: number, tval: number, pc: number): boolean {
    if (cause !== R.CAUSE_STORE_PAGE_FAULT && cause !== R.CAUSE_STORE_ACCESS) return false;
    if (this.hartSlot >= 0 || this.swtlb !== undefined || this.hw !== undefined) return false;
    if (!(this.ioEvents as IoEvents).take(h, tval, pc)) return false;
    this.page.stats[STAT.ioeventfd_exit]++;
    return true;
  }

  /**
   * Posts an exit into the run page's mailbox, waits for the hypervisor's
   * answer and applies it: pc, the result register of a CSR exit, a wait,
   * a stop. Returns whether the slice may go on at hart.pc.
   */
  private exitToMain(h: Hart, cause: number, tval: number, insn: number, w0: number, imm: number, pc: number): boolean {
    const page = this.page;
    const retired = h.retired();
    // A CSR instruction's source register travels in the mailbox, and so does a load's or store's start
    // address (the MMIO access rule needs it): the main thread need not touch x.
    const rs1 = (w0 >>> 16) & 0xff;
    let operandLo = 0;
    let operandHi = 0;
    if (w0 !== 0) {
      operandLo = h.x[rs1];
      operandHi = h.x[rs1 + 1];
    } else if (insn !== 0 && accessStartInto(insn, h.x, this.accessStart)) {
      operandLo = this.accessStart[0];
      operandHi = this.accessStart[1];
      if (this.hwStartShift !== 0) {
        const start = pairToNumber(operandLo, operandHi) + this.hwStartShift;
        operandLo = loOf(start);
        operandHi = hiOf(start);
      }
    }
    this.hwStartShift = 0;
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
    this.swtlb?.afterExit();
    h.pc = page.pc[0];
    if (Atomics.load(page.state, 0) === P.VCPU_STOPPED) return false;
    const resultReg = page.exit[P.EXIT_RESULT_REG];
    if (resultReg >= 0) {
      h.x[resultReg] = page.exitOperand[0];
      h.x[resultReg + 1] = page.exitOperand[1];
    }
    if (answer === P.RESUME_WAIT) {
      this.noteWait();
      return false;
    }
    // Time has passed and the hypervisor may have raised a virtual interrupt (a device line, an IPI):
    // look as at a slice boundary, and end the slice if one is now takeable. A plain CSR access
    // (RESUME_CSR) cannot have touched the timers, so their clock read is saved; nor can it have been
    // an SBI call, which is the only exit that can stop this hart (hart_stop handled on the main thread).
    if (answer !== P.RESUME_CSR) {
      this.serveShadowFlush();
      this.syncTranslation();
    }
    if (answer === P.RESUME_CSR) this.foldIpis();
    else if (this.noteHartStop()) return false;
    else this.sampleInterrupts();
    return pendingInterrupt(this.ctx.csr) < 0;
  }

  /**
   * Points the hart's real satp at what the virtual hart's state selects
   * (shadow-mmu.ts: a shadow space, or the guest-physical table) and applies
   * a TLB flush the shadow asked for (entries dropped or changed, by this
   * thread or by the main thread during an exit). After every exit handled
   * and before every slice: privilege, satp, SUM, MXR and MPRV change only there.
   */
  private syncTranslation(): void {
    // Under --mmu swtlb the guest's own TLB is what is virtualized: apply what its TLB writes left pending.
    if (this.swtlb !== undefined) {
      this.swtlb.afterExit();
      return;
    }
    const shadow = this.shadow;
    // --virt hw: guest paging below virtual M is the hart's own two-stage translation; the real satp
    // serves virtual M only, whose loads and stores under MPRV still go through a shadow space.
    const slot = this.hw !== undefined && this.ctx.csr.priv !== R.PRV_M ? -1 : shadow.select(this.ctx.csr);
    if (shadow.takeFlushPending()) this.hart.flushTlbs();
    const lo = slot < 0 ? this.config.satpLo : shadow.realSatpLo(slot);
    if (slot === this.hartSlot && lo === this.hartSatpLo) return;
    this.hartSlot = slot;
    this.hartSatpLo = lo;
    this.hart.csr.write(R.CSR_SATP, lo, slot < 0 ? this.config.satpHi : shadow.realSatpHi(slot));
  }

  /** Serves a shootdown request (CONTROL_SHADOW_FLUSH) addressed to this vCPU, if one is pending; the hart's TLB follows at the next syncTranslation. */
  private serveShadowFlush(): void {
    const page = this.page;
    if (!claimShadowFlush(page)) return;
    this.shadow.flushAll();
    Atomics.notify(page.control, 0);
  }

  /**
   * After an exit that may have been this hart's own hart_stop: true (and the
   * slice ends in V.HART_STOP) if the HSM state is now STOP_PENDING.
   */
  private noteHartStop(): boolean {
    if (Atomics.load(this.page.hsm, 0) !== HSM_STOP_PENDING) return false;
    this.sliceEnd = V.HART_STOP;
    return true;
  }

  /** An exit answered "wait": a wfi, or a hart_suspend if the handler made the hart SUSPENDED. */
  private noteWait(): void {
    this.sliceEnd = Atomics.load(this.page.hsm, 0) === HSM_SUSPENDED ? V.SUSPEND : V.WFI;
  }

  // ---- the loop ----

  /**
   * Runs the state machine until it finishes. Async only to let control-plane
   * calls (comlink) in: after every bounded wait that found nothing, and at
   * least every YIELD_MS while guest code runs.
   */
  async run(): Promise<void> {
    this.state = Atomics.load(this.page.hsm, 0) === HSM_STARTED ? V.RUNNING : V.STOPPED;
    let lastYield = performance.now();
    for (;;) {
      const state = this.state;
      if (state.kind === "finished") {
        this.stopReason = state.reason;
        return;
      }
      const event = this.step(state);
      this.state = V.transition(state, event);
      if (event === V.IDLE || performance.now() - lastYield >= YIELD_MS) {
        await yieldNow();
        lastYield = performance.now();
        const shared = this.coreSharing.sample(lastYield);
        if (shared !== undefined) {
          this.page.stats[STAT.host_cpu_samples]++;
          if (shared) this.page.stats[STAT.host_cpu_shared]++;
        }
      }
    }
  }

  /** Performs the activity of `state` once and returns what happened. Requests from the control word come first. */
  private step(state: V.VcpuState): V.VcpuEvent {
    const page = this.page;
    // Halted or not is published before requests are looked at (shadow/shootdown.ts relies on the order).
    const halted = state.kind === "running" || state.kind === "stopping" ? 0 : 1;
    if (halted !== this.halted) {
      Atomics.store(page.halted, 0, halted);
      this.halted = halted;
    }
    this.serveShadowFlush();
    const control = Atomics.load(page.control, 0);
    if ((control & P.CONTROL_STOP) !== 0 || Atomics.load(page.state, 0) === P.VCPU_STOPPED) return V.VM_STOP;
    if ((control & P.CONTROL_PAUSE) !== 0 && state.kind !== "paused") return V.PAUSE;
    switch (state.kind) {
      case "running":
        return this.runOneSlice(control);
      case "waiting":
        this.backOffSpinningWfi();
        this.waitForInterrupt();
        return V.WOKEN; // a wfi may end early (priv spec 3.3.3): the guest looks again
      case "suspended":
        return this.resumeFromSuspend() ? V.WOKEN : V.IDLE;
      case "stopping":
        // The Running activity wrote this vCPU's last pc and registers; from this store on they belong
        // to whoever claims the hart with hart_start.
        Atomics.store(page.hsm, 0, HSM_STOPPED);
        return V.PARKED;
      case "stopped":
        return this.awaitStart();
      case "paused":
        return this.awaitResume(control);
      case "finished":
        return V.VM_STOP;
    }
  }

  /** Running: delivers what is pending, then runs one slice of guest code. */
  private runOneSlice(control: number): V.VcpuEvent {
    const page = this.page;
    if ((control & P.CONTROL_FENCE_I) !== 0) {
      Atomics.and(page.control, 0, ~P.CONTROL_FENCE_I);
      this.mem.fenceI();
    }
    this.hw?.leave(); // a slice that ended without an exit (its budget, a CSR write) left the guest in VS
    this.sampleInterrupts();
    if (pendingInterrupt(this.ctx.csr) >= 0) {
      if (this.config.handleLocally) injectPendingInterrupt(this.ctx);
      else {
        page.exit[P.EXIT_REASON] = P.REASON_INTERRUPT;
        this.postExitAndWait();
      }
    }
    this.syncTranslation();
    if (this.scanner !== undefined && this.hartSlot >= 0) {
      return { kind: "fatal", reason: `hart ${this.config.hartId}: the guest turned on paging; --nonvirt-fix scan covers guests that run untranslated` };
    }
    if (this.hw !== undefined && this.ctx.csr.priv !== R.PRV_M) this.hw.enter();
    this.sliceEnd = V.SLICE_DONE;
    this.hart.pc = page.pc[0];
    runSlice(this.hart, this.config.slice);
    // This thread's interpreter has its own V8 feedback: warm it as the board's runner does (slices are shorter than WARM_AFTER).
    if (this.hart.instret >= WARM_AFTER) warmInterpreter("real");
    page.stats[STAT.instructions] = this.hart.instret;
    const code = this.mem.codeStats;
    page.stats[STAT.code_fence] = code.fences;
    page.stats[STAT.code_sweeps] = code.sweeps;
    page.stats[STAT.code_pages_dropped] = code.pagesDropped;
    page.stats[STAT.code_flush] = code.flushes;
    page.pc[0] = this.hart.pc;
    return this.sliceEnd;
  }

  /**
   * Stopped: sleeps until a hart_start publishes START_PENDING, then takes
   * the hart (START_PENDING → STARTED; only this thread makes that move).
   * The starter's writes of pc, a0, a1 and the CSR image happen-before the
   * load that sees START_PENDING, so the next slice starts from them.
   */
  private awaitStart(): V.VcpuEvent {
    const hsm = this.page.hsm;
    const now = Atomics.load(hsm, 0);
    if (now !== HSM_START_PENDING) {
      Atomics.wait(hsm, 0, now, WFI_SLEEP_MS);
      return V.IDLE;
    }
    Atomics.store(hsm, 0, HSM_STARTED);
    return V.STARTED;
  }

  /** Paused: parks (settling pause() calls) until resume() clears the request. */
  private awaitResume(control: number): V.VcpuEvent {
    if ((control & P.CONTROL_PAUSE) === 0) return V.RESUME;
    if (this.pauseWaiters.length > 0) {
      this.settlePause();
      return V.IDLE; // back to the event loop at once, to answer them
    }
    Atomics.wait(this.page.control, 0, control, WFI_SLEEP_MS);
    return V.IDLE;
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
    waitWhile(page.state, 0, P.VCPU_EXIT, this.config.wait, POLL_SPIN_MS, this.pollWindow);
    if (this.config.wait === WAIT_POLL) page.stats[STAT.poll_core_lost] = this.pollWindow.guard.losses;
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
    Atomics.store(this.page.hsm, 0, HSM_STARTED); // SUSPENDED → STARTED: only this thread makes the move
    return true;
  }

  /**
   * A wfi in a spin loop (wfi-spin.ts) sleeps a moment before it completes,
   * woken early by anything that wakes this vCPU, so the loop leaves the host's
   * cores to the vCPUs doing work. Any other wfi passes straight on.
   */
  private backOffSpinningWfi(): void {
    const page = this.page;
    const seq = Atomics.load(page.wake, 0);
    this.sampleInterrupts();
    // Exits and delivered interrupts between two wfis mean the guest is working, not spinning.
    const events = page.stats[STAT.exits] + page.stats[STAT.injected_interrupts] + page.mainStats[STAT.injected_interrupts];
    const sleepMs = this.wfiSpin.observe(this.ctx.pc, this.hart.instret, events, interruptWaiting(this.ctx));
    if (sleepMs === 0) return;
    page.stats[STAT.wfi_spin_sleep]++;
    Atomics.wait(page.wake, 0, seq, sleepMs);
  }

  /** wfi: sleep (by the wait policy) until a virtual interrupt is pending in mie, or the vCPU is stopped. */
  private waitForInterrupt(): void {
    const page = this.page;
    for (;;) {
      const seq = Atomics.load(page.wake, 0);
      this.sampleInterrupts();
      if (interruptWaiting(this.ctx)) return;
      const control = Atomics.load(page.control, 0);
      if ((control & (P.CONTROL_STOP | P.CONTROL_PAUSE | P.CONTROL_SHADOW_FLUSH)) !== 0) return;
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

  pause(): Promise<void> {
    Atomics.or(this.page.control, 0, P.CONTROL_PAUSE);
    wakeVcpu(this.page);
    return new Promise((resolve) => {
      this.pauseWaiters.push(resolve);
      if (this.state.kind === "paused") this.settlePause();
    });
  }

  resume(): void {
    Atomics.and(this.page.control, 0, ~P.CONTROL_PAUSE);
    Atomics.notify(this.page.control, 0);
  }

  /** Paused: the thread is parked at a slice boundary, so pause() calls resolve. */
  private settlePause(): void {
    for (const resolve of this.pauseWaiters.splice(0)) resolve();
  }

  setRegister(reg: number | "pc", value: string): void {
    if (this.state.kind !== "paused" || (Atomics.load(this.page.control, 0) & P.CONTROL_PAUSE) === 0) throw new Error(`vcpu ${this.config.hartId}: pause it before writing registers`);
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
      histogram: hdr.encodeIntoCompressedBase64(h),
    };
  }
}

function isDataFault(cause: number): boolean {
  return cause === R.CAUSE_LOAD_PAGE_FAULT || cause === R.CAUSE_STORE_PAGE_FAULT;
}

function yieldNow(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
