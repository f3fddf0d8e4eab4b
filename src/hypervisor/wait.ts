/*
 * How a vCPU waits for the hypervisor to answer an exit — a policy, not a
 * constant (DESIGN.md, "Waiting is a policy"): spin on the state word, block
 * in Atomics.wait until notified (a futex sleep and wake-up), or poll — spin
 * for a bounded time, then block, like KVM's halt polling.
 */

import { ConfigError } from "../errors.ts";

export const WAIT_POLICIES = ["spin", "block", "poll"] as const;
export type WaitPolicy = (typeof WAIT_POLICIES)[number];

export const WAIT_SPIN = 0;
export const WAIT_BLOCK = 1;
export const WAIT_POLL = 2;

/** How long `poll` spins before it blocks, in ms (KVM's halt_poll_ns default is 200 µs). */
export const POLL_SPIN_MS = 0.2;
/**
 * Loads of the word between two clock reads while polling: a clock read
 * costs 30–120 ns on these machines, a load a few, and a poll that read the
 * clock on every turn would notice the answer that much later.
 */
const POLL_SPINS_PER_CLOCK_CHECK = 64;

export function waitPolicyCode(policy: WaitPolicy): number {
  switch (policy) {
    case "spin":
      return WAIT_SPIN;
    case "block":
      return WAIT_BLOCK;
    case "poll":
      return WAIT_POLL;
  }
}

export function parseWaitPolicy(text: string): WaitPolicy {
  const found = WAIT_POLICIES.find((p) => p === text);
  if (found === undefined) throw new ConfigError(`--wait: expected one of ${WAIT_POLICIES.join(", ")}, got "${text}"`);
  return found;
}

/** A poll window that grew back starts here, ms. */
const POLL_GROW_START_MS = 0.01;

/**
 * A gap this long between two clock reads of a spin loop, ms, means the
 * spinning thread lost its core: a loop that reads the clock every
 * microsecond or so sees such a gap only when the scheduler ran something
 * else there, which it does to a spinner only when more threads want to run
 * than there are cores (EEVDF's slices are 0.75 ms and more). Interrupts and
 * short kernel threads take a few µs.
 */
export const PREEMPTED_GAP_MS = 0.2;
/** The first back-off after a lost core, ms; a host that stays oversubscribed doubles it up to the maximum. */
const BACKOFF_MIN_MS = 2;
const BACKOFF_MAX_MS = 200;

/**
 * One thread's memory of having lost its core while it spun: for a while
 * after, it should block instead of spinning. Why: a spinner is a CPU hog to
 * the scheduler, and on an oversubscribed host it is descheduled in the
 * middle of a handoff now and then; the thread waiting on it then waits a
 * whole time slice (ms) instead of a wake-up (4-12 µs measured beside
 * stress-ng --cpu 2 with both sides sleeping in Atomics.wait, against p99s of
 * 9-12 ms with either side spinning). The back-off is short after a lone loss
 * (a GC pause or a stray thread on a quiet host costs 2 ms of slower
 * handoffs) and doubles, up to BACKOFF_MAX_MS, while losses keep coming as
 * soon as spinning resumes; spinning again after it lets a host that became
 * quiet get its fast handoffs back. Each thread keeps its own (the main
 * thread's service loop, each vCPU's poll wait): each notices its own losses.
 */
export class SpinGuard {
  /** performance.now() before which this thread blocks instead of spinning. */
  private blockUntil = -Infinity;
  private backoffMs = BACKOFF_MIN_MS;
  /** Times a spin was seen to lose its core (tests and diagnostics). */
  losses = 0;

  /** True while this thread should not spin (it lost its core recently). */
  backingOff(now: number): boolean {
    return now < this.blockUntil;
  }

  /**
   * Notes two consecutive clock reads of a spin loop; true (and backing off
   * from `now` on) if the gap between them shows the thread lost its core.
   */
  lostCore(previous: number, now: number): boolean {
    if (now - previous < PREEMPTED_GAP_MS) return false;
    this.backOff(now);
    return true;
  }

  /** Stops spinning from `now` on: this thread lost its core. */
  backOff(now: number): void {
    this.losses++;
    // Again within one back-off of the last one ending: the host is still oversubscribed.
    this.backoffMs = now - this.blockUntil < this.backoffMs ? Math.min(BACKOFF_MAX_MS, this.backoffMs * 2) : BACKOFF_MIN_MS;
    this.blockUntil = now + this.backoffMs;
  }

  /**
   * Stops spinning for BACKOFF_MIN_MS only, never longer: this thread spun a
   * whole window in vain for a partner that may have lost its core, or may
   * only have been busy or asleep (a quiet host's main thread wakes from its
   * idle sleep through the event loop). Only a core this thread saw lost
   * itself makes the back-off grow.
   */
  pause(now: number): void {
    this.losses++;
    this.blockUntil = Math.max(this.blockUntil, now + BACKOFF_MIN_MS);
  }
}

/**
 * A closed window (0) spins this long now and then, to see whether spinning
 * pays again: long enough for a partner that sleeps to be woken (a futex
 * wake-up on an idle core takes 18-45 µs), ms.
 */
export const POLL_PROBE_MS = 0.05;
/** How often a closed window probes, ms. */
export const POLL_PROBE_EVERY_MS = 10;
/**
 * An answer that comes this soon after a spin ran out in vain and its thread
 * blocked, ms, says the partner was waiting for this thread's core (both
 * threads on one core beside hogs on the others; the scheduler puts a woken
 * thread beside its waker when no core is idle): it could not run while
 * this one spun, and it ran at once when this one blocked. A partner that
 * was only slow answers at any time after the window.
 */
