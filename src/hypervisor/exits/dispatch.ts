/*
 * Every trap from the guest is a VM exit; this is where the hypervisor
 * decides what it means. The same dispatcher runs on the vCPU thread (which
 * handles what it can: CSRs, xRET, wfi, SBI timer/IPI, reflections — as KVM
 * does in the kernel) and on the main thread (everything, including device
 * MMIO and first touches of guest RAM — as QEMU does in user space).
 *
 *   real trap (hart in U-mode)       meaning for the guest
 *   ------------------------------   -----------------------------------------
 *   illegal instruction: csr*        CSR access at the virtual privilege
 *                        mret/sret   the guest's return from trap
 *                        wfi         wait for a virtual interrupt
 *                        sfence.vma  TLB maintenance
 *                        other       a real illegal instruction: reflect
 *   ecall                            a7 = "POPK": popek's hypercall (nonvirt/popk.ts);
 *                                    SBI call (virtual S, --bios hv), else
 *                                    reflect as ecall from the virtual privilege
 *   page fault, guest paging on      shadow fill (hidden fault), the guest's
 *                                    own page fault (true fault), or as below
 *                                    for the guest-physical address
 *   page fault, RAM address          first touch: map a frame, retry
 *   page fault, elsewhere            MMIO: a device model does the access
 *   anything else                    reflect into the guest
 */

import { REG } from "../../isa/regnames.ts";
import { csrAffectsInterrupts } from "../../machine/csr.ts";
import * as R from "../../machine/riscv.ts";
import * as HX from "../../machine/hext-defs.ts";
import type { VcpuContext } from "../vcpu-context.ts";
import { CSR_PAGING_UNSUPPORTED, emulateCsr } from "./csr.ts";
import { decodeTrap, TRAP_CSR, TRAP_MRET, TRAP_SFENCE_VMA, TRAP_SRET, TRAP_WFI, type DecodedTrap } from "./decode-trap.ts";
import { emulatePtWrite } from "./pt-write.ts";
import { reflectException, reflectExceptionPair } from "./reflect.ts";
import { SBI_SUSPEND, handleSbi, sbiNeedsMainThread } from "./sbi.ts";
import type { VmServices } from "./services.ts";
import { emulateMret, emulateSfenceVma, emulateSret, emulateWfi } from "./system.ts";
import { STAT } from "../stats.ts";
import { EID_POPK, handlePopk } from "../nonvirt/popk.ts";
import { ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE, type Access } from "../../machine/mmu.ts";
import { FILL_DONE, FILL_FETCH_NOT_RAM, FILL_GUEST_FAULT, FILL_MMIO, FILL_PT_WRITE, FILL_UNBACKED, type ShadowMmu } from "../shadow/shadow-mmu.ts";
import type { IoEvents } from "../ioevents.ts";

/** Keep running at ctx.pc. */
export const EXIT_CONTINUE = 0;
/** Wait until a virtual interrupt is pending, then run at ctx.pc. */
export const EXIT_WAIT = 1;
/** Only the main thread can handle this exit. */
export const EXIT_TO_MAIN = 2;
/** Stop the VM; the reason is in dispatcher.stopReason. */
export const EXIT_STOP = 3;

/** What only the hypervisor's main thread can do. */
export interface MainThreadExits {
  /** Maps the guest RAM page holding gpa; false if gpa is not RAM. */
  mapRam(gpa: number): boolean;
  /**
   * Performs the load/store at `pc` (bits `insn`) that faulted at the MMIO address gpa, or reflects
   * the access fault of a piece no device answers (src/machine/mmio-access.ts); false if it is no plain access.
   * `va`: the address as the guest sees it, when guest paging translated it to gpa (default: gpa).
   */
  mmio(ctx: VcpuContext, gpa: number, insn: number, pc: number, va?: number): boolean;
}


const A7 = REG.a7;
const A6 = REG.a6;

