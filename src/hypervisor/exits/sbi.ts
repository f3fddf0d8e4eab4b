/*
 * The SBI a guest kernel reaches with `ecall` from virtual S-mode when the
 * hypervisor is its firmware (--bios hv), as KVM's vcpu_sbi.c is for Linux
 * guests. SBI spec v2.0:
 *
 *   ecall:  a7 = EID, a6 = FID, a0..a5 = arguments        (ch. 3)
 *   return: a0 = error (SBI_SUCCESS or SBI_ERR_*), a1 = value, pc += 4;
 *           legacy extensions (EIDs 0x00-0x08) return a0 only   (ch. 5)
 *
 *   EID         extension   thread   what the hypervisor does
 *   ----------  ---------   ------   --------------------------------------
 *   0x10        BASE        vCPU     versions, probe_extension, machine ids
 *   0x54494D45  TIME        vCPU     arms the vCPU's virtual S timer
 *   0x735049    IPI         vCPU     raises the virtual SSIP of other vCPUs
 *   0x52464E43  RFENCE      vCPU     remote fence.i; sfence.vma: a shadow shootdown
 *   0x48534D    HSM         vCPU     start/stop/status/suspend (the default types)
 *   0x53525354  SRST        main     shutdown / reboot the VM
 *   0x4442434E  DBCN        main     the VM's console, buffers in guest RAM
 *   0x00-0x08   legacy      both     v0.1 calls (putchar, getchar, shutdown and
 *                                    the hart-mask-pointer calls need main)
 *
 * A guest controls every argument: each bad one gets the spec's error code,
 * never an exception, and every loop is bounded (hart masks by XLEN bits,
 * console buffers by DBCN_MAX_BYTES per call).
 */

import { REG } from "../../isa/regnames.ts";
import { GUEST_OK, rangeInside } from "../../machine/guest-memory-view.ts";
import * as R from "../../machine/riscv.ts";
import type { VcpuContext } from "../vcpu-context.ts";
import { reflectException } from "./reflect.ts";
import * as S from "./services.ts";
import { STAT } from "../stats.ts";

// ---- what popek says about itself (Base extension, SBI spec 4) ----

/** Spec version 2.0: minor in bits 23:0, major in bits 30:24, bit 31 zero (SBI spec 4.1). */
const SBI_SPEC_VERSION = (2 << 24) | 0;
/**
 * popek's SBI implementation id: ASCII "popk". The spec's registry (SBI spec
 * 4.9) hands out small numbers (0 BBL, 1 OpenSBI, 2 Xvisor, 3 KVM, ... 11
 * bhyve); a four-letter tag stays clear of it.
 */
export const SBI_IMPL_ID_POPEK = 0x706f706b;
/** popek's version, (major << 16) | (minor << 8) | patch: 0.1.0. */
export const SBI_IMPL_VERSION = (0 << 16) | (1 << 8) | 0;

// ---- extension and function ids ----

export const EID_LEGACY_SET_TIMER = 0x00;
export const EID_LEGACY_CONSOLE_PUTCHAR = 0x01;
export const EID_LEGACY_CONSOLE_GETCHAR = 0x02;
export const EID_LEGACY_CLEAR_IPI = 0x03;
export const EID_LEGACY_SEND_IPI = 0x04;
export const EID_LEGACY_REMOTE_FENCE_I = 0x05;
export const EID_LEGACY_REMOTE_SFENCE_VMA = 0x06;
export const EID_LEGACY_REMOTE_SFENCE_VMA_ASID = 0x07;
export const EID_LEGACY_SHUTDOWN = 0x08;
export const EID_BASE = 0x10;
export const EID_TIME = 0x54494d45;
export const EID_IPI = 0x735049;
export const EID_RFENCE = 0x52464e43;
export const EID_HSM = 0x48534d;
export const EID_SRST = 0x53525354;
export const EID_DBCN = 0x4442434e;

