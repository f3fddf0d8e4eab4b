/*
 * `popek demo` (what `npm start` runs): the lab in one minute. A guest boots
 * on the native board; then a guest kernel runs deprivileged under the
 * trap-and-emulate hypervisor, and the exit table shows what the hypervisor
 * did for it.
 */

import pc from "picocolors";
import { Hypervisor } from "../hypervisor/hypervisor.ts";
import { Board } from "../machine/board.ts";
import { readImageFile } from "../machine/image.ts";
import { runBoard } from "../machine/runner.ts";
import { formatStats } from "../report/exit-table.ts";

const MB = 2 ** 20;

function heading(text: string): void {
  process.stdout.write(`\n${pc.bold(pc.cyan(`== ${text}`))}\n`);
}

export async function demoCommand(): Promise<number> {
  heading("1. the native board: guests/bin/hello.elf in M-mode (popek run guests/bin/hello.elf)");
  const board = new Board({ harts: 1, memSize: 128 * MB, clock: "real", output: (b) => process.stdout.write(String.fromCharCode(b)) });
  board.boot({ kernel: readImageFile("guests/bin/hello.elf", "kernel") });
  const native = await runBoard(board, { timeoutSeconds: 30 });
  process.stdout.write(pc.dim(`   ${native.instructions} instructions, exit status ${native.exitCode}\n`));

  heading("2. deprivileged: an S-mode kernel on 2 vCPUs under the hypervisor (popek run guests/bin/kernel-mini.elf --virt trap --vcpus 2 --stats)");
  process.stdout.write(pc.dim("   every virtual privilege runs in the hart's real U-mode; each CSR access, sret, SBI call and device access is a VM exit\n"));
  const hv = new Hypervisor({ machineMemory: 80 * MB });
  const vm = hv.createVm({
    name: "vm0",
    vcpus: 2,
    memSize: 64 * MB,
    images: { bios: { kind: "hv" }, kernel: readImageFile("guests/bin/kernel-mini.elf", "kernel") },
    wait: "poll",
    exitHandler: "main",
    output: (b) => process.stdout.write(String.fromCharCode(b)),
  });
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), 60_000);
  const result = await vm.result;
  clearTimeout(timer);
  process.stdout.write(formatStats(result.reports));
  process.stdout.write(
    pc.dim("\nNext: popek run guests/bin/selftest.elf --virt trap --vcpus 2 --stats; popek bench exits; popek bench cpu\n"),
  );
  return native.exitCode === 0 && result.exitCode === 0 ? 0 : 1;
}
