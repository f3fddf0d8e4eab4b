/*
 * What exit handlers on the main thread may ask of the VM (VmServices): its
 * console, its memory, power, and the HSM/IPI/fence operations, which are
 * forwarded to the VM's peers (the vCPUs' run pages).
 */

import { LSR_DR, REG_LSR, REG_RBR_THR_DLL, type Uart16550 } from "../devices/uart16550.ts";
import type { GuestMemoryView } from "../machine/guest-memory-view.ts";
import type { VmServices } from "./exits/services.ts";
import type { Peers } from "./peers.ts";
import type { ShadowMmu } from "./shadow/shadow-mmu.ts";
import { shootdown, type ShootdownSite } from "./shadow/shootdown.ts";

/** The VM's end of the services: where output goes, and how it stops. */
export interface ServiceOwner {
  /** The console's host side (the VM's output). */
  output(byte: number): void;
  shutdown(exitCode: number): void;
  reboot(): void;
}

export class MainThreadServices implements VmServices {
  constructor(
    readonly hartCount: number,
    readonly memory: GuestMemoryView,
    private readonly peers: Peers,
    /** Each vCPU's shadow page tables, for shootdowns on behalf of vCPUs parked in exits. */
    private readonly shadows: readonly ShadowMmu[],
    /** The console device SBI's getchar reads from, if the VM has one. */
    private readonly uart: Uart16550 | undefined,
    private readonly owner: ServiceOwner,
  ) {}

  consoleWrite(bytes: Uint8Array): void {
    for (const b of bytes) this.owner.output(b);
  }
  /** The next byte the console received, taken as a guest read of RBR would take it; -1 when none. */
  consoleRead(): number {
    const uart = this.uart;
    if (uart === undefined) return -1;
    return (uart.read(REG_LSR, 1) & LSR_DR) !== 0 ? uart.read(REG_RBR_THR_DLL, 1) : -1;
  }
  shutdown(exitCode: number): void {
    this.owner.shutdown(exitCode);
  }
  reboot(): void {
    this.owner.reboot();
  }
  hartState(hart: number): number {
    return this.peers.hartState(hart);
  }
  hartStart(hart: number, start: number, opaque: bigint): number {
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
  remoteSfenceVma(caller: number, harts: readonly number[], stats: Float64Array): void {
    const site: ShootdownSite = {
      flushesParked: true,
      flushHere: (h) => this.shadows[h]?.flushAll(),
      serveOwn: () => {},
    };
    shootdown(this.peers.pages, caller, harts, site, stats);
  }
}
