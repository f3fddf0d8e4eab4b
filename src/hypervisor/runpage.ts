/*
 * The run page: one SharedArrayBuffer per vCPU, the only channel on the exit
 * path (like KVM's kvm_run). Its layout is defined once, in RUN_PAGE_FIELDS;
 * both threads build their views from that table, so no offset is ever
 * written by hand twice.
 *
 * Who owns what:
 *   state        flipped by both with Atomics: the worker posts EXIT, the
 *                hypervisor answers RUNNING (or STOPPED)
 *   regs, pc     the worker while RUNNING; the hypervisor while EXIT
 *   exit*        written by the worker before posting EXIT
 *   vcsr*        the virtual hart's CSR image: the worker's exit handler
 *                (--exit-handler vcpu) or the hypervisor, whoever holds the vCPU
 *   vcsrState[1] virtual interrupt lines (mipHw), set by the hypervisor's devices
 *                at any time with Atomics.or/and; then `wake` is bumped and notified
 *   ipi          SBI IPIs from other vCPUs, folded into mip.SSIP by the vCPU
 *   control      requests from the hypervisor (pause, stop, start): Atomics
 *   stats        counters written by the worker, read by anyone
 */

type FieldKind = "i32" | "f64";

interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  readonly count: number;
}

/** The run page, in order. Offsets are computed from this and nothing else. */
export const RUN_PAGE_FIELDS = [
  { name: "state", kind: "i32", count: 1 },
  { name: "control", kind: "i32", count: 1 },
  // Bumped (Atomics.add + notify) by anyone who makes a virtual interrupt pending; a vCPU in wfi sleeps on it.
  { name: "wake", kind: "i32", count: 1 },
  // SBI IPIs not yet folded into the virtual mip.SSIP.
  { name: "ipi", kind: "i32", count: 1 },
  { name: "waitPolicy", kind: "i32", count: 1 },
  // The x registers as (lo, hi) int32 pairs, plus the hart's x0 sink (see src/isa/ops.ts).
  { name: "regs", kind: "i32", count: 66 },
  { name: "pc", kind: "f64", count: 1 },
  // The exit record.
  { name: "exitReason", kind: "i32", count: 1 },
  { name: "exitCause", kind: "i32", count: 1 },
  { name: "exitInsn", kind: "i32", count: 1 },
  { name: "exitInsnLength", kind: "i32", count: 1 },
  // The trapping instruction as the hart predecoded it (word0, imm), so the hypervisor need not decode it again.
  { name: "exitDecoded", kind: "i32", count: 2 },
  { name: "exitTval", kind: "f64", count: 1 },
  { name: "mmioAddr", kind: "f64", count: 1 },
  { name: "mmioWidth", kind: "i32", count: 1 },
  { name: "mmioWrite", kind: "i32", count: 1 },
  { name: "mmioReg", kind: "i32", count: 1 },
  { name: "mmioSigned", kind: "i32", count: 1 },
  { name: "mmioData", kind: "i32", count: 2 },
  // Virtual hart: privilege and pending-bit words (CsrFile state) and its CSR image.
  { name: "vcsrState", kind: "i32", count: 4 },
  { name: "vcsrOffsets", kind: "f64", count: 2 },
  { name: "vcsrLo", kind: "i32", count: 4096 },
  { name: "vcsrHi", kind: "i32", count: 4096 },
  // Virtual supervisor timer (SBI set_timer): mtime deadline, Infinity when disarmed.
  { name: "timerDeadline", kind: "f64", count: 1 },
  // Timestamps of the current exit (ms, absolute), for the latency histogram.
  { name: "exitStart", kind: "f64", count: 1 },
  { name: "stats", kind: "f64", count: 64 },
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
  for (const f of RUN_PAGE_FIELDS) {
    // Every field starts its own cache line: the main thread spins on `state` while the vCPU writes
    // registers on every instruction, and sharing a line between them would make both crawl.
    offset = Math.ceil(offset / CACHE_LINE) * CACHE_LINE;
    placed[f.name] = { byteOffset: offset, kind: f.kind, count: f.count };
    offset += f.count * (f.kind === "f64" ? 8 : 4);
  }
  return { placed, size: Math.ceil(offset / 64) * 64 };
}