export const BASE_GET_SPEC_VERSION = 0;
export const BASE_GET_IMPL_ID = 1;
export const BASE_GET_IMPL_VERSION = 2;
export const BASE_PROBE_EXTENSION = 3;
export const BASE_GET_MVENDORID = 4;
export const BASE_GET_MARCHID = 5;
export const BASE_GET_MIMPID = 6;
export const TIME_SET_TIMER = 0;
export const IPI_SEND_IPI = 0;
export const RFENCE_FENCE_I = 0;
export const RFENCE_SFENCE_VMA = 1;
export const RFENCE_SFENCE_VMA_ASID = 2;
export const HSM_HART_START = 0;
export const HSM_HART_STOP = 1;
export const HSM_HART_GET_STATUS = 2;
export const HSM_HART_SUSPEND = 3;
export const SRST_SYSTEM_RESET = 0;
export const DBCN_CONSOLE_WRITE = 0;
export const DBCN_CONSOLE_READ = 1;
export const DBCN_CONSOLE_WRITE_BYTE = 2;

/** SRST reset types (SBI spec 10.1); 3..0xEFFFFFFF reserved, 0xF0000000.. vendor (none here). */
export const SRST_TYPE_SHUTDOWN = 0;
export const SRST_TYPE_COLD_REBOOT = 1;
export const SRST_TYPE_WARM_REBOOT = 2;
/** SRST reset reasons. */
export const SRST_REASON_NONE = 0;
export const SRST_REASON_SYSTEM_FAILURE = 1;
/**
 * SBI-implementation-specific reasons (0xE0000000..0xEFFFFFFF): popek defines
 * 0xE0000000 + n (n < 256) as "shut down with exit status n", so a test guest
 * can report a code the way the sifive_test finisher does. The rest of the
 * range is unimplemented.
 */
export const SRST_REASON_POPEK_EXIT = 0xe0000000;
const SRST_EXIT_CODES = 256;
/** popek's exit status after a shutdown for "system failure". */
const SRST_FAILURE_EXIT_CODE = 1;

/** HSM suspend types (SBI spec 9.4). */
export const SUSPEND_DEFAULT_RETENTIVE = 0x00000000;
export const SUSPEND_DEFAULT_NON_RETENTIVE = 0x80000000;

/** Most bytes one DBCN read/write moves; the call is allowed to be partial (SBI spec 12.1). */
export const DBCN_MAX_BYTES = 4096;

const XLEN = 64;
const BYTES_PER_LONG = 8;
const A0 = REG.a0;
const A1 = REG.a1;
const A6 = REG.a6;
const A7 = REG.a7;
const ECALL_LENGTH = 4;
const TWO_32 = 4294967296;

// ---- arguments and results ----

/** Argument i (a0 + i) as an unsigned 64-bit number (exact below 2^53). */
function argU(ctx: VcpuContext, i: number): number {
  const r = A0 + i;
  return (ctx.x[2 * r + 1] >>> 0) * TWO_32 + (ctx.x[2 * r] >>> 0);
}

/** Argument i, all 64 bits, unsigned: for values passed through untouched (hart_start's opaque). */
function argBig(ctx: VcpuContext, i: number): bigint {
  const r = A0 + i;
  return (BigInt(ctx.x[2 * r + 1] >>> 0) << 32n) | BigInt(ctx.x[2 * r] >>> 0);
}

/** The low 32 bits of argument i, unsigned: a uint32_t parameter (SBI spec 3: callers must only use 32 bits). */
function arg32(ctx: VcpuContext, i: number): number {
  return ctx.x[2 * (A0 + i)] >>> 0;
}

/** Argument i as an index below `limit` (a hart id), or -1 if it is not one. */
function argIndex(ctx: VcpuContext, i: number, limit: number): number {
  const r = A0 + i;
  const lo = ctx.x[2 * r] >>> 0;
  return ctx.x[2 * r + 1] === 0 && lo < limit ? lo : -1;
}

/** Whether argument i is all ones (hart_mask_base = -1). */
function argIsMinusOne(ctx: VcpuContext, i: number): boolean {
  const r = A0 + i;
  return ctx.x[2 * r] === -1 && ctx.x[2 * r + 1] === -1;
}

function ret(ctx: VcpuContext, error: number, value = 0): void {
  ctx.setReg(A0, error);
  ctx.setReg(A1, value);
}

/** Legacy calls return a0 only and preserve a1 (SBI spec 5). */
function retLegacy(ctx: VcpuContext, value: number): void {
  ctx.setReg(A0, value);
}

