/*
 * `popek run`: boot an image, QEMU style — on the native board (--virt none)
 * or deprivileged under the trap-and-emulate hypervisor (--virt trap).
 */

import { ConfigError } from "../errors.ts";
import { Board, MAX_HARTS } from "../machine/board.ts";
import type { ClockKind } from "../machine/clock.ts";
import { runBoard, type RunResult } from "../machine/runner.ts";
import { attachConsole } from "./console.ts";
import type { DeviceSpec } from "../machine/board-devices.ts";
import type { VirtualNetwork } from "../net/netdevs.ts";
import { parseChoice, parseCount, parseMemSize, parseSeconds } from "./options.ts";
import { bootImagesFrom, isaVariantFrom, mmuFrom, nonvirtFixFrom, VIRT_MODES, type RunFlags } from "./run-flags.ts";
import { parseCpu } from "./cpu-flag.ts";
import { EXIT_STDOUT_CLOSED, stdoutClosed, stdoutSink } from "./stdout.ts";
import { startGdb, wantsGdb } from "./run-gdb.ts";

/** What the native board is built with, from the command line. */
function nativeConfigFrom(flags: RunFlags): { harts: number; memSize: number; clock: ClockKind } {
  if (flags.vcpus !== undefined) throw new ConfigError("--vcpus applies under --virt trap; the native board takes --harts N");
  if (flags.stats) throw new ConfigError("--stats reports VM exits: it applies under --virt trap");
  if (flags.pin !== undefined) throw new ConfigError("--pin places the hypervisor's threads (the main thread and each vCPU's): it applies under --virt trap");
  if (flags.trace !== undefined || flags.top) throw new ConfigError(`${flags.top ? "--top" : "--trace"} shows VM exits: it applies under --virt trap`);
  return {
    harts: flags.harts === undefined ? 1 : parseCount("--harts", flags.harts, 1, MAX_HARTS),
    memSize: parseMemSize(flags.mem),
    clock: parseChoice<ClockKind>("--clock", flags.clock, ["real", "icount"]),
  };
}

/**
 * The board's devices and network for the device flags. Without any, the board is QEMU virt's
 * own devices (Board's default) and the virtio, device-flag and network code is not even
 * loaded: a plain `popek run IMAGE` starts ~2 ms sooner (issue 17).
 */
async function devicesFrom(flags: RunFlags): Promise<{ devices?: DeviceSpec[]; net?: VirtualNetwork }> {
  if (flags.drive === undefined && flags.device === undefined && flags.netdev === undefined && flags.global === undefined) return {};
  const [{ VirtualNetwork }, { boardDevicesFrom }, { netdevPorts, netdevRemotePorts }] = await Promise.all([
    import("../net/netdevs.ts"),
    import("./devices.ts"),
    import("./netdev.ts"),
  ]);
  const net = new VirtualNetwork();
  return { net, devices: boardDevicesFrom(flags, netdevPorts(net), netdevRemotePorts(net)) };
}

export async function runCommand(image: string | undefined, flags: RunFlags): Promise<number> {
  const virt = parseChoice("--virt", flags.virt, VIRT_MODES);
  if (virt === "hw" && wantsGdb(flags)) throw new ConfigError("--gdb, -s and -S debug the native board (--virt none) or a guest under --virt trap; not under --virt hw yet");
  if (virt === "trap" && wantsGdb(flags) && flags.mmu === "swtlb") {
    throw new ConfigError("--gdb under --virt trap finds guest addresses in the guest's page tables; a --mmu swtlb guest keeps its translations in its software TLB: not supported yet");
  }
  // Loaded on demand: a native run does not pay for loading the hypervisor.
  if (virt === "trap" || virt === "hw") return (await import("./run-trap.ts")).runTrapCommand(image, flags);
  const { harts, memSize, clock } = nativeConfigFrom(flags);
  nonvirtFixFrom(flags, virt);
  const timeoutSeconds = flags.timeout === undefined ? undefined : parseSeconds("--timeout", flags.timeout);
  const images = bootImagesFrom(image, flags, (line) => process.stderr.write(`${line}\n`));
  const { devices, net } = await devicesFrom(flags);

  const out = stdoutSink();
  const board = new Board({ harts, memSize, clock, output: out.write, mmu: mmuFrom(flags), isaVariant: isaVariantFrom(flags), devices, h: parseCpu(flags.cpu).h });
  board.boot(images);
  const gdb = wantsGdb(flags) ? await startGdb(board, flags) : undefined;
  net?.start();
  const console = attachConsole((bytes) => {
    board.uart.receive(bytes);
    board.devices.input(bytes);
  });
  const flusher = setInterval(() => {
    out.flush();
    // Ctrl-A x must end a run whose harts a debugger holds halted, where the run loop polls nothing.
    if (console.quit()) gdb?.kill();
  }, 30);
  let result: RunResult | undefined;
  try {
    // A reader that went away (EPIPE) ends the run like Ctrl-A x, but with SIGPIPE's status.
    result = await runBoard(board, { timeoutSeconds, interrupted: () => console.quit() || stdoutClosed(), debugger: gdb?.debugger });
  } finally {
    await gdb?.finish(result?.exitCode);
    net?.close();
    clearInterval(flusher);
    out.flush();
    out.close();
    console.close();
  }
  if (stdoutClosed()) return EXIT_STDOUT_CLOSED;
  if (result.outcome === "timeout") process.stderr.write(`\npopek: timeout after ${timeoutSeconds} s\n`);
  return result.exitCode;
}
