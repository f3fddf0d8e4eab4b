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
 * An adaptive `poll` window, as KVM's halt polling adapts halt_poll_ns: a
 * wait that had to block although the answer came within POLL_SPIN_MS
 * doubles the window (polling longer would have caught it, without a
 * futex wake-up); one whose answer came later than that halves it, down to
 * not spinning at all. On a quiet host every poll succeeds and the window
 * stays at POLL_SPIN_MS. On a loaded host (a CPU hog on every core) the
 * window alone is not enough: a spin that loses its core (`guard`) stops
 * spinning for a while (SpinGuard), whatever the window says.
 */
export class PollWindow {
  ms = POLL_SPIN_MS;
  readonly guard = new SpinGuard();

  /** How long a wait starting at `now` spins before it blocks. */
  spinMs(now: number): number {
    return this.guard.backingOff(now) ? 0 : this.ms;
  }

  /** Learns from one wait that blocked after polling: `totalMs` from the start of the wait to the answer. */
  blocked(totalMs: number): void {
    if (totalMs <= POLL_SPIN_MS) this.ms = Math.min(POLL_SPIN_MS, Math.max(POLL_GROW_START_MS, this.ms * 2));
    else this.ms = this.ms / 2 < POLL_GROW_START_MS ? 0 : this.ms / 2;
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
  if (spinMs > 0) {
    const until = start + spinMs;
    let last = start;
    for (;;) {
      for (let i = 0; i < POLL_SPINS_PER_CLOCK_CHECK; i++) if (Atomics.load(word, index) !== value) return;
      const now = performance.now();
      // Looked at before the deadline: a spin that lost its core usually overran it too.
      if (window?.guard.lostCore(last, now) === true) break;
      if (now >= until) {
        // A whole window without an answer: the answerer most likely lost its core, and spinning on
        // would keep this one from it (or from whatever it must wake). Block for a moment.
        if (spinMs >= POLL_SPIN_MS) window?.guard.pause(now);
        break;
      }
      last = now;
    }
  }
  if (Atomics.load(word, index) !== value) return;
  while (Atomics.load(word, index) === value) Atomics.wait(word, index, value);
  window?.blocked(performance.now() - start);
}
