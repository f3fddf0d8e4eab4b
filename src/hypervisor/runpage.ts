/*
 * The run page: one SharedArrayBuffer per vCPU, the only channel on the exit
 * path (like KVM's kvm_run). Its layout is defined once, in RUN_PAGE_FIELDS;
 * both threads build their views from that table, so no offset is ever
 * written by hand twice.
 *
 * Who owns what:
 *   state        flipped by both with Atomics: the worker posts EXIT, the
 *                hypervisor answers RUNNING (or STOPPED; or holds a debug
 *                exit as DEBUG, then answers RUNNING)
 *   exit*, pc    the exit mailbox: written by the worker before posting EXIT,
 *                answered by the hypervisor before it flips state back
 *   regs         the worker while RUNNING; the hypervisor while EXIT; a
 *                hart_start (any thread) while hsm is HSM_START_CLAIMED
 *   vcsr*        the virtual hart's CSR image: the worker's exit handler
 *                (--exit-handler vcpu) or the hypervisor, whoever holds the vCPU
 *   vcsrState[1] virtual interrupt lines (mipHw), set by the hypervisor's devices
 *                at any time with Atomics.or/and; then `wake` is bumped and notified
 *   ipi          SBI IPIs from other vCPUs, folded into mip.SSIP by the vCPU
 *   control      requests from the hypervisor (pause, stop, fence.i): Atomics
 *   hsm          the vCPU's SBI HSM state, moved only by compareExchange or by
 *                its one possible writer (see HSM_START_CLAIMED for who moves what)
 *   stats        counters, one array per writing thread (vCPU, main), summed by readers
 *
 * Cache lines are the cost model. Moving one line between the two cores
 * costs about as much as the rest of a null exit, so the exit mailbox — state
 * word, exit record, pc and the operand of a CSR exit — is one 64-byte line:
 * an exit moves it to the main thread and back, and nothing else (measured
 * on these machines: ~350 ns for a round trip through one line against
 * ~480 ns with the same data spread over separate lines). Every other field
 * starts a line of its own, so that what one thread writes all the time
 * (registers, its counters) never shares a line with what the other reads.
 */

type FieldKind = "i32" | "f64";

interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  readonly count: number;
  /** Fields with the same `line` share one cache line, in order; the layout checks they fit. */
  readonly line?: string;
}

