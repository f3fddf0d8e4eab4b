/*
 * The CSR file: one table row per CSR (QEMU target/riscv/csr.c style) saying
 * who may access it, how it reads and how a write is legalised (WARL masks).
 * The hart uses it for the real CSRs; the hypervisor uses the same class for a
 * guest's virtual CSRs, so the legal values have one source of truth.
 *
 * Values are int32 (lo, hi) pairs, like the hart's registers. A read leaves
 * its result in `rlo`/`rhi` so that no CSR access allocates.
 */

import * as R from "./riscv.ts";
import * as H from "./hext-defs.ts";
import { hiOf, isExactPair, loOf, pairToNumber } from "./u64.ts";
import { X0_SINK as X0_SINK_INDEX } from "../isa/ops.ts";

/** What a CSR file needs from the machine around it. */
export interface CsrHost {
  /** mtime, for the time CSR and Sstc. */
  mtime(): number;
  /** Instructions retired so far (the hart's count, also used as its cycle count). */
  retired(): number;
  /** satp, privilege or the mstatus fields that steer translation changed: drop cached translations. */
  translationChanged(): void;
  /**
   * A supervisor timer the host keeps beside Sstc's comparator (a hypervisor's
   * SBI set_timer): its mtime deadline, Infinity when disarmed. Hosts without
   * one leave it out.
   */
  supervisorTimerDeadline?(): number;
  /**
   * The time CSR's value, for a host that does more than read mtime: it
   * reads the clock once and brings the comparators against time (mtimecmp,
   * stimecmp) up to date with that same reading, rather than between
   * slices, so that software polling time never sees it pass a deadline
   * whose interrupt has not arrived. Without it the time CSR reads mtime().
   */
  readTime?(): number;
  /** Present when the hart's MMU is `--mmu swtlb` (swtlb.ts): the TLB-write CSRs exist only then. */
  readonly softTlb?: SoftTlbHost;
  /** Present when the hart implements the H extension (hext.ts): the hypervisor CSRs exist only then. */
  readonly hext?: HextCsrHost;
}

/** What the H extension's CSRs (hext-csr.ts) need beyond storage. */
export interface HextCsrHost {
  /** hgatp or vsatp changed, or a V=1 context's status fields did: drop two-stage translations. */
  guestTranslationChanged(): void;
}

/** What the TLB-write CSRs (CSR_STLB*) do beyond storage: the host owns the TLB. */
export interface SoftTlbHost {
  /** A write of stlbindex, stlbrandom or stlbflush (value lo, hi); stlbvpn and stlbpte are read from the file. */
  command(c: CsrFile, csr: number, lo: number, hi: number): void;
  /** The slot stlbrandom would write next. */
  nextRandom(): number;
}

export interface CsrRow {
  readonly name: string;
  /** Extra access rule beyond the number's privilege/read-only bits; false means illegal instruction. */
  readonly allowed?: (c: CsrFile) => boolean;
  /** Computes the value into c.rlo/c.rhi; default: storage. */
  readonly read?: (c: CsrFile) => void;
  /** Legalises and stores a written value; default: storage under maskLo/maskHi. */
  readonly write?: (c: CsrFile, lo: number, hi: number) => void;
  readonly maskLo?: number;
  readonly maskHi?: number;
}

const ALL = -1;

/**
 * Where a CSR file keeps its state. By default plain arrays; the hypervisor
 * passes views of a vCPU's run page (a SharedArrayBuffer) so the virtual CSR
 * image is visible to the vCPU thread and the hypervisor alike.
 */
export interface CsrStorage {
  /** Low and high words of every CSR, indexed by CSR number. */
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  /** [privilege, wired pending bits, software pending bits, spare]; written with Atomics. */
  readonly state: Int32Array;
  /** [mcycle offset, minstret offset]. */
  readonly offsets: Float64Array;
}