// ---- the timer (TIME, legacy set_timer) ----

/**
 * SBI set_timer (SBI spec 6.1): the next virtual supervisor timer interrupt
 * fires when mtime >= `stimeValue`. Any value is a deadline (one in the past
 * fires at once; all ones never in practice), and the call clears a pending
 * STIP. The vCPU thread raises STIP when the deadline passes.
 */
function setVirtualTimer(ctx: VcpuContext, stimeValue: number): void {
  ctx.page.timerDeadline[0] = stimeValue;
  ctx.csr.updateStimecmp(); // STIP now reflects the new deadline (and Sstc's comparator, if armed)
}

// ---- hart masks ----

/**
 * The harts named by (hart_mask, hart_mask_base) in arguments `maskArg` and
 * `maskArg + 1` (SBI spec 3.1), or undefined when the base or any named hart
 * is not a hart of this VM (SBI_ERR_INVALID_PARAM). Base -1: every hart.
 */
function hartMask(ctx: VcpuContext, vm: S.VmServices, maskArg: number): number[] | undefined {
  const n = vm.hartCount;
  const all: number[] = [];
  if (argIsMinusOne(ctx, maskArg + 1)) {
    for (let h = 0; h < n; h++) all.push(h);
    return all;
  }
  const base = argIndex(ctx, maskArg + 1, n);
  if (base < 0) return undefined;
  const r = A0 + maskArg;
  return collectBits(ctx.x[2 * r], ctx.x[2 * r + 1], base, n, all) ? all : undefined;
}

/** Appends base + i for each set bit i of the 64-bit mask (lo, hi); false if one is not below n. */
function collectBits(lo: number, hi: number, base: number, n: number, out: number[]): boolean {
  for (let bit = 0; bit < XLEN; bit++) {
    const word = bit < 32 ? lo : hi;
    if (((word >>> (bit & 31)) & 1) === 0) continue;
    if (base + bit >= n) return false;
    out.push(base + bit);
  }
  return true;
}

/** An IPI lands only on a hart that runs: one to a STOPPED hart is dropped (as OpenSBI does), so it cannot surface at its next start. */
function sendIpis(vm: S.VmServices, harts: readonly number[]): void {
  for (const h of harts) if (vm.hartState(h) !== S.HSM_STOPPED) vm.sendIpi(h);
}

// ---- the extensions ----

/** What a handler may ask of its caller besides the result in a0/a1: SBI_SUSPEND, or nothing. */
type HandlerOutcome = typeof SBI_SUSPEND | undefined;
/** The vCPU waits for an interrupt before it runs on (hart_suspend). */
export const SBI_SUSPEND = 1;

type Handler = (ctx: VcpuContext, vm: S.VmServices, fid: number, pc: number) => HandlerOutcome | void;

interface Extension {
  readonly name: string;
  /** Legacy (v0.1) extensions ignore a6 and return a0 only. */
  readonly legacy: boolean;
  /** Whether a call needs the main thread's services (console, guest memory, VM lifecycle). */
  readonly mainThread: boolean;
  readonly call: Handler;
}

function base(ctx: VcpuContext, _vm: S.VmServices, fid: number): void {
  switch (fid) {
    case BASE_GET_SPEC_VERSION:
      return ret(ctx, S.SBI_SUCCESS, SBI_SPEC_VERSION);
    case BASE_GET_IMPL_ID:
      return ret(ctx, S.SBI_SUCCESS, SBI_IMPL_ID_POPEK);
    case BASE_GET_IMPL_VERSION:
      return ret(ctx, S.SBI_SUCCESS, SBI_IMPL_VERSION);
    case BASE_PROBE_EXTENSION: {
      // extension_id is a long: only a sign-extended 32-bit value can name an extension.
      const lo = ctx.x[2 * A0];
      const known = ctx.x[2 * A0 + 1] === lo >> 31 && EXTENSIONS.has(lo);
      return ret(ctx, S.SBI_SUCCESS, known ? 1 : 0);
    }
    case BASE_GET_MVENDORID:
    case BASE_GET_MARCHID:
    case BASE_GET_MIMPID:
      return ret(ctx, S.SBI_SUCCESS, 0); // 0 is always legal (SBI spec 4.5-4.7)
    default:
      return ret(ctx, S.SBI_ERR_NOT_SUPPORTED);
  }
}