/** The run page, in order. Offsets are computed from this and nothing else. */
export const RUN_PAGE_FIELDS = [
  // ---- the exit mailbox: one cache line (f64s first, so nothing needs padding) ----
  { name: "pc", kind: "f64", count: 1, line: "exit" },
  { name: "exitTval", kind: "f64", count: 1, line: "exit" },
  // Instructions the guest has retired, as of this exit (the hypervisor's instret/cycle reads).
  { name: "exitRetired", kind: "f64", count: 1, line: "exit" },
  { name: "state", kind: "i32", count: 1, line: "exit" },
  // EXIT_REASON (the answer, on the way back), EXIT_CAUSE, EXIT_INSN, EXIT_RESULT_REG.
  { name: "exit", kind: "i32", count: 4, line: "exit" },
  // The trapping instruction as the hart predecoded it (word0, imm), so the hypervisor need not decode it again.
  { name: "exitDecoded", kind: "i32", count: 2, line: "exit" },
  // A CSR exit's operand: x[rs1] (lo, hi) on the way out; the value for x[EXIT_RESULT_REG] on the way back.
  { name: "exitOperand", kind: "i32", count: 2, line: "exit" },
  // ---- the rest: each field on lines of its own ----
  { name: "control", kind: "i32", count: 1 },
  // The SBI HSM state (HSM_* in exits/services.ts, or HSM_START_CLAIMED): read by every vCPU of the VM.
  { name: "hsm", kind: "i32", count: 1 },
  // Bumped (Atomics.add + notify) by anyone who makes a virtual interrupt pending; a vCPU in wfi sleeps on it.
  { name: "wake", kind: "i32", count: 1 },
  // SBI IPIs not yet folded into the virtual mip.SSIP.
  { name: "ipi", kind: "i32", count: 1 },
  { name: "waitPolicy", kind: "i32", count: 1 },
  // 1 while the vCPU thread is idle outside guest code (wfi, suspended, stopped, paused), 0 while it may run guest
  // code: KVM's vcpu->mode. Written only by the vCPU thread (Atomics); a shootdown need not wait for a halted vCPU.
  { name: "halted", kind: "i32", count: 1 },
  // The x registers as (lo, hi) int32 pairs, plus the hart's x0 sink (see src/isa/ops.ts).
  { name: "regs", kind: "i32", count: 66 },
  // Virtual hart: privilege and pending-bit words (CsrFile state) and its CSR image.
  { name: "vcsrState", kind: "i32", count: 4 },
  { name: "vcsrOffsets", kind: "f64", count: 2 },
  { name: "vcsrLo", kind: "i32", count: 4096 },
  { name: "vcsrHi", kind: "i32", count: 4096 },
  // Virtual supervisor timer (SBI set_timer): mtime deadline, Infinity when disarmed.
  { name: "timerDeadline", kind: "f64", count: 1 },
  // --mmu swtlb: the guest's virtual TLB (src/machine/swtlb.ts storage), written by whichever thread emulates
  // its TLB-write CSRs, and the last such write's effect for the vCPU thread to apply to the real TLB
  // ([op, argument, evicted VPN], swtlb-virt.ts) before the guest runs on.
  { name: "vtlb", kind: "i32", count: 256 },
  { name: "vtlbState", kind: "i32", count: 2 },
  { name: "vtlbPending", kind: "i32", count: 3 },
  // Exit counters (stats.ts), one array per writer: the vCPU thread's, and the main thread's.
  { name: "stats", kind: "f64", count: 64 },
  { name: "mainStats", kind: "f64", count: 64 },
] as const satisfies readonly FieldSpec[];

export type RunPageField = (typeof RUN_PAGE_FIELDS)[number]["name"];

const CACHE_LINE = 64;

interface Placed {
  readonly byteOffset: number;
  readonly kind: FieldKind;
  readonly count: number;
}

function layout(): { placed: Record<string, Placed>; size: number } {
  const placed: Record<string, Placed> = {};
  let offset = 0;
  let line: string | undefined;
  let lineStart = 0;
  for (const f of RUN_PAGE_FIELDS as readonly FieldSpec[]) {
    const width = f.kind === "f64" ? 8 : 4;
    if (f.line === undefined || f.line !== line) {
      offset = Math.ceil(offset / CACHE_LINE) * CACHE_LINE;
      lineStart = offset;
      line = f.line;
    }
    offset = Math.ceil(offset / width) * width;
    placed[f.name] = { byteOffset: offset, kind: f.kind, count: f.count };
    offset += f.count * width;
    if (f.line !== undefined && offset - lineStart > CACHE_LINE) throw new Error(`run page: line "${f.line}" overflows at ${f.name}`);
  }
  return { placed, size: Math.ceil(offset / CACHE_LINE) * CACHE_LINE };
}

const LAYOUT = layout();
export const RUN_PAGE_BYTES = LAYOUT.size;

/** Byte offset of a field (tests check the layout with it). */
export function fieldOffset(name: RunPageField): number {
  return LAYOUT.placed[name].byteOffset;
}

/**
 * A buffer for one run page whose start is cache-line aligned in memory. A
 * plain SharedArrayBuffer is not: its backing store comes from malloc, 16-byte
 * aligned (and a large one from mmap at a page plus malloc's 16-byte header),
 * so the 64-byte mailbox would straddle two lines in most processes and an
 * exit would move both — measured here as null exits alternating between
 * ~400 and ~600 ns from one run to the next. WebAssembly memory is mapped by
 * whole pages, so its buffer starts page-aligned.
 */
