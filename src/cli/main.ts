/*
 * The popek command line. Errors the user can act on (a bad flag, a broken
 * image) print one line and exit 1; anything else is a bug and keeps its stack.
 */

import { Command, CommanderError } from "commander";
import { ConfigError, isUserFacing } from "../errors.ts";
import { collect } from "./options.ts";
import type { RunFlags } from "./run-flags.ts";
import { drainStdout, watchStdout } from "./stdout.ts";
import type { DiffFlags } from "./diff.ts";
import type { FuzzFlags } from "./fuzz.ts";
import type { ExpFlags } from "./exp.ts";
import type { BootFlags } from "../../bench/boot.ts";

// Each command's module is imported in its action: `popek run` starts by loading only what a
// run uses, not the hypervisor, the benchmarks or their histograms (start-up, issue 17).

const program = new Command();
program
  .name("popek")
  .description("A RISC-V virtualization lab: an RV64 machine modelled on QEMU's virt board, and a hypervisor to study on it")
  .exitOverride()
  // Usage errors are one line, like every other error (`--help` shows the usage).
  .configureOutput({ outputError: (text, write) => write(`popek: ${text.replace(/^error: /, "")}`) });

program
  .command("run")
  .description("boot an image on the board (QEMU vocabulary: --bios, --kernel, --append, --initrd, --mem)")
  .argument("[image]", "ELF or flat binary to run (like -bios none -kernel IMAGE)")
  .option("--virt <mode>", "none: the native board, one thread; trap: deprivileged under the trap-and-emulate hypervisor; hw: guest S/U in the H extension's VS/VU modes, two-stage translation", "none")
  .option("--harts <n>", "harts on the native board (like -smp)")
  .option("--vcpus <n>", "vCPUs under --virt trap, one worker thread each")
  .option("--mem <size>", "RAM size, e.g. 128M or 1G (like -m)", "128M")
  .option("--bios <hv|none|path>", "firmware at 0x80000000 in M-mode, none, or (under --virt trap, the default there) hv: SBI from the hypervisor")
  .option("--kernel <path>", "kernel: at its ELF addresses, or 0x80200000 when flat and a firmware is given")
  .option("--append <args>", "kernel command line (/chosen/bootargs)")
  .option("--initrd <path>", "initial ramdisk (/chosen/linux,initrd-*)")
  .option("--timeout <seconds>", "stop after this long; exit status 124")
  .option("--clock <kind>", "real (wall time) or icount (deterministic, from instructions retired)", "real")
  .option("--wait <policy>", "how a vCPU waits for the hypervisor: spin, block (Atomics.wait) or poll (spin, then block)", "poll")
  .option("--exit-handler <place>", "where exits are handled: main (every exit crosses to the main thread) or vcpu (CSR, xRET, SBI timer/IPI, reflections on the vCPU thread)", "main")
  .option("--shadow-coherence <policy>", "shadow page tables under --virt trap: tlb (dropped by the guest's sfence.vma, as a TLB) or wp (the guest's page tables also write-protected, stores to them emulated)", "tlb")
  .option("--shadow-pages <n>", "machine frames per vCPU for shadow page tables under --virt trap (default: RAM pages / 32, 16..1024)")
  .option("--pin [cpus]", "pin the main thread and each vCPU thread to a core (like libvirt's emulatorpin and vcpupin): alone, the main thread on the first core and the vCPUs on the others; or a list, the main thread's core then each vCPU's, e.g. 0,1 (--virt trap, Linux)")
  .option("--stats", "print the exit table when the VM stops (--virt trap)")
  .option("--trace <file>", "record every exit into FILE, a msgpackr stream for popek trace (--virt trap)")
  .option("--trace-ring <n>", "records per trace ring, a power of two (default 65536); a full ring drops and counts")
  .option("--top", "a live view of exits/s by reason and by vCPU, refreshed each second; q quits (--virt trap, a terminal)")
  .option("--mmu <kind>", "sv39: the hardware page-table walker; swtlb: a software-refilled TLB (custom CSRs and refill exception, see the README)", "sv39")
  .option("--isa-variant <kind>", "standard, or nonvirt: sstatus/mstatus reads and writes in U-mode do not trap (pushf/popf; see the README)", "standard")
  .option("--nonvirt-fix <fix>", "under --virt trap on --isa-variant nonvirt: none (plain trap-and-emulate) or scan (the hypervisor scans and patches guest code pages before they run)", "none")
  .option("--cpu <model>", "rv64, or rv64,h=true for the hypervisor extension H on the native board (like -cpu)")
  .option("--drive <opts>", "a disk image: file=PATH,if=none|virtio,format=raw[,id=ID] (like -drive; repeatable)", collect)
  .option("--device <opts>", "a device: virtio-blk-device,drive=ID or virtio-net-device,netdev=ID [,bus=virtio-mmio-bus.N] (like -device; repeatable)", collect)
  .option("--netdev <opts>", "a network back-end: TYPE,id=ID (like -netdev; repeatable)", collect)
  .option("--global <opts>", "virtio-mmio.force-legacy=true|false (like -global; default false: virtio-mmio version 2)", collect)
  .option("--gdb <dev>", "wait for a GDB connection on tcp::PORT or tcp:HOST:PORT (like -gdb; port 0 picks a free one; native board or --virt trap)")
  .option("-s", "shorthand for --gdb tcp::1234 (like QEMU's -s)")
  .option("-S", "do not start the harts (vCPUs) until the debugger says continue (like QEMU's -S)")
  .action(async (image: string | undefined, flags: RunFlags) => {
    process.exitCode = await (await import("./run.ts")).runCommand(image, flags);
  });