export class TrapDispatcher {
  stopReason = "";
  /** Set by dispatch when the handled exit may have made an interrupt takeable (a CSR write, xRET). */
  interruptsMayChange = false;
  /**
   * Notify stores the vCPU thread takes itself (ioevents.ts), for a paging
   * guest whose store the shadow fill found to be one; an untranslated
   * guest's are taken before dispatch (vcpu-runner.ts).
   */
  ioEvents: IoEvents | undefined;

  constructor(
    readonly ctx: VcpuContext,
    /** SBI comes from the hypervisor (--bios hv): an ecall from virtual S is an SBI call. */
    readonly sbiByHypervisor: boolean,
    readonly vm: VmServices,
    /** Present on the main thread only. */
    readonly main: MainThreadExits | undefined,
    /** The vCPU's shadow page tables (guest paging); absent, the guest is stopped when it turns paging on. */
    readonly shadow?: ShadowMmu,
  ) {}

  /**
   * Handles one trap raised at `pc`; `insn` holds the trapping instruction's
   * bits where the cause needs them. `decoded`, if given, is the illegal
   * instruction already decoded (the vCPU thread has it from the hart).
   */
  dispatch(cause: number, tval: number, pc: number, insn: number, decoded?: DecodedTrap): number {
    const ctx = this.ctx;
    this.interruptsMayChange = false;
    switch (cause) {
      case R.CAUSE_ILLEGAL_INSTRUCTION:
        return this.privileged(decoded ?? decodeTrap(tval), pc);
      case R.CAUSE_ECALL_U:
        return this.ecall(pc);
      case R.CAUSE_FETCH_PAGE_FAULT:
      case R.CAUSE_LOAD_PAGE_FAULT:
      case R.CAUSE_STORE_PAGE_FAULT:
        return this.pageFault(cause, tval, pc, insn);
      case HX.CAUSE_FETCH_GUEST_PAGE_FAULT:
      case HX.CAUSE_LOAD_GUEST_PAGE_FAULT:
      case HX.CAUSE_STORE_GUEST_PAGE_FAULT:
        return this.guestPhysFault(cause, tval, pc, insn);
      default:
        reflectException(ctx, cause, tval, pc);
        return EXIT_CONTINUE;
    }
  }

  /**
   * A trap at a wild address (u64.ts): a fetch from, or a load or store to,
   * an address beyond 2^53, which is neither guest RAM nor a device. The
   * guest gets the access fault its untranslated access would raise (guest
   * paging is not supported yet), with the exact address; there is nothing
   * for the main thread to look up, so any thread handles it.
   */
  wildAccess(cause: number, tvalLo: number, tvalHi: number, pcLo: number, pcHi: number): void {
    this.interruptsMayChange = false;
    // Under guest paging such an address is not canonical: the page fault stands (priv spec 4.4.1).
    const paged = this.shadow !== undefined && this.shadow.select(this.ctx.csr) >= 0;
    reflectExceptionPair(this.ctx, paged ? cause : accessFaultFor(cause), tvalLo, tvalHi, pcLo, pcHi);
  }

  private privileged(t: DecodedTrap, pc: number): number {
    const ctx = this.ctx;
    switch (t.kind) {
      case TRAP_CSR:
        this.interruptsMayChange = csrAffectsInterrupts(t.csr);
        if (emulateCsr(ctx, t, pc, this.shadow !== undefined) === CSR_PAGING_UNSUPPORTED) {
          this.stopReason =
            `hart ${ctx.hartId}: the guest enabled Sv39 paging (satp write at pc 0x${pc.toString(16)}); ` +
            "guest paging is not yet supported under --virt trap (shadow page tables arrive with the memory milestone)";
          return EXIT_STOP;
        }
        return EXIT_CONTINUE;
      case TRAP_MRET:
        this.interruptsMayChange = true;
        emulateMret(ctx, t, pc);
        return EXIT_CONTINUE;
      case TRAP_SRET:
        this.interruptsMayChange = true;
        emulateSret(ctx, t, pc);
        return EXIT_CONTINUE;
      case TRAP_WFI:
        return emulateWfi(ctx, t, pc) ? EXIT_WAIT : EXIT_CONTINUE;
      case TRAP_SFENCE_VMA:
        emulateSfenceVma(ctx, t, pc, this.shadow);
        return EXIT_CONTINUE;
      default:
        ctx.count(STAT.instr_illegal_exits);
        reflectException(ctx, R.CAUSE_ILLEGAL_INSTRUCTION, t.insn >>> 0, pc);
        return EXIT_CONTINUE;
    }
  }

