/*
 * The hypervisor: machine memory, the VMs, and the main thread's service
 * loop, which handles exits from every vCPU of every VM.
 *
 * The loop never blocks the main thread's event loop for long: timers,
 * stdin, comlink replies and the CLI's own work run in between. How it
 * waits for the next exit follows the VMs' policy: with any `spin` VM it
 * polls the run pages continuously (and yields every millisecond); with a
 * `poll` VM it keeps polling for POLL_SPIN_MS after the last exit, then
 * sleeps (and when its polling has lost the core to other threads, an
 * oversubscribed host, wait.ts SpinGuard, it sleeps through that window too,
 * in Atomics.wait on the doorbell); otherwise it sleeps on the doorbell with
 * Atomics.waitAsync. Every vCPU bumps the doorbell when it posts an exit.
 */

import { FrameAllocator } from "./frames.ts";
import { Vm, type VmConfig } from "./vm.ts";
import { POLL_SPIN_MS, SpinGuard } from "./wait.ts";

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
    vm.start();
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
        lastExit = now;
        sawExit = false;
      }
      if (now - lastTick >= TICK_MS) {
        for (const vm of vms) if (vm.running) vm.tick();
        lastTick = now;
      }
      // `poll` on the main thread too: keep spinning for a while after the last exit (exits come in
      // bursts), then sleep. `spin` never sleeps.
      if (handled > 0 || spinning || (polling && now - lastExit < POLL_SPIN_MS)) {
        // Busy: keep polling the run pages, but let the event loop in every millisecond.
        if (now - lastYield >= SPIN_YIELD_MS) {
          await yieldToEventLoop();
          lastYield = lastClock = performance.now();
        } else if (handled === 0 && !spinning && guard.backingOff(now)) {
          // An oversubscribed host: what is left of the poll window is slept on the doorbell instead.
          if (this.sleepOnDoorbell(Math.min(lastExit + POLL_SPIN_MS, lastYield + SPIN_YIELD_MS) - now) > 0) sawExit = true;
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
