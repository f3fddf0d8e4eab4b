/*
 * The lockstep differential check: one image natively (the board, one hart,
 * the deterministic icount clock) and under --virt trap (one vCPU, every
 * exit handled on the main thread), compared at every exit. At each exit
 * the main thread sees the vCPU's pc and registers in its run page
 * (src/hypervisor/exit-observer.ts) and steps the native hart to the same
 * point; after the hypervisor has answered, the native hart executes the
 * same instruction itself and the two must agree again. The first
 * disagreement is reported: pc, instruction (disassembled), register.
 *
 * Finding "the same point". Under trap the exiting instruction is the only
 * one the vCPU did not run itself; between two exits both sides run the same
 * straight guest code. The vCPU's retired count at an exit is exact only to
 * within a slice (the hart publishes its count lazily), so the native hart
 * runs quickly to a slice short of it, then one instruction at a time until
 * its pc and registers equal the vCPU's (a loop may pass the pc several
 * times before the registers match).
 *
 * What each exit means natively:
 *   CSR, xRET, wfi, sfence, ecall,   the native hart executes the
 *   MMIO, a reflected exception      instruction (or takes the trap) itself
 *   first touch of a RAM page,       nothing: the vCPU retries the access
 *   a shadow fill (hidden fault)
 *   an interrupt injected            the native hart takes its own pending
 *                                    interrupt; none pending is a divergence
 *
 * Inputs, not divergences: values that come from outside the program differ
 * between the two worlds by design and are copied from the VM into the
 * native hart where they are read — the counters and the clock (cycle,
 * time, instret, their M-mode twins, the CLINT's mtime), the pending-
 * interrupt bits (mip/sip: they follow the clock). satp is not an input:
 * guest paging is virtualized by shadow page tables, so it reads the same in
 * both worlds and a difference is a divergence.
 *
 * An S-mode kernel is checked behind the same firmware on both sides
 * (Debian's OpenSBI: natively in M-mode, under the hypervisor deprivileged in
 * virtual M-mode), so the instructions beneath it are the same; with the
 * hypervisor's own SBI (--bios hv) they would have no native counterpart.
 *
 * Limits (documented, not hidden): one hart; a guest whose control flow depends on when a
 * timer interrupt arrives (rather than on values it reads) diverges
 * legitimately: the clocks differ, and the check reports where.
 */

import type { ExitObserver } from "../hypervisor/exit-observer.ts";
import { Hypervisor } from "../hypervisor/hypervisor.ts";
import * as P from "../hypervisor/runpage.ts";
import { STAT } from "../hypervisor/stats.ts";
import type { Vm, VmResult } from "../hypervisor/vm.ts";
import { disassemble } from "../isa/disasm.ts";
import { regName } from "../isa/regnames.ts";
import { Board } from "../machine/board.ts";
import { InstructionClock } from "../machine/clock.ts";
import { runSlice } from "../machine/hart-loop.ts";
import type { Hart } from "../machine/hart.ts";
import { CLINT_BASE } from "../machine/memlayout.ts";
import * as R from "../machine/riscv.ts";
import * as H from "../machine/hext-defs.ts";
import { hex64, hexNum } from "../machine/u64.ts";

/** Where the two runs first disagree. */
interface Divergence {
  /** The guest pc at which they disagree (hex). */
  readonly pc: string;
  /** The instruction there, disassembled. */
  readonly instruction: string;
  /** What differs: a register with both values, or the pc, privilege, output or ending. */
  readonly what: string;
  /** Exits compared before this one. */
  readonly exits: number;
}

interface LockstepResult {
  /** undefined: the runs agreed at every exit and ended alike. */
  readonly divergence: Divergence | undefined;
  readonly exits: number;
  /** Values copied from the VM into the native hart (counters, clock, satp: see above). */
  readonly inputs: number;
  readonly nativeOutput: string;
  readonly trapOutput: string;
  readonly trapResult: VmResult;
  readonly nativeExitCode: number | undefined;
}

