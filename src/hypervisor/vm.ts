/*
 * A virtual machine: guest memory, its own instances of the board's devices
 * (the machine's device models, owned here by the hypervisor), one run page
 * and one worker thread per vCPU, and the main-thread half of the exit path.
 */

import * as Comlink from "comlink";
import { Worker } from "node:worker_threads";
import type { Clint } from "../devices/clint.ts";
import type { InterruptSink } from "../devices/device.ts";
import type { Plic } from "../devices/plic.ts";
import type { FinisherEvent, SifiveTest } from "../devices/sifive-test.ts";
import type { Uart16550 } from "../devices/uart16550.ts";
import { REGISTER_WORDS, X0_SINK as X0_SINK_INDEX } from "../isa/ops.ts";
import { BoardDevices } from "../machine/board-devices.ts";
import type { Bus } from "../machine/bus.ts";
import { comlinkWrap, nodeEndpoint } from "./comlink-node.ts";
import { EXIT_CONTINUE, EXIT_STOP, EXIT_WAIT, TrapDispatcher, type MainThreadExits } from "./exits/dispatch.ts";
import { performMmio } from "./exits/mmio.ts";
import { fastCsr } from "./exits/csr.ts";
import { fromPredecoded } from "./exits/decode-trap.ts";
import { injectPendingInterrupt } from "./exits/reflect.ts";
import type { VmServices } from "./exits/services.ts";
import type { FrameAllocator } from "./frames.ts";
import { GuestMemory } from "./guest-memory.ts";
import { Peers, wakeVcpu } from "./peers.ts";
import * as P from "./runpage.ts";
import { readStats, type ExitStatName } from "./stats.ts";
import { VcpuContext, VmClock } from "./vcpu-context.ts";
import type { LatencySummary, VcpuConfig, VcpuControl } from "./vcpu-runner.ts";
import { bootVm, type VmImages } from "./vm-boot.ts";
import type { ExitObserver } from "./exit-observer.ts";
import { VmHtif } from "./vm-htif.ts";
import { waitPolicyCode, type WaitPolicy } from "./wait.ts";
import type { VcpuFinished } from "./vcpu-finished.ts";

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

const WORKER_ENTRY = new URL("../../workers/vcpu-boot.js", import.meta.url);
/** Instructions per vCPU slice: bounds how long a running vCPU takes to notice an IPI or a device interrupt. */
const DEFAULT_SLICE = 10_000;

export class Vm implements VmServices, MainThreadExits {
  readonly memory: GuestMemory;
  /** This VM's own instances of the board's devices (the machine's models). */
  readonly devices: BoardDevices;
  readonly bus: Bus;
  readonly uart: Uart16550;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly finisher: SifiveTest;
  readonly clock = new VmClock(VmClock.now());
  readonly pages: P.RunPage[] = [];
  readonly contexts: VcpuContext[] = [];
  readonly peers: Peers;
  private readonly dispatchers: TrapDispatcher[] = [];
  /** A register file for CSR exits emulated from the mailbox (see serve); only the operand's pair is live. */
  private readonly scratch = new Int32Array(REGISTER_WORDS);
  private readonly workers: Worker[] = [];
  private readonly controls: Comlink.Remote<VcpuControl>[] = [];
  private readonly waitCode: number;
  /** The vCPUs may sleep in Atomics.wait (block, poll): each resume must notify. */
  private readonly wakeOnResume: boolean;
  private finished: Omit<VmResult, "reports"> | undefined;
  private resolveResult: (r: VmResult) => void = () => {};
  /** Resolves when the VM has stopped, for whatever reason. */
  readonly result: Promise<VmResult>;
  sbiByHypervisor = false;
  /** HTIF (vm-htif.ts), polled with the device tick, when the kernel has `tohost`. */
  private readonly htif: VmHtif | undefined;
  /** Sees every exit before and after it is served (the lockstep check, src/hypervisor/exit-observer.ts). */
  observer: ExitObserver | undefined;

