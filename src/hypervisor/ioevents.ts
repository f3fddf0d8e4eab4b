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
    const i = this.gpas.indexOf(gpa);
    if (i < 0) return false;
    const insn = h.instructionBits(pc);
    const access = decodeMmioAccess(insn);
    if (access === undefined || !access.write || access.width !== 4) return false;
    if (!accessStartInto(insn, h.x, this.start) || pairToNumber(this.start[0], this.start[1]) !== gpa) return false;
    if (h.x[2 * access.reg] >>> 0 !== this.values[i]) return false;
    if (!this.tables[i].kickFromVcpu()) return false;
    h.pc = pc + access.length;
    return true;
  }
}
