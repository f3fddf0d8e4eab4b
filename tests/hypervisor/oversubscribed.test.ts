/*
 * Waiting on an oversubscribed host (more threads wanting to run than
 * cores): a spinner that loses its core, or spins in vain for a partner that
 * lost its own, stops spinning for a while and blocks instead (wait.ts
 * SpinGuard), on the vCPU's side and in the main thread's service loop. The
 * times here are given, not measured: what is tested is the rule, and that
 * the blocking paths still deliver every answer.
 */

import { afterEach, describe, expect, it, vi } from "vitest";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import { POLL_PROBE_EVERY_MS, POLL_SPIN_MS, PREEMPTED_GAP_MS, PollWindow, SpinGuard, WAIT_POLL, waitWhile } from "../../src/hypervisor/wait.ts";
import { mImage, startVm } from "../helpers/vm.ts";
import { ANSWERED, WAITING, answerLater } from "../helpers/answer-later.ts";

const MB = 2 ** 20;
describe("SpinGuard: a spinner that lost its core blocks for a while", () => {
  it("a gap between two clock reads shorter than a time slice is not a lost core", () => {
    const g = new SpinGuard();
    expect(g.lostCore(100, 100 + PREEMPTED_GAP_MS / 2)).toBe(false);
    expect(g.backingOff(100 + PREEMPTED_GAP_MS / 2)).toBe(false);
    expect(g.losses).toBe(0);
  });

  it("a longer gap backs off for 2 ms, then spinning is allowed again", () => {
    const g = new SpinGuard();
    expect(g.lostCore(100, 101)).toBe(true);
    expect(g.backingOff(102.9)).toBe(true);
    expect(g.backingOff(103)).toBe(false);
    expect(g.losses).toBe(1);
  });

  it("losses that keep coming as soon as spinning resumes double the back-off, up to 200 ms", () => {
    const g = new SpinGuard();
    let now = 0;
    const lengths: number[] = [];
    for (let i = 0; i < 10; i++) {
      g.backOff(now);
      const start = now;
      while (g.backingOff(now)) now += 0.5;
      lengths.push(now - start);
      now += 0.5; // lost again right after spinning resumed
    }
    expect(lengths.slice(0, 4)).toEqual([2, 4, 8, 16]);
    expect(Math.max(...lengths)).toBe(200);
  });

  it("a spin that ran out in vain pauses spinning for 2 ms and never makes the back-off grow", () => {
    const g = new SpinGuard();
    for (let t = 0; t < 10; t += 2.5) g.pause(t);
    expect(g.backingOff(9.4)).toBe(true); // the last pause, at 7.5, lasts 2 ms
    expect(g.backingOff(9.5)).toBe(false);
    g.backOff(20); // the first loss of its own core after them still starts at 2 ms
    expect(g.backingOff(21.9)).toBe(true);
    expect(g.backingOff(22)).toBe(false);
  });

  it("a loss long after the last back-off ended starts again at 2 ms (a quiet host's stray GC pause)", () => {
    const g = new SpinGuard();
    for (let t = 0; t < 5; t++) g.backOff(t); // grown
    g.backOff(10_000);
    expect(g.backingOff(10_001.9)).toBe(true);
    expect(g.backingOff(10_002)).toBe(false);
  });
});

describe("waitWhile poll on an oversubscribed host", () => {
  it("a spin that runs its whole window out before the answer (the answerer lost its core) pauses the waiter, and the answer still arrives", async () => {
    const word = new Int32Array(new SharedArrayBuffer(4));
    word[0] = WAITING;
    const w = new PollWindow();
    const done = answerLater(word, 30); // far beyond the 0.2 ms window
    waitWhile(word, 0, WAITING, WAIT_POLL, POLL_SPIN_MS, w);
    expect(Atomics.load(word, 0)).toBe(ANSWERED);
    expect(w.guard.losses).toBe(1);
    await done;
  });

  it("while backing off, the window spins not at all and a wait still returns on the answer", async () => {
    const word = new Int32Array(new SharedArrayBuffer(4));
    word[0] = WAITING;
    const w = new PollWindow();
    w.guard.backOff(performance.now());
    expect(w.spinMs(performance.now())).toBe(0);
    const done = answerLater(word, 5);
    waitWhile(word, 0, WAITING, WAIT_POLL, POLL_SPIN_MS, w);
    expect(Atomics.load(word, 0)).toBe(ANSWERED);
    await done;
  });

  it("a probe of a closed window that catches its answer opens the window again", () => {
    const word = new Int32Array(new SharedArrayBuffer(4)); // already answered: the probe's first look catches it
    const w = new PollWindow();
    w.ranOut(0, -POLL_PROBE_EVERY_MS); // closed, and a probe is due
    waitWhile(word, 0, WAITING, WAIT_POLL, POLL_SPIN_MS, w);
    expect(w.ms).toBeGreaterThan(0);
  });

  it("an answer already there costs nothing and is no loss", () => {
    const word = new Int32Array(new SharedArrayBuffer(4));
    const w = new PollWindow();
    waitWhile(word, 0, WAITING, WAIT_POLL, POLL_SPIN_MS, w);
    expect(w.guard.losses).toBe(0);
    expect(w.spinMs(performance.now())).toBe(POLL_SPIN_MS);
  });
});

describe("the service loop backing off", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Runs selftest on a poll VM under `hv`: it must pass, and the main thread must have slept on the doorbell with Atomics.wait. */
  async function servesSelftestAsleepOnDoorbell(hv: Hypervisor): Promise<void> {
    const sleeps = vi.spyOn(Atomics, "wait");
    const g = startVm(hv, mImage("guests/bin/selftest.elf"), { memSize: 64 * MB, wait: "poll", exitHandler: "main" });
    const r = await g.vm.result;
    expect(r.message).toBeUndefined();
    expect(g.output()).toContain("selftest: PASS");
    expect(r.exitCode).toBe(0);
    // The main thread's own sleeps (the spy sees only this thread's Atomics; the vCPU is another isolate).
    expect(sleeps.mock.calls.some(([word]) => word.buffer === hv.doorbell)).toBe(true);
  }

  it("sleeps on the doorbell with Atomics.wait instead of polling, and serves every exit of a poll VM", async () => {
    const hv = new Hypervisor({ machineMemory: 80 * MB });
    // As if the loop kept losing its core: every poll window after an exit is slept, not spun.
    hv.spinGuard.backingOff = () => true;
    await servesSelftestAsleepOnDoorbell(hv);
  }, 60_000);

  it("with its poll window closed (polling was in vain) it sleeps on the doorbell in Atomics.wait, not through the event loop, and serves every exit", async () => {
    const hv = new Hypervisor({ machineMemory: 80 * MB });
    // As if every window had run out in vain with a partner waiting for this core: never poll after an exit.
    hv.pollWindow.spinMs = () => 0;
    await servesSelftestAsleepOnDoorbell(hv);
  }, 60_000);
});