interface LockstepOptions {
  readonly memSize?: number;
  /** Wall-clock limit for the trap run, in seconds. */
  readonly timeoutSeconds?: number;
  /** Instructions per vCPU slice; the native hart is stepped singly over at most two of them per exit. */
  readonly slice?: number;
  /**
   * Fault injection, to show the check works (and for lessons): called after
   * the hypervisor has served exit number `exit` (from 0), before the check;
   * it may change the vCPU's run page as a buggy exit handler would.
   */
  readonly tamper?: (page: P.RunPage, exit: number) => void;
  /** --virt hw: the VM's S and U run in the real hart's VS/VU modes (fewer exits, the same comparison at each). */
  readonly hw?: boolean;
  /**
   * Firmware run first on both sides (Debian's OpenSBI): natively in M-mode, under the hypervisor in
   * virtual M-mode (deprivileged), so an S-mode kernel has the same instructions beneath it in both.
   */
  readonly firmware?: Uint8Array;
}

/** The vCPU slice in lockstep: small, so the native hart steps one instruction at a time over little code. */
const LOCKSTEP_SLICE = 2_000;
/** After the VM stops, the native hart may run this many more instructions to reach its own ending (an HTIF poll lags). */
const ENDING_SLACK = 1_000_000;

const CSR_INPUTS: ReadonlySet<number> = new Set([
  R.CSR_CYCLE, R.CSR_TIME, R.CSR_INSTRET, R.CSR_MCYCLE, R.CSR_MINSTRET, R.CSR_MIP, R.CSR_SIP,
]);
const MTIME_OFFSET = 0xbff8;
const OPCODE_SYSTEM = 0x73;

/** Runs `image` natively and under --virt trap in lockstep; resolves with the first divergence, if any. */
export async function lockstep(image: Uint8Array, opts: LockstepOptions = {}): Promise<LockstepResult> {
  const memSize = opts.memSize ?? 64 * 2 ** 20;
  let nativeOutput = "";
  const board = new Board({ harts: 1, memSize, clock: "icount", output: (b) => (nativeOutput += String.fromCharCode(b)) });
  board.boot({ firmware: opts.firmware, kernel: image });
  let trapOutput = "";
  const hv = new Hypervisor({ machineMemory: memSize + 16 * 2 ** 20 });
  const vm = hv.createVm({
    name: "lockstep",
    vcpus: 1,
    memSize,
    images: { bios: opts.firmware === undefined ? { kind: "none" } : { kind: "firmware", bytes: opts.firmware }, kernel: image },
    wait: "poll",
    exitHandler: "main",
    slice: opts.slice ?? LOCKSTEP_SLICE,
    output: (b) => (trapOutput += String.fromCharCode(b)),
    hw: opts.hw,
  });
  const checker = new LockstepChecker(board, vm, opts.slice ?? LOCKSTEP_SLICE, opts.tamper);
  vm.observer = checker;
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), (opts.timeoutSeconds ?? 60) * 1000);
  const trapResult = await vm.result;
  clearTimeout(timer);
  const nativeExitCode = checker.finish(trapResult, () => nativeOutput, () => trapOutput);
  return { divergence: checker.divergence, exits: checker.exits, inputs: checker.inputs, nativeOutput, trapOutput, trapResult, nativeExitCode };
}

/** What an exit looked like when it was posted, kept for the check after it is served. */
interface PostedExit {
  readonly reason: number;
  readonly cause: number;
  readonly tval: number;
  readonly pc: number;
  readonly insn: number;
}

class LockstepChecker implements ExitObserver {
  divergence: Divergence | undefined;
  exits = 0;
  inputs = 0;
  private readonly hart: Hart;
  /** The vCPU's retired count at the previous exit (its published, lazy count). */
  private lastRetired = 0;
  private posted: PostedExit | undefined;

  constructor(
    private readonly board: Board,
    private readonly vm: Vm,
    private readonly slice: number,
    private readonly tamper: LockstepOptions["tamper"],
  ) {
    this.hart = board.harts[0];
  }

  exitPosted(_hart: number, page: P.RunPage): void {
    if (this.divergence !== undefined) return;
    const reason = page.exit[P.EXIT_REASON];
    const pc = page.pc[0];
    // An interrupt exit is posted between slices, where the published count is exact.
    const retired = reason === P.REASON_TRAP ? page.exitRetired[0] : page.stats[STAT.instructions];
    this.posted = {
      reason,
      cause: page.exit[P.EXIT_CAUSE],
      tval: page.exitTval[0],
      pc,
      insn: this.hart.instructionBits(pc),
    };
    this.catchUp(page, pc, retired - this.lastRetired);
    this.lastRetired = Math.max(this.lastRetired, retired);
    this.exits++;
  }