const ST_PRIV = 0;
/** Index of the wired pending bits in CsrStorage.state: where a device on another thread posts (Atomics.or) an interrupt. */
export const ST_MIP_HW = 1;
const ST_MIP_SW = 2;
const ST_VIRT = 3;
const STATE_WORDS = 4;

function newCsrStorage(state: Int32Array = new Int32Array(STATE_WORDS)): CsrStorage {
  return { lo: new Int32Array(4096), hi: new Int32Array(4096), state, offsets: new Float64Array(2) };
}

/** Storage whose state words are shared memory, so a device thread can post interrupts into mip (the native board's harts). */
export function sharedStateCsrStorage(): CsrStorage {
  return newCsrStorage(new Int32Array(new SharedArrayBuffer(STATE_WORDS * 4)));
}

export class CsrFile {
  /** Backing storage for plain CSRs, indexed by CSR number. */
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  private readonly state: Int32Array;
  private readonly offsets: Float64Array;
  /** Result of the last read. */
  rlo = 0;
  rhi = 0;

  constructor(
    readonly hartId: number,
    readonly host: CsrHost,
    storage: CsrStorage = newCsrStorage(),
    /** False to adopt storage that already holds a CSR image (another thread's view of it). */
    resetNow = true,
  ) {
    this.lo = storage.lo;
    this.hi = storage.hi;
    this.state = storage.state;
    this.offsets = storage.offsets;
    if (resetNow) this.reset();
  }

  /** Current privilege level (PRV_U, PRV_S or PRV_M). */
  get priv(): number {
    return this.state[ST_PRIV];
  }
  set priv(p: number) {
    this.state[ST_PRIV] = p;
  }
  /**
   * The H extension's virtualization mode V (1 in VS and VU). While it is 1
   * the s* CSR slots hold the guest's vs* values and the vs* slots the HS
   * ones (hext-trap.ts swaps them), so S-mode code paths serve both.
   */
  get virt(): number {
    return this.state[ST_VIRT];
  }
  set virt(v: number) {
    this.state[ST_VIRT] = v;
  }
  /** Interrupt-pending bits driven by wires (CLINT, PLIC, Sstc comparator): MSIP, MTIP, MEIP, SEIP, STIP. */
  get mipHw(): number {
    return Atomics.load(this.state, ST_MIP_HW);
  }
  set mipHw(v: number) {
    Atomics.store(this.state, ST_MIP_HW, v);
  }
  /** Interrupt-pending bits written by software through mip/sip: SSIP, STIP, SEIP. */
  get mipSw(): number {
    return this.state[ST_MIP_SW];
  }
  set mipSw(v: number) {
    this.state[ST_MIP_SW] = v;
  }
  /** mcycle/minstret are kept as offsets from the host's retired count, so writes are cheap. */
  get cycleOffset(): number {
    return this.offsets[0];
  }
  set cycleOffset(v: number) {
    this.offsets[0] = v;
  }
  get instretOffset(): number {
    return this.offsets[1];
  }
  set instretOffset(v: number) {
    this.offsets[1] = v;
  }

  /** Power-on state (priv spec 3.4): M-mode, MIE=0, MPRV=0, misa full, everything else zero. */
  reset(): void {
    this.lo.fill(0);
    this.hi.fill(0);
    this.priv = R.PRV_M;
    this.virt = 0;
    this.mipHw &= R.MIP_MSIP | R.MIP_MTIP | R.MIP_MEIP | R.MIP_SEIP | R.MIP_POSTED;
    this.mipSw = 0;
    this.hi[R.CSR_MSTATUS] = R.MSTATUS_HI_XLEN64;
    this.cycleOffset = 0;
    this.instretOffset = 0;
  }

