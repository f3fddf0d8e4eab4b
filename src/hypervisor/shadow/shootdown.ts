/*
 * Shootdown: a remote sfence.vma (SBI RFENCE) across vCPUs. Each vCPU has
 * its own shadow spaces (shadow-mmu.ts), so "flush on hart h" means: h's
 * shadow entries are dropped and h's hart TLB is flushed before h runs
 * another guest instruction — and the RFENCE returns only once every target
 * has done so (SBI spec 8: the fence is complete on return), as a TLB
 * shootdown waits for its acknowledgements.
 *
 * The request is CONTROL_SHADOW_FLUSH in the target's run page; whoever
 * clears the bit (Atomics.and, so exactly one) does the flush:
 *   - the target's own thread, at its next slice boundary, after an exit,
 *     or in a wait (vcpu-runner.ts);
 *   - nobody, yet, when the target is halted (idle in wfi, suspended,
 *     stopped, paused: its run page's `halted` word): it runs no guest code
 *     and will take the bit before it does, so the requester neither wakes
 *     it nor waits (KVM waits only for vCPUs in guest mode). Waking a
 *     sleeping thread on a loaded host took tens of milliseconds: 5
 *     shootdowns cost 124 ms of a Linux boot before this;
 *   - the main thread, on the target's behalf, when the target is parked in
 *     an exit to the main thread (it cannot answer then, and the main
 *     thread owns its shadow until it resumes it; the hart's TLB is flushed
 *     as it resumes, by H_FLUSH_PENDING).
 * A requester that is itself a vCPU thread serves its own requests while it
 * waits, so two vCPUs fencing each other never deadlock. The wait and its
 * latency are counted (remote_tlb_flush, remote_tlb_flush_ns; the halted
 * targets in remote_tlb_flush_halted).
 *
 * Why skipping a halted target is safe: the requester sets the bit, then
 * reads `halted`; the target stores halted = 0, then reads the bit, before
 * any guest instruction (vcpu-runner.ts step). Atomics are sequentially
 * consistent, so at least one of them sees the other's store.
 */

import { STAT } from "../stats.ts";
import { CONTROL_SHADOW_FLUSH, VCPU_EXIT, VCPU_STOPPED, type RunPage } from "../runpage.ts";
import { wakeVcpu } from "../peers.ts";

/** What the requesting thread can do besides asking. */
export interface ShootdownSite {
  /** Flushes vCPU h on this thread, now: h is the caller itself, or (main thread) parked in an exit. */
  flushHere(h: number): void;
  /** The main thread flushes vCPUs parked in exits on their behalf; a vCPU thread cannot. */
  readonly flushesParked: boolean;
  /** Serves this thread's own vCPU's pending request while waiting (vCPU thread; no-op on the main thread). */
  serveOwn(): void;
}

/** Longest single sleep while waiting for an acknowledgement, ms (a wait is bounded by the target's slice). */
const ACK_POLL_MS = 1;

/** Sends the requests for `harts` (the caller's own included), waits for every acknowledgement, counts into `stats`. */
export function shootdown(pages: readonly RunPage[], caller: number, harts: readonly number[], site: ShootdownSite, stats: Float64Array): void {
  const start = performance.now();
  const waiting: number[] = [];
  for (const h of harts) {
    const page = pages[h];
    if (page === undefined) continue;
    if (h === caller) {
      site.flushHere(h);
      continue;
    }
    Atomics.or(page.control, 0, CONTROL_SHADOW_FLUSH);
    if (Atomics.load(page.halted, 0) === 1) {
      stats[STAT.remote_tlb_flush_halted]++;
      continue;
    }
    wakeVcpu(page);
    waiting.push(h);
  }
  for (const h of waiting) {
    const page = pages[h];
    for (;;) {
      const control = Atomics.load(page.control, 0);
      if ((control & CONTROL_SHADOW_FLUSH) === 0) break;
      const state = Atomics.load(page.state, 0);
      if (state === VCPU_STOPPED) break; // the VM is going away
      if (site.flushesParked && state === VCPU_EXIT && claimShadowFlush(page)) {
        site.flushHere(h);
        break;
      }
      site.serveOwn();
      Atomics.wait(page.control, 0, control, ACK_POLL_MS);
    }
  }
  if (waiting.length > 0) {
    stats[STAT.remote_tlb_flush] += waiting.length;
    stats[STAT.remote_tlb_flush_ns] += Math.round((performance.now() - start) * 1e6);
  }
}

/** Takes a pending flush request (true: the caller must now flush that vCPU and then notify). */
export function claimShadowFlush(page: RunPage): boolean {
  if ((Atomics.load(page.control, 0) & CONTROL_SHADOW_FLUSH) === 0) return false;
  return (Atomics.and(page.control, 0, ~CONTROL_SHADOW_FLUSH) & CONTROL_SHADOW_FLUSH) !== 0;
}
