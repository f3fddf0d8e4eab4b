/*
 * `popek run --virt trap --gdb DEV`, `-s`, `-S`: the GDB stub on a VM, its
 * vCPUs as threads (src/hypervisor/gdb-vm-target.ts, vm-debug.ts; the
 * protocol in src/gdb/async-stub.ts). It listens before the VM starts; with
 * -S the vCPUs park before their first instruction and wait for GDB's
 * continue.
 */

import { AsyncGdbStub } from "../gdb/async-stub.ts";
import { VmGdbTarget } from "../hypervisor/gdb-vm-target.ts";
import type { Vm } from "../hypervisor/vm.ts";
import { gdbListenFrom, type GdbSession } from "./run-gdb.ts";
import type { RunFlags } from "./run-flags.ts";

/** Starts the stub on `vm` (not yet started) for the flags (wantsGdb); `kill` ends the run (GDB's kill). */
export async function startVmGdb(vm: Vm, flags: RunFlags, kill: () => void): Promise<Omit<GdbSession, "debugger" | "kill">> {
  const where = await gdbListenFrom(flags);
  const { listenGdb } = await import("../gdb/server.ts");
  const target = new VmGdbTarget(vm);
  const stub = new AsyncGdbStub<number>({
    target,
    halt: () => vm.debug.halt(),
    resume: (harts) => vm.debug.resume(harts),
    stoppedAt: () => vm.debug.firstStopped,
    kill,
  });
  vm.debug.onStop = () => stub.breakpointHit();
  if (flags.S === true) stub.haltNow();
  const server = await listenGdb(where, stub);
  process.stderr.write(`popek: gdb: listening on ${where.host}:${server.port} (target remote :${server.port})${flags.S === true ? ", vCPUs halted until continue" : ""}\n`);
  return {
    async finish(exitCode: number | undefined): Promise<void> {
      if (exitCode !== undefined) {
        target.exitCode = exitCode;
        stub.finished(exitCode);
      }
      await server.close();
    },
  };
}
