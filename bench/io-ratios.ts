/*
 * The ratios `bench io` prints beside its rows: each way of giving a guest a
 * NIC over the one before it in the lesson — paravirtual over emulated
 * (virtio/ne2000), assigned over paravirtual (assigned/virtio) — by Mbit/s,
 * for the same mode, direction and frame size, where both were measured.
 */

import type { IoDirection, IoResult } from "./io-nic.ts";

export interface IoRatio {
  /** "virtio/ne2000" or "assigned/virtio". */
  readonly of: string;
  readonly mode: IoResult["mode"];
  readonly dir: IoDirection;
  readonly frame: number;
  readonly ratio: number;
}

const PAIRS = [
  ["virtio", "ne2000"],
  ["assigned", "virtio"],
] as const;

export function ioRatios(results: readonly IoResult[]): IoRatio[] {
  const out: IoRatio[] = [];
  for (const [of, over] of PAIRS) {
    for (const a of results) {
      if (a.nic !== of) continue;
      const b = results.find((r) => r.nic === over && r.mode === a.mode && r.dir === a.dir && r.frame === a.frame);
      if (b !== undefined && b.mbps > 0) out.push({ of: `${of}/${over}`, mode: a.mode, dir: a.dir, frame: a.frame, ratio: a.mbps / b.mbps });
    }
  }
  return out;
}