  private ecall(pc: number): number {
    const ctx = this.ctx;
    const priv = ctx.csr.priv;
    // popek's paravirtual extension for --isa-variant nonvirt (nonvirt/popk.ts), from any virtual privilege.
    if (ctx.x[2 * A7] === EID_POPK && ctx.x[2 * A7 + 1] === 0) {
      handlePopk(ctx, pc);
      this.interruptsMayChange = true;
      return EXIT_CONTINUE;
    }
    if (this.sbiByHypervisor && priv === R.PRV_S) {
      if (this.main === undefined && sbiNeedsMainThread(ctx.x[2 * A7], ctx.x[2 * A6])) return EXIT_TO_MAIN;
      ctx.count(STAT.ecall_exit);
      const outcome = handleSbi(ctx, this.vm, pc);
      // set_timer, send_ipi (possibly to itself), hart_start: interrupt state may have changed.
      this.interruptsMayChange = true;
      return outcome === SBI_SUSPEND ? EXIT_WAIT : EXIT_CONTINUE;
    }
    // A system call of the guest's own process (or an M-mode ecall): the guest kernel handles it.
    ctx.count(STAT.ecall_exit);
    reflectException(ctx, R.CAUSE_ECALL_U + priv, 0, pc);
    return EXIT_CONTINUE;
  }

  private pageFault(cause: number, gpa: number, pc: number, insn: number): number {
    const ctx = this.ctx;
    const shadow = this.shadow;
    if (shadow !== undefined) {
      const slot = shadow.select(ctx.csr);
      if (slot >= 0) return this.shadowFault(shadow, slot, cause, gpa, pc, insn);
    }
    if (this.main === undefined) return EXIT_TO_MAIN;
    if (this.main.mapRam(gpa)) {
      ctx.count(STAT.page_fault_exit);
      ctx.pc = pc; // retry the access, now mapped
      return EXIT_CONTINUE;
    }
    if (cause !== R.CAUSE_FETCH_PAGE_FAULT && this.main.mmio(ctx, gpa, insn, pc)) {
      ctx.count(ctx.csr.priv === R.PRV_U ? STAT.mmio_exit_user : STAT.mmio_exit_kernel);
      return EXIT_CONTINUE;
    }
    // Nothing there: the access fault real hardware would raise (priv spec 3.7: PMA violation).
    reflectException(ctx, accessFaultFor(cause), gpa, pc);
    return EXIT_CONTINUE;
  }

  /**
   * --virt hw: a G-stage fault (the hart's guest-page fault) at guest-physical
   * address gpa: a first touch of RAM (map it, retry) or a device access
   * (MMIO), else the access fault hardware would raise. Its xtval is the
   * guest-physical address (the guest virtual one is not kept).
   */
  private guestPhysFault(cause: number, gpa: number, pc: number, insn: number): number {
    const ctx = this.ctx;
    if (this.main === undefined) return EXIT_TO_MAIN;
    if (this.main.mapRam(gpa)) {
      ctx.count(STAT.page_fault_exit);
      ctx.pc = pc;
      return EXIT_CONTINUE;
    }
    if (cause !== HX.CAUSE_FETCH_GUEST_PAGE_FAULT && this.main.mmio(ctx, gpa, insn, pc)) {
      ctx.count(ctx.csr.priv === R.PRV_U ? STAT.mmio_exit_user : STAT.mmio_exit_kernel);
      return EXIT_CONTINUE;
    }
    const access = cause === HX.CAUSE_FETCH_GUEST_PAGE_FAULT ? R.CAUSE_FETCH_ACCESS : cause === HX.CAUSE_LOAD_GUEST_PAGE_FAULT ? R.CAUSE_LOAD_ACCESS : R.CAUSE_STORE_ACCESS;
    reflectException(ctx, access, gpa, pc);
    return EXIT_CONTINUE;
  }

