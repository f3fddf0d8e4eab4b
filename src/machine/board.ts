/*
 * The popek board: harts, RAM and the QEMU-virt devices wired together
 * (interrupt lines, clock), plus booting: images placed as QEMU places them,
 * the device tree at the top of RAM, a0 = hart id and a1 = the tree's address.
 * It knows nothing about virtual machines; the hypervisor builds its own VMs.
 */

import type { MmuMode } from "./swtlb.ts";
import type { IsaVariant } from "./isa-variant.ts";
import { CLINT, type Clint } from "../devices/clint.ts";
import type { HartLines, PowerEvent } from "../devices/device.ts";
import { UART_16550, type Uart16550 } from "../devices/uart16550.ts";
import { ConfigError } from "../errors.ts";
import { virtDevices, type DeviceSpec } from "./device-list.ts";
import { boardDeviceTree, checkBootRegions, imageRegions, initrdAddress, type BootRegion } from "./boot-layout.ts";
import { Bus } from "./bus.ts";
import { InstructionClock, RealClock, type ClockKind } from "./clock.ts";
import { DeviceSet } from "./device-set.ts";
import { Hart } from "./hart.ts";
import { htifMemoryOf, htifSymbols, pollHtif, type HtifMemory, type HtifSymbols } from "./htif.ts";
import { loadGuestImage, placeImage, type GuestImage } from "./image.ts";
import * as L from "./memlayout.ts";
import { PhysMem } from "./physmem.ts";
import { PhysMemView } from "./physmem-view.ts";
import { REG } from "../isa/regnames.ts";
import { sharedStateCsrStorage, ST_MIP_HW } from "./csr.ts";
import { DeviceContextWriter, newDeviceContext } from "../devices/assigned-nic/iommu.ts";

/** An IOMMU device context in Bare mode: DMA addresses are machine-physical (RAM only). */
function bareDeviceContext(): SharedArrayBuffer {
  const dc = newDeviceContext();
  new DeviceContextWriter(dc).bare();
  return dc;
}

/** Most harts a board may have (the PLIC has two contexts per hart within its window). */
export const MAX_HARTS = 64;

export interface BootImages {
  /** Firmware (--bios PATH): loaded at 0x8000_0000, runs first in M-mode. */
  readonly firmware?: Uint8Array;
  /** The kernel or bare-metal program: at its ELF addresses, flat at 0x8000_0000 without firmware and 0x8020_0000 with. */
  readonly kernel?: Uint8Array;
  readonly initrd?: Uint8Array;
  readonly append?: string;
}

export interface BoardConfig {
  readonly harts: number;
  readonly memSize: number;
  readonly clock: ClockKind;
  /** Where the UART's transmitter goes. */
  readonly output: (byte: number) => void;
  /** Run hot code as compiled blocks (HartOptions.jit); default: on unless POPEK_JIT=0. */
  readonly jit?: boolean;
  /** The harts' MMU (HartOptions.mmu): the Sv39 walker, or --mmu swtlb's software-refilled TLB. */
  readonly mmu?: MmuMode;
  /** The harts' instruction-set variant (--isa-variant, isa-variant.ts); default "standard". */
  readonly isaVariant?: IsaVariant;
  /** Interpreter visits before a block is compiled (PhysMem's; default HOT_THRESHOLD, tuned on boots). */
  readonly hotThreshold?: number;
  /** The board's devices (its device table); the popek board's by default. */
  readonly devices?: readonly DeviceSpec[];
  /** The harts implement the H extension (HartOptions.h; `--cpu rv64,h=true`): misa.H and `h` in the device tree's ISA string. */
  readonly h?: boolean;
}

/** Why a board stopped running. */
export type BoardExit =
  | { readonly kind: "finisher"; readonly code: number }
  | { readonly kind: "htif"; readonly code: number };