function time(ctx: VcpuContext, _vm: S.VmServices, fid: number): void {
  if (fid !== TIME_SET_TIMER) return ret(ctx, S.SBI_ERR_NOT_SUPPORTED);
  setVirtualTimer(ctx, argU(ctx, 0));
  ret(ctx, S.SBI_SUCCESS);
}

function ipi(ctx: VcpuContext, vm: S.VmServices, fid: number): void {
  if (fid !== IPI_SEND_IPI) return ret(ctx, S.SBI_ERR_NOT_SUPPORTED);
  const harts = hartMask(ctx, vm, 0);
  if (harts === undefined) return ret(ctx, S.SBI_ERR_INVALID_PARAM);
  sendIpis(vm, harts);
  ret(ctx, S.SBI_SUCCESS);
}

/**
 * RFENCE (SBI spec 8). fence.i: each target drops its decoded instructions.
 * sfence.vma (with or without ASID): a shootdown of the targets' shadow
 * entries, all of them (a superset of the range asked for), acknowledged
 * before the call returns (shadow/shootdown.ts). The hfence functions (FIDs 3-6) need the H extension: not supported.
 */
function rfence(ctx: VcpuContext, vm: S.VmServices, fid: number): void {
  if (fid !== RFENCE_FENCE_I && fid !== RFENCE_SFENCE_VMA && fid !== RFENCE_SFENCE_VMA_ASID) {
    return ret(ctx, S.SBI_ERR_NOT_SUPPORTED);
  }
  const harts = hartMask(ctx, vm, 0);
  if (harts === undefined) return ret(ctx, S.SBI_ERR_INVALID_PARAM);
  if (fid === RFENCE_FENCE_I) for (const h of harts) vm.remoteFenceI(h);
  else vm.remoteSfenceVma(ctx.hartId, harts, ctx.stats);
  ret(ctx, S.SBI_SUCCESS);
}

/**
 * HSM (SBI spec 9). hart_suspend supports the two default types (reserved
 * and platform-specific types are invalid): the vCPU waits for an interrupt
 * pending in sie — as OpenSBI's default suspend is a wfi — with its HSM
 * state SUSPENDED meanwhile. A retentive suspend then returns SBI_SUCCESS; a
 * non-retentive one does not return but resumes at resume_addr in S-mode
 * with a0 = hartid, a1 = opaque, satp = 0 and sstatus.SIE = 0 (9.4).
 * Returns SBI_SUSPEND when the vCPU must wait before it runs on.
 */
function hsm(ctx: VcpuContext, vm: S.VmServices, fid: number): HandlerOutcome | void {
  switch (fid) {
    case HSM_HART_START: {
      const hart = argIndex(ctx, 0, vm.hartCount);
      if (hart < 0) return ret(ctx, S.SBI_ERR_INVALID_PARAM);
      // vm.hartStart claims the hart only if it is STOPPED (else ALREADY_AVAILABLE or INVALID_PARAM),
      // checks start_addr (INVALID_ADDRESS) and sets a0 = hartid, a1 = opaque: one atomic step.
      return ret(ctx, vm.hartStart(hart, argU(ctx, 1), argBig(ctx, 2)));
    }
    case HSM_HART_STOP:
      // Does not return: the hart is STOP_PENDING, and its vCPU thread parks before it runs another
      // instruction and publishes STOPPED after its last write. Nothing is written to a0/a1 — they
      // belong to the next hart_start from the moment STOPPED is visible.
      vm.hartStop(ctx.hartId);
      return undefined;
    case HSM_HART_GET_STATUS: {
      const hart = argIndex(ctx, 0, vm.hartCount);
      const state = hart < 0 ? -1 : vm.hartState(hart);
      return state < 0 ? ret(ctx, S.SBI_ERR_INVALID_PARAM) : ret(ctx, S.SBI_SUCCESS, state);
    }
    case HSM_HART_SUSPEND:
      return suspend(ctx, vm);
    default:
      return ret(ctx, S.SBI_ERR_NOT_SUPPORTED);
  }
}

