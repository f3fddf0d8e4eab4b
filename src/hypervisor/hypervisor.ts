/*
 * The hypervisor: machine memory, the VMs, and the main thread's service
 * loop, which handles exits from every vCPU of every VM.
 *
 * The loop never blocks the main thread's event loop for long: timers,
 * stdin, comlink replies and the CLI's own work run in between. How it
 * waits for the next exit follows the VMs' policy: with any `spin` VM it
 * polls the run pages continuously (and yields every millisecond); with a
 * `poll` VM it keeps polling for an adaptive window after the last exit (up
 * to POLL_SPIN_MS; shorter or none where polling has been in vain, wait.ts
 * PollWindow, and none while its polling keeps losing the core to other
 * threads, SpinGuard), then sleeps on the doorbell in Atomics.wait for
 * DOORBELL_SYNC_MS; otherwise, and after that, it sleeps on the doorbell
 * with Atomics.waitAsync. Every vCPU bumps the doorbell when it posts an exit.
 */

import { FrameAllocator } from "./frames.ts";
import { MainThreadPin } from "../host/affinity.ts";
import { Vm, type VmConfig } from "./vm.ts";
import { POLL_SPIN_MS, PollWindow, SpinGuard } from "./wait.ts";

/** Lets the event loop run (timers, stdin, comlink replies) before the loop goes on. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** How often device timers (the CLINT comparators) are serviced, in ms. */
const TICK_MS = 0.5;
/** How long the spinning loop runs before letting the event loop in, in ms. */
const SPIN_YIELD_MS = 1;
/** While busy or spinning, the clock (device ticks, event-loop yields) is read every this many service rounds. */
const CLOCK_EVERY_ROUNDS = 16;
/**
 * How long after the last exit a `poll` VM's service loop sleeps on the
 * doorbell in Atomics.wait (the event loop let in between, as while
 * spinning), ms, before it sleeps with Atomics.waitAsync. The exits of a
 * busy guest come in bursts, and a vCPU that lost its core on a busy host
 * (a time slice is 0.75-3 ms, and several threads may queue) posts its next
 * exit within a few slices: a futex wake-up then costs µs, where waitAsync's
 * trip through the event loop costs 7-8 µs on a quiet host and hundreds
 * beside CPU hogs. Past this the guest is idle, and the event loop free.
 */
const DOORBELL_SYNC_MS = 20;
/** Longest doorbell sleep, in ms (timers still tick while nobody exits). */
const DOORBELL_SLEEP_MS = 1;

export interface HypervisorOptions {
  /** Bytes of machine memory shared by all VMs (their RAM, lazily, and their page tables). */
  readonly machineMemory: number;
}

export class Hypervisor {
  readonly frames: FrameAllocator;
  readonly vms: Vm[] = [];
  /** Bumped by every vCPU that posts an exit to the main thread. */
  readonly doorbell = new SharedArrayBuffer(4);
  private readonly doorbellWord = new Int32Array(this.doorbell);
  private serving: Promise<void> | undefined;
  /** The service loop's memory of losing its core while it polled (wait.ts): it then sleeps on the doorbell instead. */
  readonly spinGuard = new SpinGuard();
  /** How long the service loop polls for the next exit of a `poll` VM before it sleeps (wait.ts). */
  readonly pollWindow = new PollWindow(this.spinGuard);

  /** The main thread's core while VMs with --pin run (src/host/affinity.ts). */
  private readonly mainPin = new MainThreadPin();

  constructor(opts: HypervisorOptions) {
    this.frames = new FrameAllocator(opts.machineMemory);
  }

  /** Creates and boots a VM (its vCPUs start with start()). */
  createVm(config: VmConfig): Vm {
    const vm = new Vm(config, this.frames, this.doorbell);
    this.vms.push(vm);
    void vm.result.then(() => {
      const i = this.vms.indexOf(vm);
      if (i >= 0) this.vms.splice(i, 1);
    });
    return vm;
  }

  /** Starts a VM's vCPUs and makes sure the service loop runs. */
  start(vm: Vm): void {
    const pin = vm.config.pin;
    if (pin === undefined) {
      vm.start();
    } else {
      // Pinned before its vCPU threads start: they inherit this core and move to their own first thing.
      this.mainPin.acquire(pin.main);
      try {
        vm.start();
      } catch (e) {
        this.mainPin.release();
        throw e;
      }
      void vm.result.finally(() => this.mainPin.release());
    }
    this.serving ??= this.serve().finally(() => (this.serving = undefined));
  }