  // ---- fast accessors the hart and trap code use ----
  get mstatus(): number {
    return this.lo[R.CSR_MSTATUS];
  }
  set mstatus(v: number) {
    this.lo[R.CSR_MSTATUS] = v;
  }
  get mie(): number {
    return this.lo[R.CSR_MIE];
  }
  get mideleg(): number {
    return this.lo[R.CSR_MIDELEG];
  }
  get medeleg(): number {
    return this.lo[R.CSR_MEDELEG];
  }
  /** The mip value software sees. */
  get mip(): number {
    return this.mipHw | this.mipSw;
  }
  get stce(): boolean {
    return (this.hi[R.CSR_MENVCFG] & R.MENVCFG_HI_STCE) !== 0;
  }
  /** A 64-bit CSR as a number (tvec, epc, stimecmp). */
  num(csr: number): number {
    return pairToNumber(this.lo[csr], this.hi[csr]);
  }
  /** A 64-bit CSR as an unsigned number (stimecmp: all ones means "never"). */
  unsignedNum(csr: number): number {
    return (this.hi[csr] >>> 0) * 4294967296 + (this.lo[csr] >>> 0);
  }
  setNum(csr: number, value: number): void {
    this.lo[csr] = loOf(value);
    this.hi[csr] = hiOf(value);
  }

  /**
   * Whether the current privilege may access `csr` (and write it, if `write`): priv spec 2.1.
   * `priv` is the level checked against the number's bits: HS-mode passes 2 (hext.ts).
   */
  allowed(csr: number, write: boolean, priv = this.priv): boolean {
    const row = CSR_TABLE[csr];
    if (row === undefined) return false;
    if (priv < ((csr >>> 8) & 3)) return false;
    if (write && csr >>> 10 === 3) return false;
    return row.allowed === undefined || row.allowed(this);
  }

  /** Reads into rlo/rhi; the caller has checked allowed(). */
  read(csr: number): void {
    const row = CSR_TABLE[csr];
    if (row === undefined) {
      this.rlo = 0;
      this.rhi = 0;
    } else if (row.read !== undefined) {
      row.read(this);
    } else {
      this.rlo = this.lo[csr];
      this.rhi = this.hi[csr];
    }
  }

  /** Writes a value, legalised; the caller has checked allowed(). */
  write(csr: number, lo: number, hi: number): void {
    const row = CSR_TABLE[csr];
    if (row === undefined) return;
    if (row.write !== undefined) {
      row.write(this, lo, hi);
      return;
    }
    const ml = row.maskLo ?? 0;
    const mh = row.maskHi ?? 0;
    this.lo[csr] = (this.lo[csr] & ~ml) | (lo & ml);
    this.hi[csr] = (this.hi[csr] & ~mh) | (hi & mh);
  }

  /** Sets or clears a wired interrupt-pending bit; atomic, as devices on another thread may drive it. */
  setHwPending(bit: number, level: boolean): void {
    const mask = 1 << bit;
    // Only a change needs the read-modify-write (it is called on every timer sample).
    if (((Atomics.load(this.state, ST_MIP_HW) & mask) !== 0) === level) return;
    if (level) Atomics.or(this.state, ST_MIP_HW, mask);
    else Atomics.and(this.state, ST_MIP_HW, ~mask);
  }

  /**
   * Sstc: STIP follows time >= stimecmp while menvcfg.STCE is set (or the
   * host's own supervisor timer). `now` is a reading of mtime the caller
   * already has; without it the host's clock is read, only if a comparator is armed.
   */
  updateStimecmp(now?: number): void {
    const host = this.host;
    const stce = this.stce;
    if (!stce && host.supervisorTimerDeadline === undefined) return; // STIP is software's (mip) then
    // All ones is how software disarms the comparator: no need to read the clock for it.
    const armed = stce && !(this.lo[R.CSR_STIMECMP] === -1 && this.hi[R.CSR_STIMECMP] === -1);
    const deadline = host.supervisorTimerDeadline?.() ?? Infinity;
    let due = false;
    if (armed || deadline !== Infinity) {
      const t = now ?? host.mtime();
      due = (armed && t >= this.unsignedNum(R.CSR_STIMECMP)) || t >= deadline;
    }
    this.setHwPending(R.IRQ_S_TIMER, due);
  }

