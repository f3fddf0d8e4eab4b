/*
 * A virtual machine: guest memory, its own devices (from its device list,
 * the machine's models, owned here by the hypervisor), one run page per
 * vCPU, and its lifetime (running until a guest or the user stops it). The
 * other jobs live beside it: vcpu-threads.ts runs the vCPU threads,
 * vm-exits.ts serves their exits on the main thread, vm-services.ts answers
 * what exit handlers ask of the VM.
 */

import { CLINT, type Clint } from "../devices/clint.ts";
import type { HartLines, PowerEvent } from "../devices/device.ts";
import { UART_16550, type Uart16550 } from "../devices/uart16550.ts";
import { boardDevices, type DeviceSpec } from "../machine/board-devices.ts";
import { Bus } from "../machine/bus.ts";
import { vcpuArenaCodeMap, vcpuArenaRegs } from "../machine/jit/wasm-arena.ts";
import { DeviceSet } from "../machine/device-set.ts";
import { assignDevice } from "./assign.ts";
import type { FrameAllocator } from "./frames.ts";
import { GuestMemory } from "./guest-memory.ts";
import { Peers, wakeVcpu } from "./peers.ts";
import * as P from "./runpage.ts";
import { readStats, type ExitStatName } from "./stats.ts";
import { VcpuContext, VmClock } from "./vcpu-context.ts";
import type { LatencySummary, VcpuConfig } from "./vcpu-runner.ts";
import { VcpuThreads } from "./vcpu-threads.ts";
import { bootVm, type VmImages } from "./vm-boot.ts";
import { VmExitServer } from "./vm-exits.ts";
import { VmDebug } from "./vm-debug.ts";
import { MainThreadServices } from "./vm-services.ts";
import { waitPolicyCode, type WaitPolicy } from "./wait.ts";
import type { ExitObserver } from "./exit-observer.ts";
import { VmHtif } from "./vm-htif.ts";
import type { MmuMode } from "../machine/swtlb.ts";
import { virtualSoftTlbHost } from "./swtlb-virt.ts";
import { ShadowMmu } from "./shadow/shadow-mmu.ts";
import type { IsaVariant } from "../machine/isa-variant.ts";
import type { NonvirtFix } from "./nonvirt/code-scanner.ts";
import { ConfigError } from "../errors.ts";
import { defaultShadowPages, ShadowState, type ShadowCoherence } from "./shadow/shadow-state.ts";
import type { IoEventConfig } from "./ioevents.ts";
import type { PinLayout } from "../host/affinity.ts";
import { samplerThreadId } from "../host/core-sharing.ts";

export type ExitHandlerPlace = "main" | "vcpu";

export interface VmConfig {
  readonly name: string;
  readonly vcpus: number;
  readonly memSize: number;
  readonly images: VmImages;
  readonly wait: WaitPolicy;
  readonly exitHandler: ExitHandlerPlace;
  /** The UART's (and SBI console's) output. */
  readonly output: (byte: number) => void;
  /** Instructions per vCPU slice. */
  readonly slice?: number;
  /** This VM's devices (a device table); the popek board's by default. */
  readonly devices?: readonly DeviceSpec[];
  /** The real hart's MMU (--mmu); "swtlb" also gives the guest a soft TLB to refill (swtlb-virt.ts). */
  readonly mmu?: MmuMode;
  /** Machine frames per vCPU for shadow page tables (--shadow-pages); defaultShadowPages(memSize) by default. */
  readonly shadowPages?: number;
  /** The real harts' instruction-set variant (--isa-variant, src/machine/isa-variant.ts); default standard. */
  readonly isaVariant?: IsaVariant;
  /** --nonvirt-fix: "scan" runs the code scanner on each vCPU (nonvirt/code-scanner.ts); default none. */
  readonly nonvirtFix?: NonvirtFix;
  /** --virt hw: virtual S and U run in the real hart's VS/VU modes over a G-stage (hw-mode.ts). */
  readonly hw?: boolean;
  /** How shadow page tables stay coherent with the guest's (--shadow-coherence; shadow/shadow-state.ts): "tlb" by default. */
  readonly shadowCoherence?: ShadowCoherence;
  /** --pin: the core of the main thread and of each vCPU thread (src/host/affinity.ts); unpinned by default. */
  readonly pin?: PinLayout;
}

