/*
 * `popek bench mmu --guest labos`: the MMU nanobenchmarks timed by labos's
 * nanobench (guests/labos/user/nanobench.c) instead of the bare-metal
 * mmubench, natively (behind OpenSBI) and under --virt trap with both
 * exit-handler places, in mmubench's table. Here the operations are a real
 * kernel's: a page fault goes through labos's trap path and page
 * allocator, a PTE change through a system call and its TLB shootdown, a
 * context switch through two processes yielding, a TLB walk through loads
 * after a tlbflush system call. labos runs on Sv39 only (no swtlb rows).
 */

import { cpus } from "node:os";
import type { ExitHandlerPlace } from "../src/hypervisor/vm.ts";
import { runLabosNative, runLabosTrap, type LabosRun } from "./labos-run.ts";
import { MMU_BENCHES } from "./mmubench-parse.ts";
import { formatMmu, type MmuReport, type MmuResult } from "./mmu.ts";

/** mmubench's name for each nanobench test that measures the same thing. */
const NANOBENCH_FOR: Readonly<Record<(typeof MMU_BENCHES)[number], string>> = {
  pgfault: "nanobench.page_fault",
  ptemod: "nanobench.pte_flush",
  ctxsw: "nanobench.ctx_switch",
  tlbwalk: "nanobench.tlb_walk",
};
export interface MmuLabosOptions {
  /** nanobench's N natively (N system calls, N/8 faults, N/4 PTE changes and yields). */
  readonly nativeSyscalls?: number;
  /** nanobench's N under --virt trap, where every operation costs exits. */
  readonly trapSyscalls?: number;
  readonly handlers?: readonly ExitHandlerPlace[];
  readonly progress?: (line: string) => void;
}

function row(run: LabosRun, bench: (typeof MMU_BENCHES)[number]): { ns: number; instr: number } | undefined {
  const r = run.results.find((x) => x.name === NANOBENCH_FOR[bench]);
  return r === undefined ? undefined : { ns: r.fields.ns_per_op, instr: r.fields.instret_per_op };
}

export async function benchMmuLabos(opts: MmuLabosOptions = {}): Promise<MmuReport> {
  const progress = opts.progress ?? (() => {});
  const nativeN = opts.nativeSyscalls ?? 2000;
  const trapN = opts.trapSyscalls ?? 400;
  const results: MmuResult[] = [];
  const native = await runLabosNative(`nanobench:${nativeN}`);
  progress("labos native done");
  for (const bench of MMU_BENCHES) {
    const r = row(native, bench);
    results.push({ bench, mmu: "sv39", mode: "native", handler: "-", coherence: "-", nsPerOp: r?.ns ?? null, ratio: r ? 1 : null, instructionsPerOp: r?.instr ?? null, status: r ? "ok" : "no result" });
  }
  for (const handler of opts.handlers ?? (["main", "vcpu"] as const)) {
    const trap = await runLabosTrap(`nanobench:${trapN}`, handler);
    progress(`labos trap/${handler} done`);
    for (const bench of MMU_BENCHES) {
      const r = row(trap, bench);
      const base = row(native, bench)?.ns;
      results.push({
        bench,
        mmu: "sv39",
        mode: "trap",
        handler,
        coherence: "tlb",
        nsPerOp: r?.ns ?? null,
        ratio: r !== undefined && base !== undefined && base > 0 ? r.ns / base : null,
        instructionsPerOp: r?.instr ?? null,
        status: r ? "ok" : "no result",
      });
    }
  }
  return { results, cores: cpus().length, nativeScale: `nanobench:${nativeN}`, trapScale: `nanobench:${trapN}` };
}

/** `popek bench mmu --guest labos` (src/cli/main.ts sends it here; --scale and --native-scale are mmubench's). */
export async function benchMmuLabosCommand(flags: { json?: boolean }): Promise<number> {
  const report = await benchMmuLabos({ progress: (l) => process.stderr.write(`  ${l}\n`) });
  process.stdout.write(formatMmu(report));
  if (flags.json) process.stdout.write(JSON.stringify(report) + "\n");
  return 0;
}