  /** Name of a CSR for disassembly, traces and errors. */
  static nameOf(csr: number): string {
    return CSR_TABLE[csr]?.name ?? `csr_0x${csr.toString(16)}`;
  }

  static exists(csr: number): boolean {
    return CSR_TABLE[csr] !== undefined;
  }
}

/** CSRs whose writes can make an interrupt takeable (or change which is pending): a table for the hot paths. */
const INTERRUPT_CSR_TABLE = new Uint8Array(4096);
for (const csr of [
  R.CSR_MSTATUS, R.CSR_SSTATUS, R.CSR_MIE, R.CSR_SIE, R.CSR_MIP, R.CSR_SIP,
  R.CSR_MIDELEG, R.CSR_STIMECMP, R.CSR_MENVCFG,
  H.CSR_HIDELEG, H.CSR_HIE, H.CSR_HIP, H.CSR_HVIP, H.CSR_VSIE, H.CSR_VSIP, H.CSR_VSSTATUS, H.CSR_HSTATUS,
]) INTERRUPT_CSR_TABLE[csr] = 1;

/** Whether writing `csr` may make an interrupt takeable. */
export function csrAffectsInterrupts(csr: number): boolean {
  return INTERRUPT_CSR_TABLE[csr] !== 0;
}

/** Results of executeCsrInstruction. */
export const CSR_ILLEGAL = 0;
export const CSR_READ_ONLY = 1;
export const CSR_WROTE = 2;

/**
 * csrrw/csrrs/csrrc and their immediate forms (Zicsr) against a CSR file and
 * a register file of (lo, hi) pairs. `kind`: 0 rw, 1 rs, 2 rc; `rd` and `rs1`
 * are doubled register indices as in the predecoded format (for the
 * immediate forms rs1 holds the doubled uimm). Used by the hart for real CSRs
 * and by the hypervisor for a guest's virtual ones. Returns CSR_ILLEGAL (the
 * caller raises illegal instruction; nothing changed), CSR_READ_ONLY or CSR_WROTE.
 * `priv`: the level the access is checked against (HS-mode's is 2, hext.ts).
 */
export function executeCsrInstruction(c: CsrFile, x: Int32Array, kind: number, immediate: boolean, rd: number, rs1: number, csrNum: number, priv = c.priv): number {
  const srcLo = immediate ? rs1 >>> 1 : x[rs1];
  const srcHi = immediate ? 0 : x[rs1 + 1];
  // csrrs/csrrc with rs1=x0 (or uimm 0) do not write, so they may read read-only CSRs.
  const writes = kind === 0 || rs1 !== 0;
  if (PLAIN_STORAGE[csrNum] !== 0) return executePlain(c, x, kind, writes, srcLo, srcHi, rd, csrNum, priv);
  if (!c.allowed(csrNum, writes, priv)) return CSR_ILLEGAL;
  let oldLo = 0;
  let oldHi = 0;
  // csrrw with rd=x0 does not read (no read side effects).
  if (kind !== 0 || rd !== X0_SINK_INDEX) {
    c.read(csrNum);
    oldLo = c.rlo;
    oldHi = c.rhi;
  }
  if (writes) {
    let lo = srcLo;
    let hi = srcHi;
    if (kind === 1) {
      lo = oldLo | srcLo;
      hi = oldHi | srcHi;
    } else if (kind === 2) {
      lo = oldLo & ~srcLo;
      hi = oldHi & ~srcHi;
    }
    c.write(csrNum, lo, hi);
  }
  x[rd] = oldLo;
  x[rd + 1] = oldHi;
  return writes ? CSR_WROTE : CSR_READ_ONLY;
}

/**
 * executeCsrInstruction for a CSR that is plain storage under a WARL mask
 * (no access rule, no computed read, no legalising write: the scratch, epc,
 * cause and tval registers, most of the hottest). Inline and without the
 * table's function-valued fields, so a call site that sees many CSRs — a
 * guest kernel's trap path, every CSR exit of a hypervisor — stays fast.
 */