export type VmOutcome = "finisher" | "htif" | "shutdown" | "reboot" | "error" | "stopped";

export interface VmResult {
  readonly outcome: VmOutcome;
  readonly exitCode: number;
  /** For "error": what went wrong, in one line. */
  readonly message?: string;
  /** Per-vCPU counters and exit latency, collected as the VM stopped. */
  readonly reports: readonly VcpuReport[];
}

export interface VcpuReport {
  readonly hart: number;
  readonly stats: Record<ExitStatName, number>;
  readonly latency?: LatencySummary;
}

/** Instructions per vCPU slice: bounds how long a running vCPU takes to notice an IPI or a device interrupt. */
const DEFAULT_SLICE = 10_000;

export class Vm {
  readonly memory: GuestMemory;
  /** This VM's own devices, made from its device list. */
  readonly devices: DeviceSet;
  readonly clock = new VmClock(VmClock.now());
  readonly pages: P.RunPage[] = [];
  readonly contexts: VcpuContext[] = [];
  readonly peers: Peers;
  /** Each vCPU's shadow page tables (shadow/), as the main thread handles them during that vCPU's exits. */
  readonly shadows: ShadowMmu[] = [];
  readonly sbiByHypervisor: boolean;
  /** Resolves when the VM has stopped, for whatever reason. */
  readonly result: Promise<VmResult>;
  private readonly clint: Clint | undefined;
  private readonly uart: Uart16550 | undefined;
  private readonly exits: VmExitServer;
  private readonly threads: VcpuThreads;
  private readonly waitCode: number;
  private finished: Omit<VmResult, "reports"> | undefined;
  /** Each vCPU's wasm arena span in machine memory (FrameAllocator.claimArena), -1 for none. */
  private readonly arenas: number[] = [];
  private resolveResult: (r: VmResult) => void = () => {};
  /** HTIF (vm-htif.ts), polled with the device tick, when the kernel has `tohost`. */
  private readonly htif: VmHtif | undefined;
  /** Halting and resuming the vCPUs for a debugger, and its breakpoints (vm-debug.ts). */
  readonly debug: VmDebug;
  /** Per vCPU, its exit-trace rings (src/trace/buffers.ts) when the run is traced; set before start(). */
  traceBuffers: readonly SharedArrayBuffer[] | undefined;