export class Board {
  readonly mem: PhysMem;
  /** RAM as the loader and the devices reach it. */
  readonly memory: PhysMemView;
  readonly bus = new Bus();
  readonly harts: Hart[] = [];
  readonly devices: DeviceSet;
  /** The timer the run loop sleeps on. */
  readonly clint: Clint;
  /** The console host input goes to. */
  readonly uart: Uart16550;
  readonly clock: RealClock | InstructionClock;
  /** Set by the finisher or HTIF; the run loop stops when it is. */
  exit: BoardExit | undefined;
  resetRequested = false;
  /** Bumped (and notified) by a device thread that posts an interrupt: the run loop, idle in wfi, wakes on it. */
  readonly wake = new Int32Array(new SharedArrayBuffer(4));
  /** Whether any device posts interrupts from its own thread (an assigned NIC): only then does idling watch `wake`. */
  postsInterrupts = false;
  /** Device work in flight off the main thread (DeviceHost.asyncIo): the run loop yields often while there is any. */
  ioInFlight = 0;
  /** The kernel's HTIF words, when its ELF has a `tohost` symbol. */
  htif: HtifSymbols | undefined;
  /**
   * Set by the run loop while every hart sleeps in wfi (runner.ts idle): a
   * device line rising meanwhile (a frame from the network, an I/O
   * completion, all from the host's event loop) ends the sleep at once
   * rather than at the next timer deadline.
   */
  wakeIdle: (() => void) | undefined;
  /** The board's RAM as HTIF sees it. */
  private readonly htifMemory: HtifMemory;
  fdtAddr = 0;
  private images: BootImages = {};
  private booted = false;

  constructor(readonly config: BoardConfig) {
    if (!Number.isInteger(config.harts) || config.harts < 1 || config.harts > MAX_HARTS) {
      throw new ConfigError(`--harts must be between 1 and ${MAX_HARTS}, got ${config.harts}`);
    }
    this.mem = new PhysMem(config.memSize, undefined, config.hotThreshold, config.harts);
    // The runner yields to the event loop every few milliseconds: wasm blocks can compile off this thread.
    if (this.mem.wasm !== undefined) this.mem.wasm.background = true;
    this.memory = new PhysMemView(this.mem);
    // Every writer of this RAM is on this thread or reports through this.memory, and forgets decoded code.
    this.mem.writesInvalidateCode = true;
    this.htifMemory = htifMemoryOf(this.memory);
    this.clock = config.clock === "icount" ? new InstructionClock(() => this.retired()) : new RealClock();
    // Harts first: the interrupt controllers drive their mip lines from construction on (MTIP is high at reset).
    const env = {
      mem: this.mem,
      bus: this.bus,
      mtime: () => this.clint.mtime(),
      // The time CSR: one reading of the clock serves the CLINT's comparators, Sstc's and the value read.
      readTime: () => {
        const now = this.clint.update();
        this.timeComparatorsChanged(now);
        return now;
      },
    };
    // Each hart's pending-interrupt word is shared memory: an assigned device's thread posts into it.
    const csrs = Array.from({ length: config.harts }, () => sharedStateCsrStorage());
    for (let id = 0; id < config.harts; id++) this.harts.push(new Hart(id, env, { csr: csrs[id], ...this.mem.arena?.hartStorage(id) }, { jit: config.jit, mmu: config.mmu, isaVariant: config.isaVariant, h: config.h }));
    const harts: HartLines = {
      count: config.harts,
      setPending: (hart, irq, level) => {
        this.harts[hart]?.csr.setHwPending(irq, level);
        if (level) this.wakeIdle?.();
      },
    };
    this.devices = new DeviceSet(config.devices ?? virtDevices(), {
      harts,
      clock: this.clock,
      memory: this.memory,
      host: {
        consoleOut: config.output,
        power: (e) => this.finish(e),
        timeRead: (now) => this.timeComparatorsChanged(now),
        asyncIo: (delta) => (this.ioInFlight += delta),
      },
      bus: this.bus,
      // Natively an assigned device's addresses are the machine's own: its IOMMU context is Bare.
      direct: () => {
        this.postsInterrupts = true;
        return { machine: this.mem.buffer, machineBytes: this.mem.size, iommu: bareDeviceContext(), harts: csrs.map((c) => ({ mip: c.state, mipIndex: ST_MIP_HW, wake: this.wake })) };
      },
    });
    this.clint = this.devices.require(CLINT);
    this.uart = this.devices.require(UART_16550);
  }