  constructor(
    readonly config: VmConfig,
    private readonly frames: FrameAllocator,
    private readonly doorbell: SharedArrayBuffer,
  ) {
    this.result = new Promise((resolve) => (this.resolveResult = resolve));
    this.waitCode = waitPolicyCode(config.wait);
    this.wakeOnResume = config.wait !== "spin";
    this.memory = new GuestMemory(frames, config.memSize);
    for (let h = 0; h < config.vcpus; h++) {
      const page = new P.RunPage();
      page.waitPolicy[0] = this.waitCode;
      this.pages.push(page);
      const ctx = new VcpuContext(h, page, this.clock);
      // A time read emulated here also brings the virtual mtimecmp comparators up to date.
      ctx.onTimeRead = () => this.clint.update();
      this.contexts.push(ctx);
    }
    this.peers = new Peers(this.pages, this.memory.ramBase, this.memory.ramSize);
    // Device lines drive the virtual harts' mip bits and wake a vCPU sleeping in wfi.
    const sink: InterruptSink = {
      setPending: (hart, bit, level) => {
        const ctx = this.contexts[hart];
        if (ctx === undefined) return;
        ctx.csr.setHwPending(bit, level);
        if (level) wakeVcpu(ctx.page);
      },
    };
    this.devices = new BoardDevices({ harts: config.vcpus, clock: this.clock, sink, output: config.output, onFinish: (e) => this.onFinisher(e) });
    this.bus = this.devices.bus;
    this.clint = this.devices.clint;
    this.plic = this.devices.plic;
    this.uart = this.devices.uart;
    this.finisher = this.devices.finisher;
    this.sbiByHypervisor = bootVm(this.memory, this.contexts, config.images);
    this.htif = VmHtif.forImages(config.images, this.memory, frames.mem.i32, config.output);
    for (const ctx of this.contexts) this.dispatchers.push(new TrapDispatcher(ctx, this.sbiByHypervisor, this, this));
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
    const satp = this.memory.satp();
    const buffers = this.pages.map((p) => p.buffer);
    for (let h = 0; h < this.config.vcpus; h++) {
      const config: VcpuConfig = {
        hartId: h,
        memory: this.frames.mem.memory,
        memorySize: this.frames.mem.size,
        pages: buffers,
        doorbell: this.doorbell,
        vmStartMs: this.clock.startMs,
        satpLo: satp.lo,
        satpHi: satp.hi,
        ramBase: this.memory.ramBase,
        ramSize: this.memory.ramSize,
        sbiByHypervisor: this.sbiByHypervisor,
        handleLocally: this.config.exitHandler === "vcpu",
        wait: this.waitCode,
        slice: this.config.slice ?? DEFAULT_SLICE,
      };
      const worker = new Worker(WORKER_ENTRY, { workerData: config });
      worker.on("message", (m: unknown) => this.onWorkerMessage(h, m));
      worker.on("error", (e: Error) => this.fail(`vcpu ${h} crashed: ${e.message}`));
      worker.on("exit", (code) => {
        if (this.running) this.fail(`vcpu ${h} thread exited unexpectedly (code ${code})`);
      });
      this.workers.push(worker);
      this.controls.push(comlinkWrap<VcpuControl>(nodeEndpoint(worker)));
    }
  }

  /** Handles every exit now pending on this VM's vCPUs; returns how many. */
  serve(): number {
    let handled = 0;
    for (let h = 0; h < this.pages.length; h++) {
      const page = this.pages[h];
      if (Atomics.load(page.state, 0) !== P.VCPU_EXIT) continue;
      handled++;
      this.observer?.exitPosted(h, page);
      if (this.serveCsrFromMailbox(page, this.contexts[h])) continue;
      // The handler may name a result register (ctx.setResultPair: an MMIO load's value).
      page.exit[P.EXIT_RESULT_REG] = P.NO_RESULT_REG;
      const answer = this.serveExit(h, page);
      if (!this.running) return handled;
      page.exit[P.EXIT_REASON] = answer;
      this.resumeVcpu(page);
    }
    return handled;
  }

