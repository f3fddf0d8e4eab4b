/*
 * A VM as GDB sees it (src/gdb/debug-target.ts): its vCPUs as threads
 * (thread id = vCPU + 1), each vCPU's registers from its run page — the
 * guest's registers, with `priv` its VIRTUAL privilege, not the real hart's
 * U-mode — and memory at the addresses the guest sees: guest-virtual
 * through the guest's own page tables (its virtual satp, not the shadow
 * tables), guest-physical when its paging is off (guest-debug-walk.ts).
 * Breakpoints are ebreaks written into guest memory through the main
 * thread's view, which marks the VM's code-write log, and their
 * guest-physical addresses are published to the vCPUs (vm-debug.ts).
 * Everything here runs while the vCPUs are halted (vm-debug.ts says when
 * the run page is the main thread's).
 *
 * Lives in the hypervisor, not in src/gdb: it reads run pages and the
 * VM's memory, and src/gdb must not import the hypervisor. It depends on
 * src/gdb only for the protocol's shapes.
 */

import { Breakpoints } from "../gdb/breakpoints.ts";
import type { DebugTarget } from "../gdb/debug-target.ts";
import { addressPair, readDebugMemory, writeDebugMemory } from "../gdb/memory.ts";
import { readRegister, readRegisters, writeRegister, writeRegisters, type GdbRegisterFile } from "../gdb/registers.ts";
import { DEBUG_UNMAPPED } from "../machine/debug-walk.ts";
import { GuestDebugWalk } from "./guest-debug-walk.ts";
import { HSM_STOPPED } from "./exits/services.ts";
import type { Vm } from "./vm.ts";

const U64 = (1n << 64n) - 1n;
const PRIV_NAMES = ["U", "S", "?", "M"];

export class VmGdbTarget implements DebugTarget<number> {
  readonly threads: readonly number[];
  private readonly breakpoints: Breakpoints;
  private readonly walks: GuestDebugWalk[];
  /** The guest's exit status once the VM has ended (the CLI sets it). */
  exitCode: number | undefined;

  constructor(private readonly vm: Vm) {
    this.threads = vm.contexts.map((_, h) => h);
    this.breakpoints = new Breakpoints(vm.memory.view);
    this.walks = vm.contexts.map((ctx) => new GuestDebugWalk(vm.memory.view, ctx.csr));
  }

  thread(tid: number): number | undefined {
    return Number.isInteger(tid) && tid >= 1 && tid <= this.threads.length ? tid - 1 : undefined;
  }

  tidOf(h: number): number {
    return h + 1;
  }

  describe(h: number): string {
    const ctx = this.vm.contexts[h];
    const where = this.vm.debug.atBreakpoint(h) ? ", at a breakpoint" : Atomics.load(ctx.page.hsm, 0) === HSM_STOPPED ? ", stopped (SBI HSM)" : "";
    return `vCPU ${h}, virtual ${PRIV_NAMES[ctx.csr.priv]}-mode${where}`;
  }

  /** A debugger attached (true) or went away: its breakpoints come out then. */
  attach(on: boolean): void {
    if (on) return;
    this.breakpoints.removeAll();
    this.vm.debug.breakpoints.publish([]);
  }

  // ---- registers: the run page's (the vCPU is halted) ----

  private registersOf(h: number): GdbRegisterFile {
    const ctx = this.vm.contexts[h];
    return {
      x: ctx.x,
      get pc() {
        return ctx.pc;
      },
      set pc(v: number) {
        ctx.pc = v;
      },
      priv: ctx.csr.priv,
    };
  }

  readRegister(h: number, n: number): string | undefined {
    return readRegister(this.registersOf(h), n);
  }
  writeRegister(h: number, n: number, hex: string): boolean {
    return writeRegister(this.registersOf(h), n, hex);
  }
  readRegisters(h: number): string {
    return readRegisters(this.registersOf(h));
  }
  writeRegisters(h: number, hex: string): boolean {
    return writeRegisters(this.registersOf(h), hex);
  }

  // ---- memory, as the guest on vCPU h sees it ----

  /** The guest-physical address the guest on vCPU h reaches at `va`, or DEBUG_UNMAPPED. */
  private translate(h: number, va: bigint): number {
    return this.walks[h].translate(...addressPair(va));
  }

  readMemory(h: number, va: bigint, length: number): Uint8Array {
    return readDebugMemory(this.vm.memory.view, this.breakpoints, (at) => this.translate(h, at), va, length);
  }

  writeMemory(h: number, va: bigint, bytes: Uint8Array): boolean {
    return writeDebugMemory(this.vm.memory.view, this.breakpoints, (at) => this.translate(h, at), va, bytes);
  }

  // ---- breakpoints ----

  insertBreakpoint(h: number, va: bigint, kind: number): boolean {
    const gpa = this.translate(h, va);
    if (!Breakpoints.knownKind(kind) || gpa === DEBUG_UNMAPPED || !this.breakpoints.insert(va & U64, gpa, kind)) return false;
    if (this.vm.debug.breakpoints.publish(this.breakpoints.plantedAddresses())) return true;
    this.breakpoints.remove(va & U64); // more than the vCPUs can look up
    return false;
  }

  removeBreakpoint(va: bigint): boolean {
    if (!this.breakpoints.remove(va & U64)) return false;
    this.vm.debug.breakpoints.publish(this.breakpoints.plantedAddresses());
    return true;
  }
}