  constructor(
    readonly config: VmConfig,
    private readonly frames: FrameAllocator,
    private readonly doorbell: SharedArrayBuffer,
  ) {
    this.result = new Promise((resolve) => (this.resolveResult = resolve));
    this.waitCode = waitPolicyCode(config.wait);
    if (config.nonvirtFix === "scan" && config.vcpus > 1) throw new ConfigError("vm: the code scanner (--nonvirt-fix scan) runs on one vCPU");
    if (config.pin !== undefined && config.pin.vcpus.length !== config.vcpus) throw new ConfigError(`vm: --pin gives ${config.pin.vcpus.length} vCPU core(s) for ${config.vcpus} vCPU(s)`);
    if (config.nonvirtFix === "scan" && config.hw === true) throw new ConfigError("vm: the code scanner (--nonvirt-fix scan) is a trap-and-emulate fix; --virt hw needs none");
    // The vCPUs' wasm arenas, where free: a vCPU's registers live there, where its wasm blocks read them.
    for (let h = 0; h < config.vcpus; h++) this.arenas.push(frames.claimArena());
    try {
      // The vCPUs share one code map (machine/code-writes.ts): the first arena's, where wasm blocks read it.
      const withArena = this.arenas.find((at) => at >= 0);
      this.memory = new GuestMemory(frames, config.memSize, config.nonvirtFix === "scan", config.hw === true, withArena === undefined ? -1 : vcpuArenaCodeMap(withArena));
      for (let h = 0; h < config.vcpus; h++) {
        const arena = this.arenas[h];
        const page = new P.RunPage(undefined, arena < 0 ? undefined : vcpuArenaRegs(frames.mem.buffer, arena, frames.mem.pages));
        page.waitPolicy[0] = this.waitCode;
        this.pages.push(page);
        const ctx = new VcpuContext(h, page, this.clock);
        // A time read emulated here also brings the virtual mtimecmp comparators up to date.
        ctx.onTimeRead = () => this.clint?.update();
        if (config.mmu === "swtlb") ctx.softTlb = virtualSoftTlbHost(ctx);
        this.contexts.push(ctx);
        const shadow = ShadowState.create(frames, config.shadowPages ?? defaultShadowPages(config.memSize), config.shadowCoherence);
        this.shadows.push(new ShadowMmu(shadow.buffer, frames.mem, this.memory.view, ctx.stats));
      }
      this.peers = new Peers(this.pages, this.memory.ramBase, this.memory.ramSize);
      // Device lines drive the virtual harts' mip bits and wake a vCPU sleeping in wfi.
      const harts: HartLines = {
        count: config.vcpus,
        setPending: (hart, irq, level) => {
          const ctx = this.contexts[hart];
          if (ctx === undefined) return;
          ctx.csr.setHwPending(irq, level);
          if (level) wakeVcpu(ctx.page);
        },
      };
      const bus = new Bus();
      this.devices = new DeviceSet(config.devices ?? boardDevices(), {
        harts,
        clock: this.clock,
        memory: this.memory.view,
        host: { consoleOut: config.output, power: (e) => this.onPower(e), doorbell, guestMap: this.memory.map },
        bus,
        direct: (spec) => assignDevice(spec, this.memory, frames, this.pages),
      });
      this.clint = this.devices.find(CLINT);
      this.uart = this.devices.find(UART_16550);
      this.sbiByHypervisor = bootVm(this.memory, this.contexts, config.images, this.devices.specs);
      const services = new MainThreadServices(config.vcpus, this.memory.view, this.peers, this.shadows, this.uart, {
        output: config.output,
        shutdown: (code) => this.stop("shutdown", code),
        reboot: () => this.stop("reboot", 0),
      });
      this.exits = new VmExitServer(this.pages, this.contexts, this.shadows, this.memory, bus, this, config.wait !== "spin", this.sbiByHypervisor, services);
      this.debug = new VmDebug(this.pages, this.exits, this);
      this.threads = new VcpuThreads(config.name, this);
      this.htif = VmHtif.forImages(config.images, this.memory, config.output);
    } catch (e) {
      // A VM that was never made holds nothing: not its arena spans, shadow tables or frames.
      this.releaseHeld();
      throw e;
    }
  }

  get name(): string {
    return this.config.name;
  }
  get running(): boolean {
    return this.finished === undefined;
  }
  get hartCount(): number {
    return this.config.vcpus;
  }

  /** Spawns one worker thread per vCPU. */
  start(): void {
    this.threads.start(this.vcpuConfigs());
  }

  /** What each vCPU thread is started with: plain data and shared buffers only. */
  vcpuConfigs(): VcpuConfig[] {
    const satp = this.memory.satp();
    const hgatp = this.config.hw === true ? this.memory.hgatp() : undefined;
    const buffers = this.pages.map((p) => p.buffer);
    const ioEvents: IoEventConfig[] = [];
    for (const { spec, device } of this.devices.instances) for (const e of device.ioEvents?.() ?? []) ioEvents.push({ gpa: spec.base + e.offset, value: e.value, table: e.table });
    const configs: VcpuConfig[] = [];
    // The thread that starts the vCPUs is the one that serves their exits (hypervisor.ts).
    const mainThreadId = samplerThreadId();
    for (let h = 0; h < this.config.vcpus; h++) {
      configs.push({
        hartId: h,
        memory: this.frames.mem.memory,
        memorySize: this.frames.mem.size,
        arenaAt: this.arenas,
        pages: buffers,
        doorbell: this.doorbell,
        vmStartMs: this.clock.startMs,
        satpLo: satp.lo,
        satpHi: satp.hi,
        guestMap: this.memory.map,
        shadow: this.shadows[h].state.buffer,
        sbiByHypervisor: this.sbiByHypervisor,
        handleLocally: this.config.exitHandler === "vcpu",
        wait: this.waitCode,
        slice: this.config.slice ?? DEFAULT_SLICE,
        mmu: this.config.mmu,
        isaVariant: this.config.isaVariant,
        scanCode: this.config.nonvirtFix === "scan",
        hgatp,
        trace: this.traceBuffers?.[h],
        ioEvents,
        pinCpu: this.config.pin?.vcpus[h],
        mainThreadId,
        debugBreakpoints: this.debug.breakpoints.buffer,
      });
    }
    return configs;
  }

