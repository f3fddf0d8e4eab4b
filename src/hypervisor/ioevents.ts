/*
 * ioeventfd on the vCPU's thread (KVM_IOEVENTFD with datamatch): a guest
 * store to a registered device register — a virtio QueueNotify whose
 * back-end has a worker serving the queue (devices/virtio/blk-vhost.ts) —
 * kicks that worker and the guest runs on, with no exit to the main
 * thread. The hypervisor registers every device's IoEvents when it starts
 * the vCPUs; the device's table decides each time (kickFromVcpu): when no
 * worker serves the queue, the store exits as any other MMIO store, and
 * the main thread's notify starts one.
 *
 * A paging guest's store (Linux's ioremapped QueueNotify) is taken the same
 * way once the shadow fill has walked the guest's tables to the register's
 * guest-physical address (exits/dispatch.ts), with --exit-handler vcpu,
 * where that walk runs on the vCPU thread.
 *
 * Only a plain 4-byte store of exactly the registered value at exactly the
 * register's address is taken here; anything else (another width, another
 * value, a store that starts elsewhere) goes to the device model, which
 * judges it as before.
 */

import type { Hart } from "../machine/hart.ts";
import { VhostTable } from "../devices/virtio/blk-vhost.ts";
import { accessStartInto, decodeMmioAccess } from "./exits/mmio-decode.ts";
import { pairToNumber } from "../machine/u64.ts";

/** One registered store, as the vCPU thread is given it (plain data and a shared buffer). */
export interface IoEventConfig {
  /** Guest-physical address of the register. */
  readonly gpa: number;
  readonly value: number;
  readonly table: SharedArrayBuffer;
}

export class IoEvents {
  private readonly gpas: number[];
  private readonly values: number[];
  private readonly tables: VhostTable[];
  private readonly start = new Int32Array(2);

  constructor(events: readonly IoEventConfig[]) {
    this.gpas = events.map((e) => e.gpa);
    this.values = events.map((e) => e.value);
    this.tables = events.map((e) => new VhostTable(e.table));
  }

  /** The store at `pc` that faulted at guest-physical `gpa`: taken here (the hart's pc moved past it) or not. */
  take(h: Hart, gpa: number, pc: number): boolean {
    const length = this.takeStore(h.x, h.instructionBits(pc), gpa, gpa);
    if (length === 0) return false;
    h.pc = pc + length;
    return true;
  }

  /**
   * The store `insn`, with registers `x`, that faulted at guest-physical
   * `gpa`, which the guest addressed as `va` (the same address unless its
   * page tables translated it): taken here, returning the instruction's
   * length so the caller moves pc past it, or 0 when it is not a registered
   * notify the worker accepts.
   */
  takeStore(x: Int32Array, insn: number, gpa: number, va: number): number {
    const i = this.gpas.indexOf(gpa);
    if (i < 0) return 0;
    const access = decodeMmioAccess(insn);
    if (access === undefined || !access.write || access.width !== 4) return 0;
    // The access must start at the register: its start is computed from the registers, so virtual.
    if (!accessStartInto(insn, x, this.start) || pairToNumber(this.start[0], this.start[1]) !== va) return 0;
    if (x[2 * access.reg] >>> 0 !== this.values[i]) return 0;
    if (!this.tables[i].kickFromVcpu()) return 0;
    return access.length;
  }
}
