/*
 * The wait policies a vCPU (and the bare-handoff benchmark) waits with:
 * each returns exactly when another thread changes the word, whether it
 * spins, polls then blocks, or blocks at once.
 */

import { describe, expect, it } from "vitest";
import { POLL_CO_LOCATED_MS, POLL_PROBE_EVERY_MS, POLL_PROBE_MS, POLL_SPIN_MS, PollWindow, SpinGuard, WAIT_BLOCK, WAIT_POLL, WAIT_SPIN, parseWaitPolicy, waitPolicyCode, waitWhile } from "../../src/hypervisor/wait.ts";
import { ANSWERED, WAITING, answerLater } from "../helpers/answer-later.ts";

describe("waitWhile", () => {
  it.each([
    ["spin", WAIT_SPIN, undefined],
    ["block", WAIT_BLOCK, undefined],
    ["poll (spins 0.2 ms, then blocks)", WAIT_POLL, undefined],
    ["poll with a zero spin (blocks at once)", WAIT_POLL, 0],
    ["poll spinning past the answer", WAIT_POLL, 1_000],
  ] as const)("%s: returns once another thread changes the word, not before", async (_name, policy, pollMs) => {
    const word = new Int32Array(new SharedArrayBuffer(4));
    word[0] = WAITING;
    const done = answerLater(word, 30);
    waitWhile(word, 0, WAITING, policy, pollMs);
    expect(Atomics.load(word, 0)).toBe(ANSWERED);
    await done;
  });

  it.each([WAIT_SPIN, WAIT_BLOCK, WAIT_POLL])("policy %i returns at once when the word already differs", (policy) => {
    const word = new Int32Array(new SharedArrayBuffer(4));
    word[0] = ANSWERED;
    waitWhile(word, 0, WAITING, policy);
    expect(word[0]).toBe(ANSWERED);
  });
});

describe("--wait", () => {
  it("names the three policies", () => {
    expect(["spin", "block", "poll"].map((p) => waitPolicyCode(parseWaitPolicy(p)))).toEqual([WAIT_SPIN, WAIT_BLOCK, WAIT_POLL]);
  });
  it("rejects anything else with the choices", () => {
    expect(() => parseWaitPolicy("nap")).toThrow(/--wait: expected one of spin, block, poll, got "nap"/);
  });
});

describe("PollWindow: poll adapts its spin after KVM's halt polling", () => {
  it("spins that run out in vain, the answer coming late, halve it down to blocking at once", () => {
    const w = new PollWindow();
    expect(w.ms).toBe(POLL_SPIN_MS);
    const lengths: number[] = [];
    for (let i = 0; i < 5; i++) {
      w.ranOut(5, 100);
      lengths.push(w.ms);
    }
    expect(lengths).toEqual([POLL_SPIN_MS / 2, POLL_SPIN_MS / 4, POLL_SPIN_MS / 8, POLL_SPIN_MS / 16, 0]);
  });

  it("a spin in vain answered just after it blocked (a partner waiting for this core) closes it at once", () => {
    const w = new PollWindow();
    w.ranOut(POLL_CO_LOCATED_MS / 2, 100);
    expect(w.ms).toBe(0);
    expect(w.spinMs(100)).toBe(0);
  });

  it("a closed window probes now and then, and spins caught grow it back, never past the maximum", () => {
    const w = new PollWindow();
    w.ranOut(0, 100);
    expect(w.spinMs(100 + POLL_PROBE_EVERY_MS / 2)).toBe(0);
    expect(w.spinMs(100 + POLL_PROBE_EVERY_MS)).toBe(POLL_PROBE_MS);
    expect(w.spinMs(100 + POLL_PROBE_EVERY_MS)).toBe(0); // one probe per period
    for (let i = 0; i < 20; i++) w.caught();
    expect(w.ms).toBe(POLL_SPIN_MS);
  });

  it("a fixed window (the vCPU's side) spins its full length whatever its waits taught or its guard says", () => {
    const w = new PollWindow(new SpinGuard(), false);
    w.ranOut(POLL_CO_LOCATED_MS / 2, 100); // would close an adaptive window
    w.ranOut(5, 101);
    w.guard.backOff(102); // would make an adaptive window block at once for 2 ms
    expect(w.spinMs(103)).toBe(POLL_SPIN_MS);
    w.caught();
    expect(w.spinMs(104)).toBe(POLL_SPIN_MS);
  });

  it("waitWhile with a window of 0 blocks at once and still returns on the answer", async () => {
    const word = new Int32Array(new SharedArrayBuffer(4));
    word[0] = WAITING;
    const w = new PollWindow();
    w.ms = 0;
    const done = answerLater(word, 30);
    waitWhile(word, 0, WAITING, WAIT_POLL, POLL_SPIN_MS, w);
    expect(word[0]).toBe(ANSWERED);
    await done;
  });
});