  /**
   * The hottest exit: a plain CSR access, emulated from the mailbox alone —
   * its operand in, its result out — without touching the vCPU's registers,
   * whose cache lines stay on the vCPU's core. The answer is written in one
   * burst just before the state flips: the vCPU is spinning on this line, and
   * every store that reaches it after the vCPU has re-read it costs another
   * transfer of the line. False if the exit needs the general path.
   */
  private serveCsrFromMailbox(page: P.RunPage, ctx: VcpuContext): boolean {
    const w0 = page.exitDecoded[0];
    if (w0 === 0 || page.exit[P.EXIT_REASON] !== P.REASON_TRAP) return false;
    const scratch = this.scratch;
    const rs1 = (w0 >>> 16) & 0xff;
    scratch[rs1] = page.exitOperand[0];
    scratch[rs1 + 1] = page.exitOperand[1];
    const next = fastCsr(ctx, scratch, w0, page.exitDecoded[1], page.pc[0]);
    if (next < 0) return false;
    const rd = (w0 >>> 8) & 0xff;
    const lo = scratch[rd];
    const hi = scratch[rd + 1];
    page.pc[0] = next;
    page.exitOperand[0] = lo;
    page.exitOperand[1] = hi;
    page.exit[P.EXIT_RESULT_REG] = rd === X0_SINK_INDEX ? P.NO_RESULT_REG : rd;
    page.exit[P.EXIT_REASON] = P.RESUME_CSR;
    this.resumeVcpu(page);
    return true;
  }

  /** Any other exit, through the dispatcher; returns the answer (RESUME_RUN or RESUME_WAIT). */
  private serveExit(h: number, page: P.RunPage): number {
    const ctx = this.contexts[h];
    if (page.exit[P.EXIT_REASON] === P.REASON_INTERRUPT) {
      injectPendingInterrupt(ctx);
      return P.RESUME_RUN;
    }
    const w0 = page.exitDecoded[0];
    const insn = page.exit[P.EXIT_INSN];
    const decoded = w0 !== 0 ? fromPredecoded(insn, w0, page.exitDecoded[1]) : undefined;
    const dispatcher = this.dispatchers[h];
    const outcome = dispatcher.dispatch(page.exit[P.EXIT_CAUSE], page.exitTval[0], ctx.pc, insn, decoded);
    if (outcome === EXIT_WAIT) return P.RESUME_WAIT;
    if (outcome === EXIT_STOP) this.fail(dispatcher.stopReason);
    else if (outcome !== EXIT_CONTINUE) this.fail(`vcpu ${h}: exit could not be handled`);
    return P.RESUME_RUN;
  }

  /** Hands the vCPU back: flips its state, and wakes it if it may be asleep. */
  private resumeVcpu(page: P.RunPage): void {
    this.observer?.exitServed(page);
    Atomics.store(page.state, 0, P.VCPU_RUNNING);
    if (this.wakeOnResume) Atomics.notify(page.state, 0);
  }

  /** Periodic device work on the main thread: the CLINT's comparators, and HTIF's tohost. */
  tick(): void {
    this.clint.update();
    const code = this.htif?.poll();
    if (code !== undefined) this.stop("htif", code);
  }

  // ---- control plane (comlink to each vCPU thread) ----

  /** Parks every vCPU at its next slice boundary; resolves when all are parked. */
  async pause(): Promise<void> {
    await Promise.all(this.controls.map((c) => c.pause()));
  }

  async resume(): Promise<void> {
    await Promise.all(this.controls.map((c) => c.resume()));
  }

  /** A vCPU's pc and x0..x31 (unsigned hex strings). */
  registers(hart: number): Promise<{ pc: number; x: string[] }> {
    return this.control(hart).registers();
  }

