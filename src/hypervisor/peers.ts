/*
 * What one vCPU may do to the others of its VM, from any thread: the parts
 * of SBI's HSM, IPI and RFENCE that need only the other vCPUs' run pages.
 * Writes go through Atomics, and every change that should wake a vCPU bumps
 * its `wake` word and notifies it.
 *
 * HSM is a handshake over each run page's hsm word (its moves are drawn in
 * runpage.ts, beside HSM_START_CLAIMED): a hart_start claims a STOPPED vCPU
 * with compareExchange before it writes a single register, and the vCPU
 * thread publishes STOPPED only after its own last write. So the stopping
 * thread and a starter never write the same registers at once, and an
 * immediate hart_start after a hart_stop is refused (INVALID_PARAM while
 * STOP_PENDING, as OpenSBI answers) rather than half-done.
 */

import { CsrFile } from "../machine/csr.ts";
import { CONTROL_FENCE_I, HSM_START_CLAIMED, type RunPage } from "./runpage.ts";
import { supervisorDefaults } from "./vm-boot.ts";
import * as S from "./exits/services.ts";

const A0 = 10;
const A1 = 11;

/** Wakes a vCPU that may be sleeping in wfi, parked (paused) or stopped. */
export function wakeVcpu(page: RunPage): void {
  Atomics.add(page.wake, 0, 1);
  Atomics.notify(page.wake, 0);
  Atomics.notify(page.control, 0);
  Atomics.notify(page.hsm, 0);
}

export class Peers {
  constructor(
    readonly pages: readonly RunPage[],
    readonly ramBase: number,
    readonly ramSize: number,
  ) {}

  get hartCount(): number {
    return this.pages.length;
  }

  /** HSM hart_get_status: the SBI state, or -1 if the hart does not exist. */
  hartState(hart: number): number {
    const page = this.pages[hart];
    if (page === undefined) return -1;
    const state = Atomics.load(page.hsm, 0);
    return state === HSM_START_CLAIMED ? S.HSM_START_PENDING : state;
  }

  /**
   * SBI HSM hart_start (SBI spec 9.1): S-mode at `start`, a0 = hartid, a1 =
   * opaque, satp = 0, sstatus.SIE = 0. Only a STOPPED hart starts; a STARTED
   * one answers ALREADY_AVAILABLE, one in transition (or suspended)
   * INVALID_PARAM, as OpenSBI's sbi_hsm_hart_start does.
   */
  hartStart(hart: number, start: number, opaque: bigint): number {
    const page = this.pages[hart];
    if (page === undefined) return S.SBI_ERR_INVALID_PARAM;
    if (!this.inRam(start)) return S.SBI_ERR_INVALID_ADDRESS;
    const was = Atomics.compareExchange(page.hsm, 0, S.HSM_STOPPED, HSM_START_CLAIMED);
    if (was !== S.HSM_STOPPED) return was === S.HSM_STARTED ? S.SBI_ERR_ALREADY_AVAILABLE : S.SBI_ERR_INVALID_PARAM;
    // Claimed: the stopped vCPU's thread writes nothing until it sees START_PENDING below.
    page.regs.fill(0);
    page.regs[2 * A0] = hart;
    page.regs[2 * A1] = Number(BigInt.asIntN(32, opaque));
    page.regs[2 * A1 + 1] = Number(BigInt.asIntN(32, opaque >> 32n));
    page.pc[0] = start;
    // The CSR image of a stopped hart is not in use by anyone: reset it, then set it up as the
    // hypervisor-firmware does for every S-mode hart (S-mode, satp = 0, SIE = 0, delegation).
    const storage = { lo: page.vcsrLo, hi: page.vcsrHi, state: page.vcsrState, offsets: page.vcsrOffsets };
    const csr = new CsrFile(hart, { mtime: () => 0, retired: () => 0, translationChanged: () => {} }, storage);
    supervisorDefaults(csr);
    page.timerDeadline[0] = Infinity;
    // An IPI that raced with the hart's stop must not surface at this start.
    Atomics.store(page.ipi, 0, 0);
    // Publish: every write above happens-before the vCPU's load that sees START_PENDING.
    Atomics.store(page.hsm, 0, S.HSM_START_PENDING);
    wakeVcpu(page);
    return S.SBI_SUCCESS;
  }

  /**
   * HSM hart_stop of the calling vCPU (which is STARTED: it is running the
   * call): STOP_PENDING. Its thread parks at once — the exit handler's answer
   * makes it look — and then publishes STOPPED itself.
   */
  hartStop(hart: number): void {
    const page = this.pages[hart];
    if (page === undefined) return;
    const was = Atomics.compareExchange(page.hsm, 0, S.HSM_STARTED, S.HSM_STOP_PENDING);
    if (was !== S.HSM_STARTED) throw new Error(`hsm: hart ${hart} stops itself from state ${was}, not STARTED`);
  }

  /** Marks the calling vCPU SUSPENDED; its thread makes it STARTED again when an interrupt resumes it. */
  hartSuspend(hart: number, resumeAddr?: number): number {
    const page = this.pages[hart];
    if (page === undefined) return S.SBI_ERR_INVALID_PARAM;
    if (resumeAddr !== undefined && !this.inRam(resumeAddr)) return S.SBI_ERR_INVALID_ADDRESS;
    const was = Atomics.compareExchange(page.hsm, 0, S.HSM_STARTED, S.HSM_SUSPENDED);
    if (was !== S.HSM_STARTED) throw new Error(`hsm: hart ${hart} suspends itself from state ${was}, not STARTED`);
    return S.SBI_SUCCESS;
  }

  private inRam(addr: number): boolean {
    return addr >= this.ramBase && addr < this.ramBase + this.ramSize;
  }

  sendIpi(hart: number): void {
    const page = this.pages[hart];
    if (page === undefined) return;
    Atomics.store(page.ipi, 0, 1);
    wakeVcpu(page);
  }

  remoteFenceI(hart: number): void {
    const page = this.pages[hart];
    if (page === undefined) return;
    Atomics.or(page.control, 0, CONTROL_FENCE_I);
    wakeVcpu(page);
  }
}