  exitServed(page: P.RunPage): void {
    const e = this.posted;
    this.posted = undefined;
    if (this.divergence !== undefined || e === undefined) return;
    this.tamper?.(page, this.exits - 1);
    const h = this.hart;
    if (e.reason === P.REASON_INTERRUPT) {
      if (!h.takeInterrupt() && !this.takeAfterClockCatchUp()) {
        this.diverge(e.pc, e.insn, "the hypervisor delivered an interrupt here; natively none is pending (a timer-driven guest: the two clocks differ)");
        return;
      }
    } else if (isRetry(e, page)) {
      return; // first touch of a RAM page: the vCPU retries the access, natively it simply ran
    } else {
      h.wfi = false;
      runSlice(h, 1);
      this.board.pollHtif();
    }
    if (h.pc !== page.pc[0]) {
      this.diverge(e.pc, e.insn, `next pc: native ${hexNum(h.pc)}, trap ${hexNum(page.pc[0])}`);
      return;
    }
    const r = differingRegister(h.x, page, true);
    if (r > 0 && isInput(e)) {
      copyRegisters(h.x, page);
      this.inputs++;
    } else if (r > 0) {
      const dataFault = e.cause === R.CAUSE_LOAD_PAGE_FAULT || e.cause === R.CAUSE_STORE_PAGE_FAULT;
      const at = e.reason === P.REASON_TRAP && dataFault ? ` (an access at ${hexNum(e.tval)})` : "";
      this.diverge(e.pc, e.insn, registerDifference(r, h.x, page, true) + at);
    } else if (h.csr.priv !== this.vm.contexts[0].csr.priv) {
      this.diverge(e.pc, e.insn, `privilege after it: native ${h.csr.priv}, trap ${this.vm.contexts[0].csr.priv}`);
    }
  }

  /**
   * Time is an input too: when the hypervisor delivers a timer interrupt,
   * the VM's clock has passed a deadline that the native icount clock may
   * not have reached. Move the native clock forward to the VM's time (never
   * back) and try again.
   */
  private takeAfterClockCatchUp(): boolean {
    const clock = this.board.clock;
    if (!(clock instanceof InstructionClock)) return false;
    clock.advanceTo(this.vm.clock.mtime());
    this.board.clint.update();
    if (!this.hart.takeInterrupt()) return false;
    this.inputs++;
    return true;
  }

  /**
   * Runs the native hart to where the vCPU posted its exit: fast to a slice
   * short of the vCPU's count, then singly until pc and registers agree.
   */
  private catchUp(page: P.RunPage, pc: number, estimate: number): void {
    const h = this.hart;
    const margin = 2 * this.slice + 64;
    let fast = Math.max(0, estimate - margin);
    while (fast > 0 && this.board.exit === undefined) {
      h.wfi = false;
      const ran = runSlice(h, fast);
      if (ran <= 0) break;
      fast -= ran;
    }
    let firstAtPc: string | undefined;
    for (let left = estimate + 2 * margin; left >= 0; left--) {
      if (h.pc === pc) {
        const r = differingRegister(h.x, page, false);
        if (r < 0) return;
        firstAtPc ??= registerDifference(r, h.x, page, false);
      }
      if (this.board.exit !== undefined) break;
      h.wfi = false;
      runSlice(h, 1);
    }
    const insn = this.hart.instructionBits(pc);
    this.diverge(
      pc,
      insn,
      firstAtPc ?? `the vCPU exits here; the native hart never reached this pc (it is at ${hexNum(h.pc)}${this.board.exit ? ", ended" : ""})`,
    );
  }