program
  .command("diff")
  .description("lockstep check: IMAGE natively and under --virt trap (or hw), compared at every exit; prints the first divergence (pc, instruction, register)")
  .argument("<image>", "an M-mode ELF or flat binary (as for popek run IMAGE)")
  .option("--mem <size>", "RAM size, e.g. 128M", "64M")
  .option("--bios <none|PATH>", "none: IMAGE runs in M-mode; PATH: firmware (Debian's OpenSBI fw_jump.elf) runs first on both sides, natively in M-mode and deprivileged under the hypervisor, and IMAGE is its S-mode kernel")
  .option("--timeout <seconds>", "stop the trap run after this long", "60")
  .option("--virt <mode>", "trap (trap-and-emulate) or hw (the guest's S and U in VS/VU, the H extension)", "trap")
  .action(async (image: string, flags: DiffFlags) => {
    process.exitCode = await (await import("./diff.ts")).diffCommand(image, flags);
  });

program
  .command("fuzz")
  .description("random guests (any instruction word, CSRs from every mode, device and hole accesses, SBI calls) natively and under --virt trap, compared")
  .option("--seed <n>", "first seed (default: random); a finding's seed replays it")
  .option("--count <n>", "how many seeds", "20")
  .option("--items <n>", "random items per M-mode guest", "200")
  .option("--lockstep", "also compare every M-mode guest at every exit (popek diff)")
  .option("--exit-handler <place>", "main, vcpu or both", "both")
  .option("--aligned-mmio", "generate device accesses at aligned offsets only")
  .option("--timeout <seconds>", "limit per run", "20")
  .action(async (flags: FuzzFlags) => {
    process.exitCode = await (await import("./fuzz.ts")).fuzzCommand(flags);
  });

program
  .command("demo")
  .description("the lab in one minute: exit costs by --exit-handler and --wait, frames through each NIC, and the charts' paths")
  .option("--quick", "a tenth of the work (tests, slow machines)")
  .option("--out <dir>", "where the charts and summaries go (default $TMPDIR/popek-demo)")
  .action(async (flags: { quick?: boolean; out?: string }) => {
    process.exitCode = await (await import("./demo.ts")).demoCommand(flags);
  });

program
  .command("exp")
  .description("run an experiment file (YAML or JSON): its sweep's points, results as JSON, CSV, Markdown and SVG charts; or `exp merge DIR`")
  .argument("[file]", "the experiment file, or merge")
  .argument("[dir]", "with merge: the --out DIR whose points/ to join")
  .option("--out <dir>", "where results go (default popek-exp/NAME)")
  .option("--parallel <n>", "run N points at a time in a worker pool (default 1: timing needs quiet cores)")
  .option("--point <k>", "run only sweep point K (what each Slurm array task runs)")
  .option("--slurm", "write an sbatch array job, one sweep point per task, instead of running")
  .option("--partition <p>", "with --slurm: the partition")
  .option("--cpus <n>", "with --slurm: CPUs per task (sbatch --cpus-per-task)")
  .option("--submit", "with --slurm: submit the job with sbatch and print its id")
  .option("--schema", "print the experiment file format as JSON Schema")
  .action(async (file: string | undefined, dir: string | undefined, flags: ExpFlags) => {
    process.exitCode = await (await import("./exp.ts")).expCommand(file, dir, flags);
  });

program
  .command("trace")
  .description("read a trace written by popek run --trace: a summary of its exits, or a timeline for Perfetto")
  .argument("<file>", "the trace file")
  .option("--summary", "exits by reason and by vCPU, with handling-time percentiles (the default)")
  .option("--perfetto <out>", "write Chrome trace-event JSON that ui.perfetto.dev opens: a track per vCPU, exits as slices")
  .action(async (file: string, flags: { summary?: boolean; perfetto?: string }) => {
    process.exitCode = await (await import("./trace.ts")).traceCommand(file, flags);
  });