function allocateRunPageBuffer(): SharedArrayBuffer {
  const wasmPages = Math.ceil(RUN_PAGE_BYTES / WASM_PAGE_BYTES);
  const buffer = new WebAssembly.Memory({ initial: wasmPages, maximum: wasmPages, shared: true }).buffer;
  if (!(buffer instanceof SharedArrayBuffer)) throw new Error("run page: shared WebAssembly memory is not available");
  return buffer;
}

const WASM_PAGE_BYTES = 65536;

/** Values of the state word. */
export const VCPU_RUNNING = 0;
export const VCPU_EXIT = 1;
export const VCPU_STOPPED = 2;
/**
 * A debug exit (REASON_DEBUG) the main thread holds while a debugger has the
 * VM halted (vm-exits.ts): no longer EXIT, so the service loop passes it by
 * with the check it makes anyway. The vCPU waits while it is EXIT or this.
 */
export const VCPU_DEBUG = 3;

/** Bits of the control word. */
export const CONTROL_PAUSE = 1 << 0;
export const CONTROL_STOP = 1 << 1;
/** A remote fence.i: the vCPU drops its decoded instructions before running on. */
export const CONTROL_FENCE_I = 1 << 2;
/**
 * A remote sfence.vma (SBI RFENCE): the vCPU drops its shadow page tables and
 * its hart's TLB, then clears the bit (its acknowledgement: the requester
 * waits for it, shadow/shootdown.ts). Whoever clears the bit does the flush.
 * A halted vCPU (the `halted` word) is not waited for: it takes the bit
 * before it runs guest code again.
 */
export const CONTROL_SHADOW_FLUSH = 1 << 3;

/**
 * The hsm word holds the vCPU's SBI HSM state (SBI spec 9.1: STARTED 0,
 * STOPPED 1, START_PENDING 2, STOP_PENDING 3, SUSPENDED 4), or this internal
 * value while a hart_start owns a stopped vCPU's registers (it reads as
 * START_PENDING). Each move has exactly one thread that may make it, so the
 * registers, pc and CSR image always have exactly one writer:
 *
 *   STOPPED → START_CLAIMED     hart_start, by compareExchange (peers.ts); it
 *                               then writes pc, a0, a1 and the CSR image
 *   START_CLAIMED → START_PENDING   the same hart_start, after those writes
 *   START_PENDING → STARTED     the vCPU thread, then it runs from the new pc
 *   STARTED → STOP_PENDING      hart_stop's handler (vCPU or main thread)
 *   STOP_PENDING → STOPPED      the vCPU thread, once parked: its last write
 *   STARTED ⇄ SUSPENDED         hart_suspend's handler / the vCPU on resume
 *
 * Atomics are sequentially consistent, so plain writes before a store of the
 * word happen-before plain reads after a load that sees it.
 */
export const HSM_START_CLAIMED = 0x100;

/** Exit reasons the vCPU posts (RunPage.exit[EXIT_REASON]). */
export const REASON_TRAP = 1;
export const REASON_INTERRUPT = 2;
/**
 * The guest executed an ebreak the debugger planted (debug-breakpoints.ts):
 * the vCPU stopped before it, pc in the record, and sleeps — a person is at
 * the debugger — until the main thread lets it go (VCPU_DEBUG, vm-debug.ts).
 */
export const REASON_DEBUG = 3;
/** The hypervisor's answers, written into the same slot before it resumes the vCPU. */
export const RESUME_RUN = 0;
export const RESUME_WAIT = 1;
/** Run on after a plain CSR access (fastCsr): no timer or interrupt enable can have changed. */
export const RESUME_CSR = 2;