function executePlain(c: CsrFile, x: Int32Array, kind: number, writes: boolean, srcLo: number, srcHi: number, rd: number, csrNum: number, priv: number): number {
  if (priv < ((csrNum >>> 8) & 3) || (writes && csrNum >>> 10 === 3)) return CSR_ILLEGAL;
  const lo = c.lo;
  const hi = c.hi;
  const oldLo = lo[csrNum];
  const oldHi = hi[csrNum];
  if (writes) {
    const newLo = kind === 0 ? srcLo : kind === 1 ? oldLo | srcLo : oldLo & ~srcLo;
    const newHi = kind === 0 ? srcHi : kind === 1 ? oldHi | srcHi : oldHi & ~srcHi;
    const ml = PLAIN_MASK_LO[csrNum];
    const mh = PLAIN_MASK_HI[csrNum];
    lo[csrNum] = (oldLo & ~ml) | (newLo & ml);
    hi[csrNum] = (oldHi & ~mh) | (newHi & mh);
  }
  x[rd] = oldLo;
  x[rd + 1] = oldHi;
  return writes ? CSR_WROTE : CSR_READ_ONLY;
}

/** A CSR's row as defined so far (hext-csr.ts wraps some rows); undefined when there is none. */
export function csrRow(csr: number): CsrRow | undefined {
  return CSR_TABLE[csr];
}

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

// A packed array of rows that all have the same shape (every field present), so the CSR paths
// — taken on every CSR exit under the hypervisor — see one hidden class, not one per row kind.
const CSR_TABLE: (CsrRow | undefined)[] = Array.from({ length: 4096 }, () => undefined);

/** 1 where a CSR is plain storage (see executePlain), with its write masks. */
const PLAIN_STORAGE = new Uint8Array(4096);
const PLAIN_MASK_LO = new Int32Array(4096);
const PLAIN_MASK_HI = new Int32Array(4096);

/** Adds (or, for the H extension's wrappers in hext-csr.ts, replaces) a CSR's row. */
export function defineCsr(csr: number, row: CsrRow): void {
  CSR_TABLE[csr] = {
    name: row.name,
    allowed: row.allowed,
    read: row.read,
    write: row.write,
    maskLo: row.maskLo ?? 0,
    maskHi: row.maskHi ?? 0,
  };
  const plain = row.allowed === undefined && row.read === undefined && row.write === undefined;
  PLAIN_STORAGE[csr] = plain ? 1 : 0;
  PLAIN_MASK_LO[csr] = plain ? (row.maskLo ?? 0) : 0;
  PLAIN_MASK_HI[csr] = plain ? (row.maskHi ?? 0) : 0;
}

function readConst(lo: number, hi = 0): (c: CsrFile) => void {
  return (c) => {
    c.rlo = lo;
    c.rhi = hi;
  };
}

function readNumber(c: CsrFile, value: number): void {
  c.rlo = loOf(value);
  c.rhi = hiOf(value);
}

const ignoreWrite = (): void => {};

/** Counter access from S/U (priv spec 3.1.11): mcounteren gates S and U, scounteren gates U as well. */
function counterAllowed(bit: number): (c: CsrFile) => boolean {
  return (c) => {
    if (c.priv === R.PRV_M) return true;
    if ((c.lo[R.CSR_MCOUNTEREN] & bit) === 0) return false;
    return c.priv === R.PRV_S || (c.lo[R.CSR_SCOUNTEREN] & bit) !== 0;
  };
}

// Machine information registers: read-only; popek reports zero ids (a non-commercial implementation).
defineCsr(R.CSR_MVENDORID, { name: "mvendorid", read: readConst(0) });
defineCsr(R.CSR_MARCHID, { name: "marchid", read: readConst(0) });
defineCsr(R.CSR_MIMPID, { name: "mimpid", read: readConst(0) });
defineCsr(R.CSR_MHARTID, { name: "mhartid", read: (c) => readConst(c.hartId)(c) });
defineCsr(R.CSR_MCONFIGPTR, { name: "mconfigptr", read: readConst(0) });