  /** After the VM stopped: the native run reaches its own ending, and endings and output must agree. */
  finish(trap: VmResult, nativeOutput: () => string, trapOutput: () => string): number | undefined {
    const h = this.hart;
    let left = ENDING_SLACK;
    while (this.board.exit === undefined && !this.board.resetRequested && left > 0) {
      h.wfi = false;
      left -= Math.max(1, runSlice(h, Math.min(left, 10_000)));
      this.board.pollHtif();
    }
    const native = this.board.exit;
    if (this.divergence === undefined) {
      if (trap.outcome === "error") this.diverge(h.pc, h.instructionBits(h.pc), `the VM failed: ${trap.message}`);
      else if (native === undefined) this.diverge(h.pc, h.instructionBits(h.pc), `ending: native still running, trap ${trap.outcome} ${trap.exitCode}`);
      else if (native.kind !== trap.outcome || native.code !== trap.exitCode) {
        this.diverge(h.pc, h.instructionBits(h.pc), `ending: native ${native.kind} ${native.code}, trap ${trap.outcome} ${trap.exitCode}`);
      } else if (nativeOutput() !== trapOutput()) {
        const a = nativeOutput();
        const b = trapOutput();
        let i = 0;
        while (i < a.length && a[i] === b[i]) i++;
        this.diverge(h.pc, h.instructionBits(h.pc), `console output from byte ${i}: native ${JSON.stringify(a.slice(i, i + 40))}, trap ${JSON.stringify(b.slice(i, i + 40))}`);
      }
    }
    return native?.code;
  }

  private diverge(pc: number, insn: number, what: string): void {
    if (this.divergence !== undefined) return;
    this.divergence = { pc: `${hexNum(pc)}`, instruction: insn === 0 ? "(unreadable)" : disassemble(insn, pc), what, exits: this.exits };
    this.vm.stop("stopped", 1, "lockstep: diverged");
  }
}

/** A page fault the hypervisor answered by mapping RAM: the vCPU resumes at the same pc in the same mode. */
function isRetry(e: PostedExit, page: P.RunPage): boolean {
  const pageFault = isLoadFault(e.cause) || e.cause === R.CAUSE_STORE_PAGE_FAULT || e.cause === R.CAUSE_FETCH_PAGE_FAULT || e.cause === H.CAUSE_STORE_GUEST_PAGE_FAULT || e.cause === H.CAUSE_FETCH_GUEST_PAGE_FAULT;
  // A first touch of guest RAM, or a shadow fill (a hidden fault, at any guest-virtual address): the
  // pc stays; a reflected fault moves it to the trap vector, an MMIO access past the instruction.
  return e.reason === P.REASON_TRAP && pageFault && page.pc[0] === e.pc;
}

/** A load that faulted: under --virt trap a page fault, under --virt hw a guest-page fault (G-stage: first touch, MMIO). */
function isLoadFault(cause: number): boolean {
  return cause === R.CAUSE_LOAD_PAGE_FAULT || cause === H.CAUSE_LOAD_GUEST_PAGE_FAULT;
}

/** A read of a value that comes from outside the program (see the header). */
function isInput(e: PostedExit): boolean {
  if (e.reason !== P.REASON_TRAP) return false;
  if ((e.insn & 0x7f) === OPCODE_SYSTEM && ((e.insn >>> 12) & 7) !== 0) return CSR_INPUTS.has(e.insn >>> 20);
  return isLoadFault(e.cause) && e.tval >= CLINT_BASE + MTIME_OFFSET && e.tval < CLINT_BASE + MTIME_OFFSET + 8;
}

/**
 * The VM's value of x[r] as a (lo, hi) pair. Once an exit is served, a result
 * still in the mailbox wins over the register file; when an exit is posted the
 * mailbox's result slot is left over from the previous exit and means nothing.
 */
function vmPair(page: P.RunPage, r: number, served: boolean): [number, number] {
  if (served && page.exit[P.EXIT_RESULT_REG] === 2 * r) return [page.exitOperand[0], page.exitOperand[1]];
  return [page.regs[2 * r], page.regs[2 * r + 1]];
}

/** The first register (1..31) whose value differs, or -1. */
function differingRegister(x: Int32Array, page: P.RunPage, served: boolean): number {
  for (let r = 1; r < 32; r++) {
    const [lo, hi] = vmPair(page, r, served);
    if (x[2 * r] !== lo || x[2 * r + 1] !== hi) return r;
  }
  return -1;
}

function copyRegisters(x: Int32Array, page: P.RunPage): void {
  for (let r = 1; r < 32; r++) {
    const [lo, hi] = vmPair(page, r, true);
    x[2 * r] = lo;
    x[2 * r + 1] = hi;
  }
}

function registerDifference(r: number, x: Int32Array, page: P.RunPage, served: boolean): string {
  const [lo, hi] = vmPair(page, r, served);
  return `${regName(r)}: native ${hex64(x[2 * r], x[2 * r + 1])}, trap ${hex64(lo, hi)}`;
}