export const POLL_CO_LOCATED_MS = 0.03;

/**
 * An adaptive `poll` window, after KVM's halt polling, for either side of an
 * exit: how long a vCPU spins for its answer, or the main thread for the
 * next exit. An answer caught while spinning grows a short window back (x2,
 * up to POLL_SPIN_MS); a window that runs out in vain halves (below 10 µs it
 * closes: block at once). Unlike KVM, a wait that blocked and was answered
 * soon does not grow it: that is also what a partner sharing this thread's
 * core looks like, and for such a pair spinning is pure loss (the partner
 * cannot run until the spinner stops; measured beside stress-ng --cpu 2 with
 * both threads polling 5/20/50 µs: every round trip cost both windows plus a
 * wake-up). A window that ran out and was answered within POLL_CO_LOCATED_MS
 * of blocking closes at once. A closed window probes (spins
 * POLL_PROBE_MS) every POLL_PROBE_EVERY_MS, so a host that becomes quiet
 * gets its fast handoffs back. On a quiet host every spin succeeds and the
 * window stays at POLL_SPIN_MS. A spin that loses its core (`guard`) stops
 * spinning for a while (SpinGuard), whatever the window says.
 */
export class PollWindow {
  ms = POLL_SPIN_MS;
  /** performance.now() from which a closed window may probe again. */
  private probeAt = 0;

  /**
   * `adaptive` false: a fixed window of POLL_SPIN_MS, which a spin still
   * leaves early when its thread is seen losing its core. That is the vCPU's
   * side (vcpu-runner.ts); the main thread's window adapts (hypervisor.ts).
   * Why: with the vCPU's window adapting too, the vCPU's sampled p50 on a
   * quiet host was ~4 µs instead of ~0.6 µs in about one exitbench pass in
   * three (poll/main: the vCPU sleeping on its answer, a futex wake-up per
   * exit), 9 of 22 passes in one set; with a fixed window 0 of 12, and
   * `bench exits`' quiet p50 0.49 and 0.53 µs. The price is the quiet p99
   * (~0.22 ms against ~0.05 ms: an answer late by a GC or the event loop is
   * spun for in full) and a loaded p99 that is bimodal again beside CPU hogs.
   */
  constructor(
    readonly guard = new SpinGuard(),
    readonly adaptive = true,
  ) {}

  /** How long a wait starting at `now` spins before it blocks (a probe counts as having probed). */
  spinMs(now: number): number {
    if (!this.adaptive) return POLL_SPIN_MS;
    if (this.guard.backingOff(now)) return 0;
    if (this.ms > 0) return this.ms;
    if (now < this.probeAt) return 0;
    this.probeAt = now + POLL_PROBE_EVERY_MS;
    return POLL_PROBE_MS;
  }

  /** A spin shorter than the maximum caught its answer: spinning pays, spin longer. */
  caught(): void {
    if (!this.adaptive) return;
    this.ms = Math.min(POLL_SPIN_MS, Math.max(POLL_PROBE_MS, this.ms) * 2);
  }

  /** A spin ran out in vain at `now`; the answer came `afterMs` after the thread then blocked. */
  ranOut(afterMs: number, now: number): void {
    if (!this.adaptive) return;
    this.ms = afterMs < POLL_CO_LOCATED_MS || this.ms / 2 < POLL_GROW_START_MS ? 0 : this.ms / 2;
    if (this.ms === 0) this.probeAt = now + POLL_PROBE_EVERY_MS;
  }
}

/**
 * Waits while word[index] === value, by `policy`; `poll` spins for
 * `pollMs` (or the adaptive `window`'s length, which it then updates)
 * before it blocks. Returns when the word differs. The bare-handoff
 * benchmark (bench/handoff-worker.ts) waits with this same function, so its
 * floor is measured with the vCPUs' own wait loops.
 */
export function waitWhile(word: Int32Array, index: number, value: number, policy: number, pollMs = POLL_SPIN_MS, window?: PollWindow): void {
  if (policy === WAIT_SPIN) {
    while (Atomics.load(word, index) === value) {
      /* spin: the other side answers in well under a microsecond when it is spinning too */
    }
    return;
  }
  if (policy !== WAIT_POLL) {
    while (Atomics.load(word, index) === value) Atomics.wait(word, index, value);
    return;
  }
  const start = performance.now();
  const spinMs = window === undefined ? pollMs : window.spinMs(start);
  // When the spin ran out in vain (the window learns from how soon the answer came after it).
  let ranOutAt = -1;
  if (spinMs > 0) {
    const until = start + spinMs;
    let last = start;
    for (;;) {
      for (let i = 0; i < POLL_SPINS_PER_CLOCK_CHECK; i++) {
        if (Atomics.load(word, index) !== value) {
          if (window !== undefined && spinMs < POLL_SPIN_MS) window.caught();
          return;
        }
      }
      const now = performance.now();
      // Looked at before the deadline: a spin that lost its core usually overran it too.
      if (window?.guard.lostCore(last, now) === true) break;
      if (now >= until) {
        // A whole window without an answer: the answerer most likely lost its core, and spinning on
        // would keep this one from it (or from whatever it must wake). Block for a moment.
        if (spinMs >= POLL_SPIN_MS) window?.guard.pause(now);
        ranOutAt = now;
        break;
      }
      last = now;
    }
  }
  if (Atomics.load(word, index) !== value) return;
  while (Atomics.load(word, index) === value) Atomics.wait(word, index, value);
  if (window !== undefined && ranOutAt >= 0) {
    const now = performance.now();
    window.ranOut(now - ranOutAt, now);
  }
}