defineCsr(R.CSR_MISA, { name: "misa", read: readConst(R.MISA_LO, R.MISA_HI), write: ignoreWrite });

defineCsr(R.CSR_MSTATUS, {
  name: "mstatus",
  write: (c, lo) => {
    const old = c.mstatus;
    let next = (old & ~R.MSTATUS_WRITABLE) | (lo & R.MSTATUS_WRITABLE);
    // MPP is WARL: 2 (reserved, H) is not a legal privilege here; keep the old value.
    if (((next & R.MSTATUS_MPP) >>> R.MSTATUS_MPP_SHIFT) === 2) next = (next & ~R.MSTATUS_MPP) | (old & R.MSTATUS_MPP);
    c.mstatus = next;
    c.hi[R.CSR_MSTATUS] = R.MSTATUS_HI_XLEN64;
    if ((old ^ next) & (R.MSTATUS_MPRV | R.MSTATUS_MPP | R.MSTATUS_SUM | R.MSTATUS_MXR)) c.host.translationChanged();
  },
});
defineCsr(R.CSR_SSTATUS, {
  name: "sstatus",
  read: (c) => {
    c.rlo = c.mstatus & R.SSTATUS_VISIBLE;
    c.rhi = R.MSTATUS_HI_XLEN64 & 0x3; // UXL only
  },
  write: (c, lo) => {
    const old = c.mstatus;
    const next = (old & ~R.SSTATUS_WRITABLE) | (lo & R.SSTATUS_WRITABLE);
    c.mstatus = next;
    if ((old ^ next) & (R.MSTATUS_SUM | R.MSTATUS_MXR)) c.host.translationChanged();
  },
});

defineCsr(R.CSR_MEDELEG, { name: "medeleg", maskLo: R.MEDELEG_WRITABLE });
defineCsr(R.CSR_MIDELEG, { name: "mideleg", maskLo: R.S_INTERRUPTS });
defineCsr(R.CSR_MIE, { name: "mie", maskLo: R.ALL_INTERRUPTS });
defineCsr(R.CSR_SIE, {
  name: "sie",
  read: (c) => {
    c.rlo = c.mie & c.mideleg;
    c.rhi = 0;
  },
  write: (c, lo) => {
    const m = c.mideleg & R.S_INTERRUPTS;
    c.lo[R.CSR_MIE] = (c.mie & ~m) | (lo & m);
  },
});
defineCsr(R.CSR_MIP, {
  name: "mip",
  read: (c) => {
    c.rlo = c.mip;
    c.rhi = 0;
  },
  write: (c, lo) => {
    // With Sstc enabled STIP is the comparator's, not software's (Sstc spec 2.1).
    const writable = c.stce ? R.MIP_WRITABLE & ~R.MIP_STIP : R.MIP_WRITABLE;
    c.mipSw = (c.mipSw & ~writable) | (lo & writable);
  },
});
defineCsr(R.CSR_SIP, {
  name: "sip",
  read: (c) => {
    c.rlo = c.mip & c.mideleg;
    c.rhi = 0;
  },
  write: (c, lo) => {
    // Only SSIP is writable through sip (priv spec 4.1.3).
    const m = c.mideleg & R.MIP_SSIP;
    c.mipSw = (c.mipSw & ~m) | (lo & m);
  },
});

/** xtvec: MODE 0 and 1 are legal; a write with a reserved MODE is ignored (QEMU does the same). */
/**
 * xtvec (priv spec 3.1.7): MODE 2 and 3 are reserved, and BASE is WARL:
 * popek keeps only bases a pc can hold exactly (below 2^53 in magnitude,
 * u64.ts) — a trap vector beyond that would name no memory, and a trap into
 * it would fault into it again forever. A write of either is ignored.
 */
