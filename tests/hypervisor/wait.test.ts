/*
 * The wait policies a vCPU (and the bare-handoff benchmark) waits with:
 * each returns exactly when another thread changes the word, whether it
 * spins, polls then blocks, or blocks at once.
 */

import { describe, expect, it } from "vitest";
import { POLL_SPIN_MS, PollWindow, WAIT_BLOCK, WAIT_POLL, WAIT_SPIN, parseWaitPolicy, waitPolicyCode, waitWhile } from "../../src/hypervisor/wait.ts";
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

describe("PollWindow: poll adapts its spin as KVM's halt polling does", () => {
  it("answers later than the window's maximum (a descheduled answerer) shrink it to blocking at once", () => {
    const w = new PollWindow();
    expect(w.ms).toBe(POLL_SPIN_MS);
    for (let i = 0; i < 20; i++) w.blocked(5);
    expect(w.ms).toBe(0);
  });

  it("a blocked wait whose answer came within the maximum grows it back, never past the maximum", () => {
    const w = new PollWindow();
    for (let i = 0; i < 20; i++) w.blocked(5);
    w.blocked(0.05);
    expect(w.ms).toBeGreaterThan(0);
    for (let i = 0; i < 20; i++) w.blocked(0.05);
    expect(w.ms).toBe(POLL_SPIN_MS);
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