  /** Writes xN or pc of a paused vCPU. */
  setRegister(hart: number, reg: number | "pc", value: bigint): Promise<void> {
    return this.control(hart).setRegister(reg, "0x" + BigInt.asUintN(64, value).toString(16));
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

  private control(hart: number): Comlink.Remote<VcpuControl> {
    const c = this.controls[hart];
    if (c === undefined) throw new RangeError(`${this.name}: no vCPU ${hart}`);
    return c;
  }

  /** Host keyboard input for the guest's console. */
  input(bytes: Uint8Array): void {
    this.uart.receive(bytes);
  }

  async reports(): Promise<VcpuReport[]> {
    const out: VcpuReport[] = [];
    for (let h = 0; h < this.pages.length; h++) {
      let latency: LatencySummary | undefined;
      try {
        latency = await withTimeout(this.controls[h]?.latency(), 500);
      } catch {
        latency = undefined;
      }
      out.push({ hart: h, stats: readStats(this.pages[h]), latency });
    }
    return out;
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
    await Promise.all(this.workers.map((w) => w.terminate().catch(() => 0)));
    this.memory.release();
    return reports;
  }

  /** Ends a vCPU's thread abruptly, as a crash would (the lab's fault-injection knob); the VM then stops with an error. */
  async killVcpu(hart: number): Promise<void> {
    await this.workers[hart]?.terminate();
  }

  /** Stops the VM because something went wrong; other VMs are not affected. */
  fail(message: string): void {
    this.stop("error", 1, message);
  }

  // ---- MainThreadExits ----
  mapRam(gpa: number): boolean {
    return this.memory.ensureMapped(gpa);
  }
  mmio(ctx: VcpuContext, gpa: number, insn: number, pc: number): boolean {
    return performMmio(this.bus, ctx, gpa, insn, pc);
  }

  // ---- VmServices ----
  consoleWrite(bytes: Uint8Array): void {
    for (const b of bytes) this.config.output(b);
  }
  consoleRead(): number {
    const LSR = 5;
    const RBR = 0;
    return (this.uart.read(LSR, 1) & 1) !== 0 ? this.uart.read(RBR, 1) : -1;
  }
  readGuest(gpa: number, length: number): Uint8Array | undefined {
    return this.memory.read(gpa, length);
  }
  writeGuest(gpa: number, bytes: Uint8Array): boolean {
    return this.memory.write(gpa, bytes);
  }
  shutdown(exitCode: number): void {
    this.stop("shutdown", exitCode);
  }
  reboot(): void {
    this.stop("reboot", 0);
  }
  hartState(hart: number): number {
    return this.peers.hartState(hart);
  }
  hartStart(hart: number, start: number, opaque: number): number {
    return this.peers.hartStart(hart, start, opaque);
  }
  hartStop(hart: number): void {
    this.peers.hartStop(hart);
  }
  hartSuspend(hart: number, resumeAddr?: number): number {
    return this.peers.hartSuspend(hart, resumeAddr);
  }
  sendIpi(hart: number): void {
    this.peers.sendIpi(hart);
  }
  remoteFenceI(hart: number): void {
    this.peers.remoteFenceI(hart);
  }

  private onFinisher(e: FinisherEvent): void {
    if (e.kind === "reset") this.stop("reboot", 0);
    else this.stop("finisher", e.kind === "pass" ? 0 : e.code);
  }

  private onWorkerMessage(hart: number, m: unknown): void {
    if (typeof m !== "object" || m === null || (m as { popek?: unknown }).popek !== "vcpu-finished") return;
    const done = m as VcpuFinished;
    if (done.error !== undefined) this.fail(`vcpu ${hart} crashed: ${done.error.message}`);
    else if (done.stopReason !== "") this.fail(done.stopReason);
  }
}

function withTimeout<T>(p: Promise<T> | undefined, ms: number): Promise<T | undefined> {
  if (p === undefined) return Promise.resolve(undefined);
  return Promise.race([p, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())]);
}