/** A bench's --guest, checked against the guests it knows. */
function benchGuest(bench: string, guest: string, known: readonly string[]): string {
  if (!known.includes(guest)) throw new ConfigError(`bench ${bench}: --guest ${guest} (one of ${known.join(", ")})`);
  return guest;
}

const bench = program.command("bench").description("benchmarks that print ratios measured in the same run");
bench
  .command("cpu")
  .description("guest MIPS on cpubench natively, and the ratio to QEMU on the same image when it is installed")
  .option("--json", "end with one JSON line of results")
  .option("--image <path>", "benchmark image", "guests/bin/cpubench.elf")
  .option("--no-qemu", "skip the QEMU comparison")
  .action(async (flags: { json?: boolean; image: string; qemu: boolean }) => {
    process.exitCode = await (await import("../../bench/cpu.ts")).benchCpuCommand(flags);
  });

bench
  .command("exits")
  .description("VM exit costs timed by a guest: natively and under the hypervisor for every --wait policy and --exit-handler place, with the bare handoff floor")
  .option("--json", "end with one JSON line of results")
  .option("--scale <n>", "iteration scale under the hypervisor (exitbench's iters=, e.g. 1/100)")
  .action(async (flags: { json?: boolean; scale?: string }) => {
    process.exitCode = await (await import("../../bench/exits.ts")).benchExitsCommand(flags);
  });

bench
  .command("boot")
  .description("real software booted to a marker natively, under --virt trap and under QEMU, with ratios; and start-up against bare node")
  .option("--json", "end with one JSON line of results")
  .option("--kernel <path>", "also boot this Linux kernel behind OpenSBI with guests/bin/linux-initramfs.cpio")
  .option("--only <names>", "comma-separated workloads, e.g. hello,opensbi+linux")
  .option("--no-trap", "skip --virt trap")
  .option("--no-qemu", "skip the QEMU comparison")
  .option("--no-startup", "skip the start-up row")
  .option("--timeout <seconds>", "limit per boot", "600")
  .action(async (flags: BootFlags) => {
    process.exitCode = await (await import("../../bench/boot.ts")).benchBootCommand(flags);
  });

bench
  .command("io")
  .description("frames of 64 and 1514 bytes through each NIC kind to a sink and from a source (Mbit/s, pps, exits and irqs per packet, main-thread busy time); virtio-blk requests beside the host's own loop on the same file")
  .option("--json", "end with one JSON line of results")
  .option("--ms <n>", "guest milliseconds per NIC run", "2000")
  .option("--disk-mib <n>", "size of virtio-blk's scratch disk image in MiB", "8")
  .option("--blk-depth <n>", "virtio-blk requests the guest keeps in flight (1-32; the host floor's loop has one)", "32")
  .option("--guest <name>", "the guests that drive the devices: bare (ne2000-test, virtio-blk-bench) or labos (its netperf and diskperf)", "bare")
  .option("--only <rows>", "run only the NIC rows (nic) or only the virtio-blk rows (blk); bare guests only")
  .action(async (flags: { json?: boolean; ms?: string; diskMib?: string; blkDepth?: string; guest: string; only?: string }) => {
    const guest = benchGuest("io", flags.guest, ["bare", "labos"]);
    if (guest === "labos" && flags.only !== undefined) {
      process.stderr.write("popek: bench io: --only picks rows of the bare guests; labos runs its own set\n");
      process.exitCode = 2;
      return;
    }
    process.exitCode =
      guest === "labos"
        ? await (await import("../../bench/io-labos.ts")).benchIoLabosCommand(flags)
        : await (await import("../../bench/io.ts")).benchIoCommand(flags);
  });

bench
  .command("mmu")
  .description("MMU nanobenchmarks (pgfault, ptemod, ctxsw, tlbwalk) natively and under the hypervisor (both exit-handler places), for Sv39 and --mmu swtlb")
  .option("--json", "end with one JSON line of results")
  .option("--scale <n>", "iteration scale under the hypervisor (mmubench's iters=, default 1/10)")
  .option("--native-scale <n>", "iteration scale natively (default 1)")
  .option("--guest <name>", "the guest that times them: mmubench (bare metal) or labos (its nanobench, a real kernel's paths)", "mmubench")
  .action(async (flags: { json?: boolean; scale?: string; nativeScale?: string; guest: string }) => {
    process.exitCode =
      benchGuest("mmu", flags.guest, ["mmubench", "labos"]) === "labos"
        ? await (await import("../../bench/mmu-labos.ts")).benchMmuLabosCommand(flags)
        : await (await import("../../bench/mmu.ts")).benchMmuCommand(flags);
  });

watchStdout();
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (isUserFacing(e)) {
    process.stderr.write(`popek: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    throw e;
  }
}
// Guest threads and stdin must not keep a finished run alive, but what the guest printed must all
// reach the reader first: process.exit drops writes still queued for a slow pipe.
await drainStdout();
process.exit(process.exitCode ?? 0);