const LAYOUT = layout();
export const RUN_PAGE_BYTES = LAYOUT.size;

/** Values of the state word. */
export const VCPU_RUNNING = 0;
export const VCPU_EXIT = 1;
export const VCPU_STOPPED = 2;

/** Bits of the control word. */
export const CONTROL_PAUSE = 1 << 0;
export const CONTROL_STOP = 1 << 1;
/** Set by HSM hart_start (and at boot for running harts): the vCPU may run. */
export const CONTROL_STARTED = 1 << 2;
/** A remote fence.i: the vCPU drops its decoded instructions before running on. */
export const CONTROL_FENCE_I = 1 << 3;

/** Exit reasons the vCPU posts (RunPage.exit[EXIT_REASON]). */
export const REASON_TRAP = 1;
export const REASON_INTERRUPT = 2;
/** The hypervisor's answers, written into the same slot before it resumes the vCPU. */
export const RESUME_RUN = 0;
export const RESUME_WAIT = 1;

type I32Field = Extract<(typeof RUN_PAGE_FIELDS)[number], { kind: "i32" }>["name"];
type F64Field = Extract<(typeof RUN_PAGE_FIELDS)[number], { kind: "f64" }>["name"];

/** Typed views of one run page; either thread builds one over the same buffer. */
export class RunPage {
  readonly buffer: SharedArrayBuffer;
  readonly state: Int32Array;
  readonly control: Int32Array;
  readonly wake: Int32Array;
  readonly ipi: Int32Array;
  readonly regs: Int32Array;
  readonly pc: Float64Array;
  readonly exit: Int32Array;
  readonly exitTval: Float64Array;
  readonly exitDecoded: Int32Array;
  readonly mmioAddr: Float64Array;
  readonly mmio: Int32Array;
  readonly mmioData: Int32Array;
  readonly vcsrState: Int32Array;
  readonly vcsrOffsets: Float64Array;
  readonly vcsrLo: Int32Array;
  readonly vcsrHi: Int32Array;
  readonly timerDeadline: Float64Array;
  readonly exitStart: Float64Array;
  readonly stats: Float64Array;
  readonly waitPolicy: Int32Array;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(RUN_PAGE_BYTES);
    if (this.buffer.byteLength < RUN_PAGE_BYTES) throw new RangeError("run page buffer too small");
    this.state = this.i32("state");
    this.control = this.i32("control");
    this.wake = this.i32("wake");
    this.ipi = this.i32("ipi");
    this.waitPolicy = this.i32("waitPolicy");
    this.regs = this.i32("regs");
    this.pc = this.f64("pc");
    // exitReason, exitCause, exitInsn, exitInsnLength are consecutive: one view, indexed by EXIT_*.
    this.exit = this.i32Span("exitReason", 4);
    this.exitTval = this.f64("exitTval");
    this.exitDecoded = this.i32("exitDecoded");
    this.mmioAddr = this.f64("mmioAddr");
    this.mmio = this.i32Span("mmioWidth", 4);
    this.mmioData = this.i32("mmioData");
    this.vcsrState = this.i32("vcsrState");
    this.vcsrOffsets = this.f64("vcsrOffsets");
    this.vcsrLo = this.i32("vcsrLo");
    this.vcsrHi = this.i32("vcsrHi");
    this.timerDeadline = this.f64("timerDeadline");
    this.exitStart = this.f64("exitStart");
    this.stats = this.f64("stats");
  }

  private i32(name: I32Field): Int32Array {
    const p = LAYOUT.placed[name];
    return new Int32Array(this.buffer, p.byteOffset, p.count);
  }
  private i32Span(first: I32Field, count: number): Int32Array {
    return new Int32Array(this.buffer, LAYOUT.placed[first].byteOffset, count);
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
export const EXIT_INSN_LENGTH = 3;
/** Indices into RunPage.mmio. */
export const MMIO_WIDTH = 0;
export const MMIO_WRITE = 1;
export const MMIO_REG = 2;
export const MMIO_SIGNED = 3;
