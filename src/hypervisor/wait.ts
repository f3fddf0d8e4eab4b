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

/**
 * Waits while word[index] === value, by `policy`; `poll` spins for
 * `pollMs` before it blocks. Returns when the word differs. The bare-handoff
 * benchmark (bench/handoff-worker.ts) waits with this same function, so its
 * floor is measured with the vCPUs' own wait loops.
 */
export function waitWhile(word: Int32Array, index: number, value: number, policy: number, pollMs = POLL_SPIN_MS): void {
  if (policy === WAIT_SPIN) {
    while (Atomics.load(word, index) === value) {
      /* spin: the other side answers in well under a microsecond when it is spinning too */
    }
    return;
  }
  if (policy === WAIT_POLL && pollMs > 0) {
    const until = performance.now() + pollMs;
    for (;;) {
      for (let i = 0; i < POLL_SPINS_PER_CLOCK_CHECK; i++) if (Atomics.load(word, index) !== value) return;
      if (performance.now() >= until) break;
    }
  }
  while (Atomics.load(word, index) === value) Atomics.wait(word, index, value);
}