type I32Field = Extract<(typeof RUN_PAGE_FIELDS)[number], { kind: "i32" }>["name"];
type F64Field = Extract<(typeof RUN_PAGE_FIELDS)[number], { kind: "f64" }>["name"];

/** Typed views of one run page; either thread builds one over the same buffer. */
export class RunPage {
  readonly buffer: SharedArrayBuffer;
  readonly state: Int32Array;
  readonly control: Int32Array;
  readonly hsm: Int32Array;
  readonly wake: Int32Array;
  readonly ipi: Int32Array;
  readonly halted: Int32Array;
  readonly regs: Int32Array;
  readonly pc: Float64Array;
  readonly exit: Int32Array;
  readonly exitTval: Float64Array;
  readonly exitDecoded: Int32Array;
  readonly exitOperand: Int32Array;
  readonly exitRetired: Float64Array;
  readonly vcsrState: Int32Array;
  readonly vcsrOffsets: Float64Array;
  readonly vcsrLo: Int32Array;
  readonly vcsrHi: Int32Array;
  readonly timerDeadline: Float64Array;
  readonly stats: Float64Array;
  readonly mainStats: Float64Array;
  readonly waitPolicy: Int32Array;
  readonly vtlb: Int32Array;
  readonly vtlbState: Int32Array;
  readonly vtlbPending: Int32Array;

  /**
   * `regs`: the register file kept elsewhere instead of in the page: in the
   * vCPU's wasm arena (hypervisor/frames.ts), where wasm blocks read it; both
   * threads then build their views with the same one.
   */
  constructor(buffer?: SharedArrayBuffer, regs?: Int32Array) {
    this.buffer = buffer ?? allocateRunPageBuffer();
    if (this.buffer.byteLength < RUN_PAGE_BYTES) throw new RangeError("run page buffer too small");
    this.state = this.i32("state");
    this.control = this.i32("control");
    this.hsm = this.i32("hsm");
    this.wake = this.i32("wake");
    this.ipi = this.i32("ipi");
    this.halted = this.i32("halted");
    this.waitPolicy = this.i32("waitPolicy");
    this.regs = regs ?? this.i32("regs");
    if (this.regs.length !== LAYOUT.placed.regs.count) throw new RangeError(`run page: a register file has ${LAYOUT.placed.regs.count} words, got ${this.regs.length}`);
    this.pc = this.f64("pc");
    this.exit = this.i32("exit");
    this.exitTval = this.f64("exitTval");
    this.exitDecoded = this.i32("exitDecoded");
    this.exitOperand = this.i32("exitOperand");
    this.exitRetired = this.f64("exitRetired");
    this.vcsrState = this.i32("vcsrState");
    this.vcsrOffsets = this.f64("vcsrOffsets");
    this.vcsrLo = this.i32("vcsrLo");
    this.vcsrHi = this.i32("vcsrHi");
    this.timerDeadline = this.f64("timerDeadline");
    this.stats = this.f64("stats");
    this.mainStats = this.f64("mainStats");
    this.vtlb = this.i32("vtlb");
    this.vtlbState = this.i32("vtlbState");
    this.vtlbPending = this.i32("vtlbPending");
  }

  private i32(name: I32Field): Int32Array {
    const p = LAYOUT.placed[name];
    return new Int32Array(this.buffer, p.byteOffset, p.count);
  }
  private f64(name: F64Field): Float64Array {
    const p = LAYOUT.placed[name];
    return new Float64Array(this.buffer, p.byteOffset, p.count);
  }
}

/** Indices into RunPage.exit. */
export const EXIT_REASON = 0;
export const EXIT_CAUSE = 1;
export const EXIT_INSN = 2;
/**
 * The hypervisor's answer to a CSR exit it emulated from the mailbox alone:
 * the register index (as in predecoded words) the vCPU sets to exitOperand
 * when it resumes, or NO_RESULT_REG.
 */
export const EXIT_RESULT_REG = 3;
export const NO_RESULT_REG = -1;