  /**
   * A fault of the real hart on a shadow table (guest paging on): fill the
   * entry from the guest's own table (hidden fault), reflect the guest's page
   * fault (true fault), or — where the guest maps the address to a RAM page
   * without a frame, or to a device — what the main thread does for that
   * guest-physical address. The fill runs on whichever thread has the exit.
   */
  private shadowFault(shadow: ShadowMmu, slot: number, cause: number, va: number, pc: number, insn: number): number {
    const ctx = this.ctx;
    // Bounded: backing a page, and unprotecting a table for a store not emulated, each happen once.
    for (let attempt = 0; attempt < 3; attempt++) {
      switch (shadow.fill(slot, accessOf(cause), va)) {
        case FILL_DONE:
          ctx.pc = pc;
          return EXIT_CONTINUE;
        case FILL_GUEST_FAULT:
          reflectException(ctx, shadow.cause, va, pc);
          return EXIT_CONTINUE;
        case FILL_FETCH_NOT_RAM:
          reflectException(ctx, R.CAUSE_FETCH_ACCESS, va, pc);
          return EXIT_CONTINUE;
        case FILL_UNBACKED:
          if (this.main === undefined) return EXIT_TO_MAIN;
          this.main.mapRam(shadow.gpa);
          ctx.count(STAT.page_fault_exit);
          continue; // now backed: fill again
        case FILL_PT_WRITE:
          if (emulatePtWrite(ctx, shadow, shadow.gpa, va, insn, pc)) return EXIT_CONTINUE;
          continue; // not emulated: the table is unprotected, fill again and retry the store natively
        case FILL_MMIO:
          if (this.main === undefined) return this.ioEventAt(shadow.gpa, va, insn, pc);
          if (this.main.mmio(ctx, shadow.gpa, insn, pc, va)) {
            ctx.count(ctx.csr.priv === R.PRV_U ? STAT.mmio_exit_user : STAT.mmio_exit_kernel);
            return EXIT_CONTINUE;
          }
          reflectException(ctx, accessFaultFor(cause), va, pc);
          return EXIT_CONTINUE;
      }
    }
    this.stopReason = `hart ${ctx.hartId}: shadow fill at 0x${va.toString(16)} did not settle`;
    return EXIT_STOP;
  }

  /**
   * On the vCPU thread, a paging guest's access to a device at `gpa`: a
   * registered notify store is taken here (ioeventfd: the worker kicked, no
   * exit); anything else only the main thread can do.
   */
  private ioEventAt(gpa: number, va: number, insn: number, pc: number): number {
    const length = this.ioEvents?.takeStore(this.ctx.x, insn, gpa, va) ?? 0;
    if (length === 0) return EXIT_TO_MAIN;
    this.ctx.count(STAT.ioeventfd_exit);
    this.ctx.pc = pc + length;
    return EXIT_CONTINUE;
  }
}

/** The access kind of a page-fault cause. */
function accessOf(cause: number): Access {
  return cause === R.CAUSE_FETCH_PAGE_FAULT ? ACCESS_FETCH : cause === R.CAUSE_LOAD_PAGE_FAULT ? ACCESS_LOAD : ACCESS_STORE;
}

/** What a guest running untranslated sees for a fault of the real hart's: its page faults are access faults (no RAM, no device there); anything else as it is. */
function accessFaultFor(cause: number): number {
  switch (cause) {
    case R.CAUSE_FETCH_PAGE_FAULT:
      return R.CAUSE_FETCH_ACCESS;
    case R.CAUSE_LOAD_PAGE_FAULT:
      return R.CAUSE_LOAD_ACCESS;
    case R.CAUSE_STORE_PAGE_FAULT:
      return R.CAUSE_STORE_ACCESS;
    default:
      return cause;
  }
}
