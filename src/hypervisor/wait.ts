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
 * An adaptive `poll` window, as KVM's halt polling adapts halt_poll_ns: a
 * wait that had to block although the answer came within POLL_SPIN_MS
 * doubles the window (polling longer would have caught it, without a
 * futex wake-up); one whose answer came later than that halves it, down to
 * not spinning at all. Why: on a loaded host (a CPU hog on every core) the
 * thread that must answer is often descheduled, and a waiter that spins
 * burns the very core that thread needs — the round trip then costs a
 * scheduler time slice (300–430 µs p50 measured) instead of a wake-up.
 * Blocking at once hands the core over. On a quiet host every poll
 * succeeds and the window stays at POLL_SPIN_MS.
 */
export class PollWindow {
  ms = POLL_SPIN_MS;

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
  const spinMs = window === undefined ? pollMs : window.ms;
  const start = performance.now();
  if (spinMs > 0) {
    const until = start + spinMs;
    for (;;) {
      for (let i = 0; i < POLL_SPINS_PER_CLOCK_CHECK; i++) if (Atomics.load(word, index) !== value) return;
      if (performance.now() >= until) break;
    }
  }
  if (Atomics.load(word, index) !== value) return;
  while (Atomics.load(word, index) === value) Atomics.wait(word, index, value);
  window?.blocked(performance.now() - start);
}
