/*
 * Reading a trace file (trace-file.ts) back: its VMs, its exit records in
 * time order (names resolved from the file's own tables, so a trace stays
 * readable when counters are added later), drops and per-VM totals. A file
 * that is not a popek trace, or is cut short, is the user's error.
 */

import { readFileSync } from "node:fs";
import { Unpackr } from "msgpackr";
import { ConfigError } from "../errors.ts";
import { namesOf, RecordBatch, RECORD_BYTES, type TraceRecord, type WhereName } from "./record.ts";
import { TRACE_FORMAT, TRACE_VERSION } from "./trace-file.ts";

interface TraceVm {
  readonly vm: number;
  readonly name: string;
  readonly vcpus: number;
  readonly exitHandler: string;
  readonly wait: string;
  readonly mmu: string;
}

interface TraceVmEnd {
  readonly vm: number;
  readonly vcpus: readonly { vcpu: number; exits: number; recorded: number; dropped: number }[];
}

export interface Trace {
  readonly vms: readonly TraceVm[];
  /** Every exit record, sorted by t (then by vm and vcpu). */
  readonly records: readonly TraceRecord[];
  /** Records dropped, per VM, vCPU and ring ("vcpu" or "main"): the last count reported. */
  readonly dropped: readonly { vm: number; vcpu: number; ring: string; total: number }[];
  /** Totals written when each VM stopped (absent for a VM whose trace was cut short). */
  readonly ends: readonly TraceVmEnd[];
}

type Message = Record<string, unknown>;

export function readTrace(path: string): Trace {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ConfigError(`popek trace: cannot read ${path}: ${(e as Error).message}`);
  }
  let messages: unknown[];
  try {
    messages = new Unpackr().unpackMultiple(bytes) ?? [];
  } catch (e) {
    throw new ConfigError(`popek trace: ${path} is damaged or cut short: ${(e as Error).message}`);
  }
  const header = messages[0] as Message | undefined;
  if (header === undefined || typeof header !== "object" || header === null || header.type !== TRACE_FORMAT) {
    throw new ConfigError(`popek trace: ${path} is not a popek trace (written by popek run --trace)`);
  }
  if (header.version !== TRACE_VERSION || (header.record as { bytes?: unknown } | undefined)?.bytes !== RECORD_BYTES) throw new ConfigError(`popek trace: ${path} is trace format version ${String(header.version)}; this popek reads version ${TRACE_VERSION}`);
  const stats = header.stats as string[];
  const where = header.where as WhereName[];
  const vms: TraceVm[] = [];
  const records: TraceRecord[] = [];
  const dropped = new Map<string, { vm: number; vcpu: number; ring: string; total: number }>();
  const ends: TraceVmEnd[] = [];
  for (const raw of messages.slice(1)) {
    const m = raw as Message;
    switch (m.type) {
      case "vm":
        vms.push(m as unknown as TraceVm);
        break;
      case "exits": {
        const batch = new RecordBatch(m.records as Uint8Array);
        for (let i = 0; i < batch.count; i++) {
          const reason = batch.w(i, "reason");
          records.push({
            vm: m.vm as number,
            vcpu: m.vcpu as number,
            t: batch.f(i, "t"),
            durNs: batch.f(i, "durNs"),
            where: where[batch.w(i, "where")],
            reason: reason >= 0 ? stats[reason] : "unclassified",
            cause: batch.w(i, "cause"),
            pc: batch.f(i, "pc"),
            tval: batch.f(i, "tval"),
            effects: namesOf(batch.w(i, "effLo"), batch.w(i, "effHi"), stats),
          });
        }
        break;
      }
      case "dropped": {
        const d = m as unknown as { vm: number; vcpu: number; ring: string; total: number };
        dropped.set(`${d.vm}/${d.vcpu}/${d.ring}`, d);
        break;
      }
      case "vm-end":
        ends.push(m as unknown as TraceVmEnd);
        break;
      default:
        throw new ConfigError(`popek trace: ${path}: unknown message type ${JSON.stringify(m.type)}`);
    }
  }
  records.sort((a, b) => a.t - b.t || a.vm - b.vm || a.vcpu - b.vcpu);
  return { vms, records, dropped: [...dropped.values()], ends };
}