function suspend(ctx: VcpuContext, vm: S.VmServices): HandlerOutcome | void {
  const type = arg32(ctx, 0);
  if (type === SUSPEND_DEFAULT_RETENTIVE) {
    const error = vm.hartSuspend(ctx.hartId);
    ret(ctx, error);
    return error === S.SBI_SUCCESS ? SBI_SUSPEND : undefined;
  }
  if (type !== SUSPEND_DEFAULT_NON_RETENTIVE) return ret(ctx, S.SBI_ERR_INVALID_PARAM);
  const resumeAddr = argU(ctx, 1);
  // opaque is an unsigned long passed through untouched: as a pair, never through a double.
  const opaqueLo = ctx.x[2 * (A0 + 2)];
  const opaqueHi = ctx.x[2 * (A0 + 2) + 1];
  const error = vm.hartSuspend(ctx.hartId, resumeAddr);
  if (error !== S.SBI_SUCCESS) return ret(ctx, error);
  // Resumes as if started there: the call's registers are gone.
  ctx.setReg(A0, ctx.hartId);
  ctx.setRegPair(A0 + 1, opaqueLo, opaqueHi);
  const c = ctx.csr;
  c.write(R.CSR_SSTATUS, c.lo[R.CSR_SSTATUS] & ~R.MSTATUS_SIE, c.hi[R.CSR_SSTATUS]);
  c.write(R.CSR_SATP, 0, 0);
  ctx.pc = resumeAddr;
  return SBI_SUSPEND;
}

/** The exit status a shutdown reason asks for, or -1 if the reason is reserved or unimplemented. */
function shutdownExitCode(reason: number): number {
  if (reason === SRST_REASON_NONE) return 0;
  if (reason === SRST_REASON_SYSTEM_FAILURE) return SRST_FAILURE_EXIT_CODE;
  const n = reason - SRST_REASON_POPEK_EXIT;
  return n >= 0 && n < SRST_EXIT_CODES ? n : -1;
}

/** SRST system_reset (SBI spec 10.1): does not return on success. */
function srst(ctx: VcpuContext, vm: S.VmServices, fid: number): void {
  if (fid !== SRST_SYSTEM_RESET) return ret(ctx, S.SBI_ERR_NOT_SUPPORTED);
  const type = arg32(ctx, 0);
  const code = shutdownExitCode(arg32(ctx, 1));
  const knownType = type === SRST_TYPE_SHUTDOWN || type === SRST_TYPE_COLD_REBOOT || type === SRST_TYPE_WARM_REBOOT;
  if (!knownType || code < 0) return ret(ctx, S.SBI_ERR_INVALID_PARAM);
  ret(ctx, S.SBI_SUCCESS);
  if (type === SRST_TYPE_SHUTDOWN) vm.shutdown(code);
  else vm.reboot();
}

/**
 * A DBCN buffer (num_bytes, base_addr_lo, base_addr_hi): the guest-physical
 * address and its bytes this call handles (at most DBCN_MAX_BYTES), or
 * undefined if [base, base + num_bytes) is not all guest RAM (SBI spec 3.2:
 * checked for the whole range, not only the part moved now).
 */
function dbcnBuffer(ctx: VcpuContext, vm: S.VmServices): { gpa: number; bytes: Uint8Array } | undefined {
  const num = argU(ctx, 0);
  const gpa = argU(ctx, 1);
  if (argU(ctx, 2) !== 0) return undefined; // above 2^64: no RAM there on RV64
  if (num === 0) return { gpa, bytes: new Uint8Array(0) };
  if (!rangeInside(gpa, num, vm.memory.ramBase, vm.memory.ramSize)) return undefined;
  const bytes = new Uint8Array(Math.min(num, DBCN_MAX_BYTES));
  return vm.memory.copyOut(gpa, bytes) === GUEST_OK ? { gpa, bytes } : undefined;
}