function tvecWrite(csr: number): (c: CsrFile, lo: number, hi: number) => void {
  return (c, lo, hi) => {
    if ((lo & 3) >= 2 || !isExactPair(lo, hi)) return;
    c.lo[csr] = lo;
    c.hi[csr] = hi;
  };
}
defineCsr(R.CSR_MTVEC, { name: "mtvec", write: tvecWrite(R.CSR_MTVEC) });
defineCsr(R.CSR_STVEC, { name: "stvec", write: tvecWrite(R.CSR_STVEC) });

defineCsr(R.CSR_MCOUNTEREN, { name: "mcounteren", maskLo: ALL });
defineCsr(R.CSR_SCOUNTEREN, { name: "scounteren", maskLo: ALL });
defineCsr(R.CSR_MENVCFG, {
  name: "menvcfg",
  write: (c, lo, hi) => {
    c.lo[R.CSR_MENVCFG] = lo & R.ENVCFG_FIOM;
    c.hi[R.CSR_MENVCFG] = hi & R.MENVCFG_HI_STCE;
    if (!c.stce) c.setHwPending(R.IRQ_S_TIMER, false);
    else c.updateStimecmp();
  },
});
defineCsr(R.CSR_SENVCFG, { name: "senvcfg", maskLo: R.ENVCFG_FIOM });
// Counters cannot be inhibited here, so every bit is read-only zero (legal: priv spec 3.1.13);
// a writable bit that did not stop its counter would lie to software.
defineCsr(R.CSR_MCOUNTINHIBIT, { name: "mcountinhibit", read: readConst(0), write: ignoreWrite });

defineCsr(R.CSR_MSCRATCH, { name: "mscratch", maskLo: ALL, maskHi: ALL });
defineCsr(R.CSR_SSCRATCH, { name: "sscratch", maskLo: ALL, maskHi: ALL });
// xepc bit 0 is always zero: IALIGN is 16 with C (priv spec 3.1.14).
defineCsr(R.CSR_MEPC, { name: "mepc", maskLo: ~1, maskHi: ALL });
defineCsr(R.CSR_SEPC, { name: "sepc", maskLo: ~1, maskHi: ALL });
defineCsr(R.CSR_MCAUSE, { name: "mcause", maskLo: ALL, maskHi: ALL });
defineCsr(R.CSR_SCAUSE, { name: "scause", maskLo: ALL, maskHi: ALL });
defineCsr(R.CSR_MTVAL, { name: "mtval", maskLo: ALL, maskHi: ALL });
defineCsr(R.CSR_STVAL, { name: "stval", maskLo: ALL, maskHi: ALL });

// satp: the TVM trap (priv spec 3.1.6.5); unsupported MODE writes have no effect at all (4.1.11).
defineCsr(R.CSR_SATP, {
  name: "satp",
  allowed: (c) => !(c.priv === R.PRV_S && (c.mstatus & R.MSTATUS_TVM) !== 0),
  write: (c, lo, hi) => {
    const mode = hi >>> 28;
    if (mode !== R.SATP_MODE_BARE && mode !== R.SATP_MODE_SV39) return;
    // Bare mode: the other fields are written as zero too (QEMU keeps them; either is legal).
    c.lo[R.CSR_SATP] = lo;
    c.hi[R.CSR_SATP] = hi;
    c.host.translationChanged();
  },
});

// Sstc (stimecmp): S access needs mcounteren.TM and menvcfg.STCE.
defineCsr(R.CSR_STIMECMP, {
  name: "stimecmp",
  allowed: (c) =>
    c.priv === R.PRV_M || ((c.lo[R.CSR_MCOUNTEREN] & R.COUNTEREN_TM) !== 0 && c.stce),
  write: (c, lo, hi) => {
    c.lo[R.CSR_STIMECMP] = lo;
    c.hi[R.CSR_STIMECMP] = hi;
    c.updateStimecmp();
  },
});

