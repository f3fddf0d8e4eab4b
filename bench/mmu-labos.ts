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
import type { MmuReport, MmuResult } from "./mmu.ts";

/** mmubench's name for each nanobench test that measures the same thing. */
const NANOBENCH_FOR: Readonly<Record<(typeof MMU_BENCHES)[number], string>> = {
  pgfault: "nanobench.page_fault",
  ptemod: "nanobench.pte_flush",
  ctxsw: "nanobench.ctx_switch",
  tlbwalk: "nanobench.tlb_walk",
};
const NATIVE_SYSCALLS = 2000;
const TRAP_SYSCALLS = 400;

function row(run: LabosRun, bench: (typeof MMU_BENCHES)[number]): { ns: number; instr: number } | undefined {
  const r = run.results.find((x) => x.name === NANOBENCH_FOR[bench]);
  return r === undefined ? undefined : { ns: r.fields.ns_per_op, instr: r.fields.instret_per_op };
}

export async function benchMmuLabos(progress: (line: string) => void = () => {}): Promise<MmuReport> {
  const results: MmuResult[] = [];
  const native = await runLabosNative(`nanobench:${NATIVE_SYSCALLS}`);
  progress("labos native done");
  for (const bench of MMU_BENCHES) {
    const r = row(native, bench);
    results.push({ bench, mmu: "sv39", mode: "native", handler: "-", nsPerOp: r?.ns ?? null, ratio: r ? 1 : null, instructionsPerOp: r?.instr ?? null, status: r ? "ok" : "no result" });
  }
  for (const handler of ["main", "vcpu"] as const satisfies readonly ExitHandlerPlace[]) {
    const trap = await runLabosTrap(`nanobench:${TRAP_SYSCALLS}`, handler);
    progress(`labos trap/${handler} done`);
    for (const bench of MMU_BENCHES) {
      const r = row(trap, bench);
      const base = row(native, bench)?.ns;
      results.push({
        bench,
        mmu: "sv39",
        mode: "trap",
        handler,
        nsPerOp: r?.ns ?? null,
        ratio: r !== undefined && base !== undefined && base > 0 ? r.ns / base : null,
        instructionsPerOp: r?.instr ?? null,
        status: r ? "ok" : "no result",
      });
    }
  }
  return { results, cores: cpus().length, nativeScale: `nanobench:${NATIVE_SYSCALLS}`, trapScale: `nanobench:${TRAP_SYSCALLS}` };
}