  private async serve(): Promise<void> {
    const vms = this.vms;
    const guard = this.spinGuard;
    let lastTick = 0;
    let lastYield = performance.now();
    let lastExit = 0;
    let sawExit = false;
    let rounds = 0;
    // The previous clock read: a gap to the next one shows whether the loop lost its core (wait.ts SpinGuard).
    let lastClock = lastYield;
    // Whether every round since lastClock found nothing to do: only such a stretch is pure polling, where a
    // gap means a lost core (a stretch that served exits may have spent its time on them, or in a GC).
    let idleStretch = true;
    // `poll`: the main thread's adaptive window, how long the idle period since the last exit polls, and when
    // it ran out in vain (-1: it has not).
    const window = this.pollWindow;
    let periodSpin = 0;
    let ranOutAt = -1;
    while (vms.length > 0) {
      let handled = 0;
      let spinning = false;
      let polling = false;
      for (let i = 0; i < vms.length; i++) {
        const vm = vms[i];
        if (!vm.running) continue;
        handled += vm.serve();
        spinning ||= vm.config.wait === "spin";
        polling ||= vm.config.wait === "poll";
      }
      if (handled > 0) {
        sawExit = true;
        idleStretch = false;
      }
      // Reading the clock costs as much as a poll of every run page: while busy (or spinning, or
      // polling), look at it only every few rounds.
      if ((handled > 0 || spinning || polling) && ++rounds % CLOCK_EVERY_ROUNDS !== 0) continue;
      const now = performance.now();
      // Only `poll` backs off: `spin` spins whatever it costs (that contention is one of the lab's experiments).
      if (polling && !spinning && idleStretch) guard.lostCore(lastClock, now);
      lastClock = now;
      idleStretch = true;
      if (sawExit) {
        // A new idle period: what the last one's poll window did teaches the window (wait.ts PollWindow).
        if (periodSpin > 0) {
          if (ranOutAt >= 0) window.ranOut(now - ranOutAt, now);
          else if (periodSpin < POLL_SPIN_MS) window.caught();
        }
        lastExit = now;
        sawExit = false;
        periodSpin = polling && !spinning ? window.spinMs(now) : 0;
        ranOutAt = -1;
      }
      if (now - lastTick >= TICK_MS) {
        for (const vm of vms) if (vm.running) vm.tick();
        lastTick = now;
      }
      // `poll` on the main thread too: keep polling for its window after the last exit (exits come in bursts),
      // then sleep on the doorbell in Atomics.wait for a while; `spin` never sleeps.
      let pollingOn = false;
      if (polling && periodSpin > 0 && ranOutAt < 0) {
        if (guard.backingOff(now)) periodSpin = 0; // it lost its core meanwhile: the window teaches nothing
        else if (now - lastExit < periodSpin) pollingOn = true;
        else ranOutAt = now;
      }
      if (handled > 0 || spinning || pollingOn || (polling && now - lastExit < DOORBELL_SYNC_MS)) {
        // Let the event loop in every millisecond, whether polling or sleeping.
        if (now - lastYield >= SPIN_YIELD_MS) {
          await yieldToEventLoop();
          lastYield = lastClock = performance.now();
        } else if (handled === 0 && !spinning && !pollingOn) {
          if (this.sleepOnDoorbell(Math.min(lastExit + DOORBELL_SYNC_MS, lastYield + SPIN_YIELD_MS, lastTick + TICK_MS) - now) > 0) sawExit = true;
          lastClock = performance.now();
        }
        continue;
      }
      if (!vms.some((vm) => vm.running)) break;
      // Nothing to do and nobody spinning: sleep until a vCPU rings (or a timer is due).
      const seen = Atomics.load(this.doorbellWord, 0);
      let more = 0;
      for (const vm of vms) if (vm.running) more += vm.serve();
      if (more > 0) continue;
      const wait = Atomics.waitAsync(this.doorbellWord, 0, seen, DOORBELL_SLEEP_MS);
      if (wait.async) await wait.value;
      lastYield = lastClock = performance.now();
    }
  }

  /**
   * Blocks the main thread (event loop included) for at most `ms` until a
   * vCPU rings the doorbell. A futex wake-up, unlike waitAsync's, needs no
   * trip through the event loop (p99 12 µs against 340 µs measured beside
   * stress-ng --cpu 2); `ms` stays within the loop's yield period, as a
   * spin would. Returns how many exits it served instead (those posted
   * before it read the doorbell, which rang too early to wake it).
   */
  private sleepOnDoorbell(ms: number): number {
    if (ms <= 0) return 0;
    const seen = Atomics.load(this.doorbellWord, 0);
    let handled = 0;
    for (const vm of this.vms) if (vm.running) handled += vm.serve();
    if (handled === 0) Atomics.wait(this.doorbellWord, 0, seen, ms);
    return handled;
  }
}
