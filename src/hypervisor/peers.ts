/*
 * What one vCPU may do to the others of its VM, from any thread: the parts
 * of SBI's HSM, IPI and RFENCE that need only the other vCPUs' run pages.
 * Writes go through Atomics, and every change that should wake a vCPU bumps
 * its `wake` word and notifies it.
 */

import { CsrFile } from "../machine/csr.ts";
import { loOf, hiOf } from "../machine/u64.ts";
import { CONTROL_FENCE_I, CONTROL_STARTED, CONTROL_SUSPENDED, type RunPage } from "./runpage.ts";
import { supervisorDefaults } from "./vm-boot.ts";
import * as S from "./exits/services.ts";

const A0 = 10;
const A1 = 11;

/** Wakes a vCPU that may be sleeping in wfi or waiting to be started. */
export function wakeVcpu(page: RunPage): void {
  Atomics.add(page.wake, 0, 1);
  Atomics.notify(page.wake, 0);
  Atomics.notify(page.control, 0);
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

  hartState(hart: number): number {
    const page = this.pages[hart];
    if (page === undefined) return -1;
    const control = Atomics.load(page.control, 0);
    if ((control & CONTROL_STARTED) === 0) return S.HSM_STOPPED;
    return (control & CONTROL_SUSPENDED) !== 0 ? S.HSM_SUSPENDED : S.HSM_STARTED;
  }

  /** SBI HSM hart_start (SBI spec 9.1): S-mode at `start`, a0 = hartid, a1 = opaque, satp = 0, sstatus.SIE = 0. */
  hartStart(hart: number, start: number, opaque: number): number {
    const page = this.pages[hart];
    if (page === undefined) return S.SBI_ERR_INVALID_PARAM;
    if (!this.inRam(start)) return S.SBI_ERR_INVALID_ADDRESS;
    const control = Atomics.load(page.control, 0);
    if ((control & CONTROL_STARTED) !== 0) return S.SBI_ERR_ALREADY_AVAILABLE;
    page.regs.fill(0);
    page.regs[2 * A0] = hart;
    page.regs[2 * A1] = loOf(opaque);
    page.regs[2 * A1 + 1] = hiOf(opaque);
    page.pc[0] = start;
    // The CSR image of a stopped hart is not in use by anyone: reset it, then set it up as the
    // hypervisor-firmware does for every S-mode hart (S-mode, satp = 0, SIE = 0, delegation).
    const storage = { lo: page.vcsrLo, hi: page.vcsrHi, state: page.vcsrState, offsets: page.vcsrOffsets };
    const csr = new CsrFile(hart, { mtime: () => 0, retired: () => 0, translationChanged: () => {} }, storage);
    supervisorDefaults(csr);
    page.timerDeadline[0] = Infinity;
    Atomics.or(page.control, 0, CONTROL_STARTED);
    wakeVcpu(page);
    return S.SBI_SUCCESS;
  }

  /** Marks the calling vCPU suspended; its thread clears the mark when an interrupt resumes it. */
  hartSuspend(hart: number, resumeAddr?: number): number {
    const page = this.pages[hart];
    if (page === undefined) return S.SBI_ERR_INVALID_PARAM;
    if (resumeAddr !== undefined && !this.inRam(resumeAddr)) return S.SBI_ERR_INVALID_ADDRESS;
    Atomics.or(page.control, 0, CONTROL_SUSPENDED);
    return S.SBI_SUCCESS;
  }

  private inRam(addr: number): boolean {
    return addr >= this.ramBase && addr < this.ramBase + this.ramSize;
  }

  hartStop(hart: number): void {
    const page = this.pages[hart];
    if (page === undefined) return;
    Atomics.and(page.control, 0, ~CONTROL_STARTED);
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
