/*
 * What exit handlers may ask of the VM beyond their own vCPU. The
 * hypervisor's main thread implements all of it; a vCPU thread handling
 * exits itself (--exit-handler vcpu) implements the parts marked "any
 * thread" and hands the rest to the main thread as an exit.
 */

import type { GuestMemoryView } from "../../machine/guest-memory-view.ts";

/** SBI HSM hart states (SBI spec 9.1). */
export const HSM_STARTED = 0;
export const HSM_STOPPED = 1;
export const HSM_START_PENDING = 2;
export const HSM_STOP_PENDING = 3;
export const HSM_SUSPENDED = 4;

export interface VmServices {
  /** vCPUs in the VM (any thread). */
  readonly hartCount: number;
  /** The VM's console (the UART's host side) — main thread. */
  consoleWrite(bytes: Uint8Array): void;
  /** Next byte typed into the console, or -1 — main thread. */
  consoleRead(): number;
  /**
   * Guest-physical memory, for SBI calls that pass buffers (DBCN, legacy hart
   * masks) — any thread. The main thread's view backs untouched RAM before a
   * write; a vCPU thread's reports FAULT_UNBACKED instead.
   */
  readonly memory: GuestMemoryView;
  /** SRST / poweroff: stop the VM; `exitCode` becomes popek's exit status — main thread. */
  shutdown(exitCode: number): void;
  /** SRST reboot — main thread. */
  reboot(): void;
  /** HSM (any thread): a hart's state, or -1 if it does not exist. */
  hartState(hart: number): number;
  /**
   * HSM hart_start (any thread): start a stopped vCPU in virtual S-mode at `start` with a0 = hart,
   * a1 = opaque (all 64 bits: a double would round it); returns an SBI error code (0 = success).
   */
  hartStart(hart: number, start: number, opaque: bigint): number;
  /** HSM hart_stop of the calling vCPU (any thread). */
  hartStop(hart: number): void;
  /**
   * HSM hart_suspend of the calling vCPU (any thread): SUSPENDED until an
   * interrupt resumes it. A non-retentive suspend passes its resume address,
   * which must be guest RAM; returns an SBI error code (0 = success).
   */
  hartSuspend(hart: number, resumeAddr?: number): number;
  /** IPI (any thread): raise the virtual supervisor software interrupt (SSIP) on a vCPU. */
  sendIpi(hart: number): void;
  /** RFENCE (any thread): make a vCPU drop decoded instructions (remote fence.i) before it runs on. */
  remoteFenceI(hart: number): void;
  /**
   * RFENCE sfence.vma (any thread): every vCPU in `harts` (the caller's own
   * included) drops its shadow entries before this returns (shadow/shootdown.ts);
   * `stats` is the caller's counters.
   */
  remoteSfenceVma(caller: number, harts: readonly number[], stats: Float64Array): void;
}

/** SBI error codes (SBI spec 3.2). */
export const SBI_SUCCESS = 0;
export const SBI_ERR_FAILED = -1;
export const SBI_ERR_NOT_SUPPORTED = -2;
export const SBI_ERR_INVALID_PARAM = -3;
// SBI_ERR_DENIED = -4: nothing popek serves denies a caller.
export const SBI_ERR_INVALID_ADDRESS = -5;
export const SBI_ERR_ALREADY_AVAILABLE = -6;
// SBI_ERR_ALREADY_STARTED = -7, SBI_ERR_ALREADY_STOPPED = -8: for PMU counters, which popek's SBI does not offer.