  /**
   * A guest read the time and the CLINT has re-evaluated MTIP: bring the
   * Sstc comparators up to date too, and end the slice of any hart that now
   * has an interrupt to take, so it is taken before the next instruction
   * rather than at the end of the slice.
   */
  private timeComparatorsChanged(now: number): void {
    for (const h of this.harts) {
      h.csr.updateStimecmp(now);
      if (h.pendingIrq() >= 0) h.stop = true;
    }
  }

  /** Instructions retired by all harts. */
  retired(): number {
    let sum = 0;
    for (const h of this.harts) sum += h.retired();
    return sum;
  }

  /** Loads the images and resets every hart to the boot entry (QEMU's boot conventions). */
  boot(images: BootImages): void {
    this.images = images;
    const mem = this.mem;
    // RAM starts zeroed; a reboot must not see the previous run's bytes.
    if (this.booted) {
      mem.u8.fill(0);
      this.devices.reset();
    }
    this.booted = true;
    const ramEnd = L.DRAM_BASE + mem.size;
    let entry: number;
    let kernel: GuestImage | undefined;
    this.htif = undefined;
    const regions: BootRegion[] = [];
    if (images.kernel !== undefined) {
      kernel = loadGuestImage(images.kernel, images.firmware ? L.KERNEL_BASE : L.DRAM_BASE, "kernel");
      placeImage(kernel, mem.u8, L.DRAM_BASE, "kernel");
      this.htif = htifSymbols(kernel.symbols);
      regions.push(...imageRegions(kernel, "kernel"));
    }
    if (images.firmware !== undefined) {
      const fw = loadGuestImage(images.firmware, L.FIRMWARE_BASE, "bios");
      placeImage(fw, mem.u8, L.DRAM_BASE, "bios");
      regions.push(...imageRegions(fw, "bios"));
      entry = fw.entry;
    } else if (kernel !== undefined) {
      // QEMU enters a -kernel image at its lowest address, not at e_entry (hw/riscv/boot.c).
      entry = kernel.lowestAddr;
    } else {
      throw new ConfigError("nothing to boot: give an IMAGE, --kernel or --bios");
    }
    let initrd: { start: number; end: number } | undefined;
    if (images.initrd !== undefined) {
      const start = initrdAddress(kernel?.lowestAddr ?? L.DRAM_BASE, mem.size);
      if (start + images.initrd.length > ramEnd) throw new ConfigError("initrd: does not fit in RAM (try a larger --mem)");
      mem.writeBytes(start, images.initrd);
      initrd = { start, end: start + images.initrd.length };
      regions.push({ what: "initrd", ...initrd });
    }
    const dt = boardDeviceTree({ harts: this.harts.length, ramBase: L.DRAM_BASE, ramSize: mem.size, bootargs: images.append, initrd, devices: this.devices.specs, h: this.harts[0]?.hext !== undefined });
    this.fdtAddr = dt.address;
    if (this.fdtAddr < L.DRAM_BASE) throw new ConfigError("memory too small for the device tree");
    checkBootRegions([...regions, { what: "device tree", start: dt.address, end: dt.address + dt.blob.length }]);
    mem.writeBytes(this.fdtAddr, dt.blob);
    mem.flushCode();
    for (const h of this.harts) {
      h.reset(entry);
      h.setReg(REG.a0, h.hartId);
      h.setReg(REG.a1, this.fdtAddr);
    }
    this.exit = undefined;
    this.resetRequested = false;
  }

  /** The finisher's events: pass/fail end the run, reset reboots with the same images. */
  private finish(e: PowerEvent): void {
    if (e.kind === "reset") this.resetRequested = true;
    else this.exit = { kind: "finisher", code: e.kind === "pass" ? 0 : e.code };
    for (const h of this.harts) h.stop = true;
  }

  /** Reboots after a finisher reset request. */
  rebootIfRequested(): void {
    if (this.resetRequested) this.boot(this.images);
  }

  /** HTIF (src/machine/htif.ts), for bare-metal test programs that define `tohost`: polled between slices. */
  pollHtif(): void {
    if (this.htif === undefined) return;
    const code = pollHtif(this.htifMemory, this.htif, this.config.output);
    if (code !== undefined) this.exit = { kind: "htif", code };
  }
}