/** DBCN (SBI spec 12): console_write and console_read may be partial; a1 = bytes moved. */
function dbcn(ctx: VcpuContext, vm: S.VmServices, fid: number): void {
  switch (fid) {
    case DBCN_CONSOLE_WRITE: {
      const buf = dbcnBuffer(ctx, vm);
      if (buf === undefined) return ret(ctx, S.SBI_ERR_INVALID_PARAM);
      if (buf.bytes.length > 0) vm.consoleWrite(buf.bytes);
      return ret(ctx, S.SBI_SUCCESS, buf.bytes.length);
    }
    case DBCN_CONSOLE_READ: {
      const buf = dbcnBuffer(ctx, vm);
      if (buf === undefined) return ret(ctx, S.SBI_ERR_INVALID_PARAM);
      const bytes: number[] = [];
      for (let b = 0; bytes.length < buf.bytes.length && (b = vm.consoleRead()) >= 0; ) bytes.push(b & 0xff);
      if (vm.memory.copyIn(buf.gpa, Uint8Array.from(bytes)) !== GUEST_OK) return ret(ctx, S.SBI_ERR_FAILED);
      return ret(ctx, S.SBI_SUCCESS, bytes.length);
    }
    case DBCN_CONSOLE_WRITE_BYTE:
      vm.consoleWrite(Uint8Array.of(arg32(ctx, 0) & 0xff));
      return ret(ctx, S.SBI_SUCCESS);
    default:
      return ret(ctx, S.SBI_ERR_NOT_SUPPORTED);
  }
}

// ---- legacy extensions (SBI spec 5): a0 only, the FID is ignored ----

/**
 * The hart mask of a legacy call: a0 points to ceil(harts / XLEN) unsigned
 * longs in guest memory (a virtual address; guest paging is not virtualized,
 * so it is guest-physical). A null pointer means every hart (OpenSBI's
 * reading). Returns the harts, "invalid" for a hart that does not exist, or
 * "fault" after reflecting the load access fault into the guest with sepc at
 * the ecall, as the spec asks of faults on the caller's memory.
 */
function legacyHartMask(ctx: VcpuContext, vm: S.VmServices, pc: number): number[] | "invalid" | "fault" {
  const n = vm.hartCount;
  const harts: number[] = [];
  const pointer = argU(ctx, 0);
  if (pointer === 0) {
    for (let h = 0; h < n; h++) harts.push(h);
    return harts;
  }
  const words = Math.ceil(n / XLEN);
  if (!rangeInside(pointer, words * BYTES_PER_LONG, vm.memory.ramBase, vm.memory.ramSize)) {
    reflectException(ctx, R.CAUSE_LOAD_ACCESS, pointer, pc);
    return "fault";
  }
  for (let w = 0; w < words; w++) {
    const lo = vm.memory.readU32(pointer + w * BYTES_PER_LONG);
    const hi = vm.memory.readU32(pointer + w * BYTES_PER_LONG + 4);
    if (!collectBits(lo, hi, w * XLEN, n, harts)) return "invalid";
  }
  return harts;
}

function legacy(ctx: VcpuContext, vm: S.VmServices, eid: number, pc: number): void {
  switch (eid) {
    case EID_LEGACY_SET_TIMER:
      setVirtualTimer(ctx, argU(ctx, 0));
      return retLegacy(ctx, 0);
    case EID_LEGACY_CONSOLE_PUTCHAR:
      vm.consoleWrite(Uint8Array.of(arg32(ctx, 0) & 0xff));
      return retLegacy(ctx, 0);
    case EID_LEGACY_CONSOLE_GETCHAR:
      return retLegacy(ctx, vm.consoleRead());
    case EID_LEGACY_CLEAR_IPI: {
      // Pending = an IPI not yet folded into the virtual mip, or SSIP itself.
      const queued = Atomics.exchange(ctx.page.ipi, 0, 0) !== 0;
      const pending = queued || (ctx.csr.mipSw & R.MIP_SSIP) !== 0;
      ctx.csr.mipSw &= ~R.MIP_SSIP;
      return retLegacy(ctx, pending ? 1 : 0);
    }
    case EID_LEGACY_SHUTDOWN:
      retLegacy(ctx, 0);
      return vm.shutdown(0);
    default: {
      // send_ipi, remote_fence_i, remote_sfence_vma(_asid): a hart mask in memory.
      const harts = legacyHartMask(ctx, vm, pc);
      if (harts === "fault") return;
      if (harts === "invalid") return retLegacy(ctx, S.SBI_ERR_INVALID_PARAM);
      if (eid === EID_LEGACY_SEND_IPI) sendIpis(vm, harts);
      if (eid === EID_LEGACY_REMOTE_FENCE_I) for (const h of harts) vm.remoteFenceI(h);
      if (eid === EID_LEGACY_REMOTE_SFENCE_VMA || eid === EID_LEGACY_REMOTE_SFENCE_VMA_ASID) vm.remoteSfenceVma(ctx.hartId, harts, ctx.stats);
      return retLegacy(ctx, 0);
    }
  }
}