// Counters. cycle counts like instret (one instruction per cycle).
defineCsr(R.CSR_MCYCLE, {
  name: "mcycle",
  read: (c) => readNumber(c, c.host.retired() + c.cycleOffset),
  write: (c, lo, hi) => {
    c.cycleOffset = pairToNumber(lo, hi) - c.host.retired();
  },
});
defineCsr(R.CSR_MINSTRET, {
  name: "minstret",
  read: (c) => readNumber(c, c.host.retired() + c.instretOffset),
  write: (c, lo, hi) => {
    c.instretOffset = pairToNumber(lo, hi) - c.host.retired();
  },
});
defineCsr(R.CSR_CYCLE, {
  name: "cycle",
  allowed: counterAllowed(R.COUNTEREN_CY),
  read: (c) => readNumber(c, c.host.retired() + c.cycleOffset),
});
defineCsr(R.CSR_TIME, {
  name: "time",
  allowed: counterAllowed(R.COUNTEREN_TM),
  read: (c) => readNumber(c, c.host.readTime?.() ?? c.host.mtime()),
});
defineCsr(R.CSR_INSTRET, {
  name: "instret",
  allowed: counterAllowed(R.COUNTEREN_IR),
  read: (c) => readNumber(c, c.host.retired() + c.instretOffset),
});
// Hardware performance monitors: present but hard-wired to zero (a legal implementation).
for (let n = 3; n <= 31; n++) {
  defineCsr(R.CSR_MHPMCOUNTER3 + n - 3, { name: `mhpmcounter${n}`, read: readConst(0), write: ignoreWrite });
  defineCsr(R.CSR_MHPMEVENT3 + n - 3, { name: `mhpmevent${n}`, read: readConst(0), write: ignoreWrite });
  defineCsr(R.CSR_HPMCOUNTER3 + n - 3, { name: `hpmcounter${n}`, allowed: counterAllowed(1 << n), read: readConst(0) });
}

// PMP: accepted and stored, not enforced (popek's board has no protected regions).
// RV64 has only even pmpcfg registers (priv spec 3.7.1).
for (let n = 0; n < R.PMP_ENTRIES / 8; n++) {
  defineCsr(R.CSR_PMPCFG0 + 2 * n, { name: `pmpcfg${2 * n}`, maskLo: ALL, maskHi: ALL });
}
for (let n = 0; n < R.PMP_ENTRIES; n++) {
  // pmpaddr holds bits 55:2 of an address: 54 bits.
  defineCsr(R.CSR_PMPADDR0 + n, { name: `pmpaddr${n}`, maskLo: ALL, maskHi: 0x3f_ffff });
}

// --mmu swtlb's TLB-write CSRs (swtlb.ts; encoding in riscv.ts and the README), S-mode custom
// read/write space. They exist only on a hart whose MMU is the software-refilled TLB.
const hasSoftTlb = (c: CsrFile): boolean => c.host.softTlb !== undefined;
defineCsr(R.CSR_STLBVPN, { name: "stlbvpn", allowed: hasSoftTlb, maskLo: 0x7ff_ffff, maskHi: 0xffff });
// PTE bits 63:54 are reserved (no Svpbmt/Svnapot here): read-only zero.
defineCsr(R.CSR_STLBPTE, { name: "stlbpte", allowed: hasSoftTlb, maskLo: ALL, maskHi: 0x3f_ffff });
for (const [csr, name] of [[R.CSR_STLBINDEX, "stlbindex"], [R.CSR_STLBFLUSH, "stlbflush"]] as const) {
  defineCsr(csr, { name, allowed: hasSoftTlb, write: (c, lo, hi) => c.host.softTlb?.command(c, csr, lo, hi) });
}
defineCsr(R.CSR_STLBRANDOM, {
  name: "stlbrandom",
  allowed: hasSoftTlb,
  read: (c) => {
    c.rlo = c.host.softTlb?.nextRandom() ?? 0;
    c.rhi = 0;
  },
  write: (c, lo, hi) => c.host.softTlb?.command(c, R.CSR_STLBRANDOM, lo, hi),
});