  /** Sees every exit that crosses to the main thread (the lockstep check, exit-observer.ts). */
  set observer(observer: ExitObserver | undefined) {
    this.exits.observer = observer;
  }

  /**
   * Handles every exit now pending on this VM's vCPUs, then polled device
   * work (DeviceKind.poll); returns how many exits, plus one if a device
   * worked — the service loop keeps polling while either happens.
   */
  serve(): number {
    const handled = this.exits.serve();
    return this.devices.poll() ? handled + 1 : handled;
  }

  /** Periodic device work on the main thread: the CLINT's comparators, and HTIF's tohost. */
  tick(): void {
    this.clint?.update();
    const code = this.htif?.poll();
    if (code !== undefined) this.stop("htif", code);
  }

  // ---- control plane (comlink to each vCPU thread) ----

  /** Parks every vCPU at its next slice boundary; resolves when all are parked. */
  pause(): Promise<void> {
    return this.threads.pause();
  }

  resume(): Promise<void> {
    return this.threads.resume();
  }

  /** A vCPU's pc and x0..x31 (unsigned hex strings). */
  registers(hart: number): Promise<{ pc: number; x: string[] }> {
    return this.threads.control(hart).registers();
  }

  /** Writes xN or pc of a paused vCPU. */
  setRegister(hart: number, reg: number | "pc", value: bigint): Promise<void> {
    return this.threads.control(hart).setRegister(reg, "0x" + BigInt.asUintN(64, value).toString(16));
  }

  /** Exit counters of every vCPU, summed: the VM's row. */
  totals(): Record<ExitStatName, number> {
    const sum = readStats(this.pages[0]);
    for (let h = 1; h < this.pages.length; h++) {
      const s = readStats(this.pages[h]);
      for (const k of Object.keys(sum) as ExitStatName[]) sum[k] += s[k];
    }
    return sum;
  }

  /** Host keyboard input for the guest's consoles: the UART (if the VM has one) and a virtio-console. */
  input(bytes: Uint8Array): void {
    this.uart?.receive(bytes);
    this.devices.input(bytes);
  }

  async reports(): Promise<VcpuReport[]> {
    const latencies = await this.threads.latencies();
    return this.pages.map((page, h) => ({ hart: h, stats: readStats(page), latency: latencies[h] }));
  }

  /** Stops the VM from outside (timeout, user). */
  stop(outcome: VmOutcome = "stopped", exitCode = 0, message?: string): void {
    if (this.finished !== undefined) return;
    const finished = { outcome, exitCode, message };
    this.finished = finished;
    for (const page of this.pages) {
      Atomics.or(page.control, 0, P.CONTROL_STOP);
      Atomics.store(page.state, 0, P.VCPU_STOPPED);
      Atomics.notify(page.state, 0);
      wakeVcpu(page);
    }
    void this.teardown().then((reports) => this.resolveResult({ ...finished, reports }));
  }

  /** Collects the vCPUs' reports while their threads still answer, then ends the threads and frees the frames. */
  private async teardown(): Promise<VcpuReport[]> {
    const reports = await this.reports();
    await this.threads.terminate();
    // No device may write these frames once another VM can have them: late completions are dropped, I/O in flight drains.
    this.devices.reset();
    await this.devices.quiesce();
    this.releaseHeld();
    return reports;
  }

  /** Gives back the shadow tables' frames, the arena spans and the guest's frames (no thread runs on them any more). */
  private releaseHeld(): void {
    for (const shadow of this.shadows) {
      shadow.freeAll();
      shadow.state.release(this.frames);
    }
    for (const arena of this.arenas) if (arena >= 0) this.frames.releaseArena(arena);
    this.arenas.length = 0;
    // Undefined only when the constructor failed before it was made.
    (this.memory as GuestMemory | undefined)?.release();
  }

  /** Ends a vCPU's thread abruptly, as a crash would (the lab's fault-injection knob); the VM then stops with an error. */
  killVcpu(hart: number): Promise<void> {
    return this.threads.kill(hart);
  }

  /** Stops the VM because something went wrong; other VMs are not affected. */
  fail(message: string): void {
    this.stop("error", 1, message);
  }

  private onPower(e: PowerEvent): void {
    if (e.kind === "reset") this.stop("reboot", 0);
    else this.stop("finisher", e.kind === "pass" ? 0 : e.code);
  }
}