function legacyExtension(name: string, mainThread: boolean): Extension {
  return { name, legacy: true, mainThread, call: (ctx, vm, _fid, pc) => legacy(ctx, vm, ctx.x[2 * A7], pc) };
}

/** Every extension popek implements, by EID; probe_extension answers from this table. */
const EXTENSIONS: ReadonlyMap<number, Extension> = new Map<number, Extension>([
  [EID_LEGACY_SET_TIMER, legacyExtension("legacy set_timer", false)],
  [EID_LEGACY_CONSOLE_PUTCHAR, legacyExtension("legacy console_putchar", true)],
  [EID_LEGACY_CONSOLE_GETCHAR, legacyExtension("legacy console_getchar", true)],
  [EID_LEGACY_CLEAR_IPI, legacyExtension("legacy clear_ipi", false)],
  [EID_LEGACY_SEND_IPI, legacyExtension("legacy send_ipi", true)],
  [EID_LEGACY_REMOTE_FENCE_I, legacyExtension("legacy remote_fence_i", true)],
  [EID_LEGACY_REMOTE_SFENCE_VMA, legacyExtension("legacy remote_sfence_vma", true)],
  [EID_LEGACY_REMOTE_SFENCE_VMA_ASID, legacyExtension("legacy remote_sfence_vma_asid", true)],
  [EID_LEGACY_SHUTDOWN, legacyExtension("legacy shutdown", true)],
  [EID_BASE, { name: "BASE", legacy: false, mainThread: false, call: base }],
  [EID_TIME, { name: "TIME", legacy: false, mainThread: false, call: time }],
  [EID_IPI, { name: "sPI", legacy: false, mainThread: false, call: ipi }],
  [EID_RFENCE, { name: "RFNC", legacy: false, mainThread: false, call: rfence }],
  [EID_HSM, { name: "HSM", legacy: false, mainThread: false, call: hsm }],
  [EID_SRST, { name: "SRST", legacy: false, mainThread: true, call: srst }],
  [EID_DBCN, { name: "DBCN", legacy: false, mainThread: true, call: dbcn }],
]);

/** The extension a7 names, if it is a sign-extended 32-bit EID popek implements (SBI spec 3). */
function extensionOf(ctx: VcpuContext): Extension | undefined {
  const lo = ctx.x[2 * A7];
  return ctx.x[2 * A7 + 1] === lo >> 31 ? EXTENSIONS.get(lo) : undefined;
}

/** Whether the call (EID, FID: a7, a6 as signed 32-bit) needs main-thread services; false for unknown calls. */
export function sbiNeedsMainThread(eid: number, _fid: number): boolean {
  return EXTENSIONS.get(eid)?.mainThread ?? false;
}

/**
 * Performs the SBI call the guest made with the ecall at `pc` from virtual
 * S-mode: a0/a1 get the result and pc moves past the ecall (or, for a legacy
 * call whose hart-mask pointer faults, into the guest's trap vector).
 * Returns SBI_SUSPEND if the vCPU must now wait for an interrupt.
 */
export function handleSbi(ctx: VcpuContext, vm: S.VmServices, pc: number): HandlerOutcome {
  ctx.count(STAT.sbi_exit);
  ctx.pc = pc + ECALL_LENGTH;
  const ext = extensionOf(ctx);
  const fid = ctx.x[2 * A6];
  // FIDs are signed 32-bit too; a legacy call ignores a6 altogether.
  if (ext === undefined || (!ext.legacy && ctx.x[2 * A6 + 1] !== fid >> 31)) {
    ret(ctx, S.SBI_ERR_NOT_SUPPORTED);
    return undefined;
  }
  return ext.call(ctx, vm, fid, pc) ?? undefined;
}
