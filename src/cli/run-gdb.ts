/*
 * `popek run --gdb DEV`, `-s`, `-S`: the GDB stub (src/gdb) on the native
 * board, as QEMU's -gdb/-s/-S. It listens before the first instruction and
 * says where on stderr; with -S the harts wait for the debugger's continue.
 */

import { ConfigError } from "../errors.ts";
import type { GdbListen } from "../gdb/server.ts";
import type { Board } from "../machine/board.ts";
import type { RunDebugger } from "../machine/runner.ts";
import type { RunFlags } from "./run-flags.ts";

/** What a run needs of the stub: the run loop's debugger, and the end of the session. */
export interface GdbSession {
  readonly debugger: RunDebugger;
  /** The run ended with this status (GDB hears it: W), or failed (undefined); the listener closes. */
  finish(exitCode: number | undefined): Promise<void>;
  /** Ends the run from the console (Ctrl-A x) even while the harts are halted. */
  kill(): void;
}

/** Whether the flags ask for a debugger at all. */
export function wantsGdb(flags: RunFlags): boolean {
  return flags.gdb !== undefined || flags.s === true || flags.S === true;
}

/** Where --gdb, -s and -S say to listen; a ConfigError for flags that do not fit together or a bad device. */
export async function gdbListenFrom(flags: RunFlags): Promise<GdbListen> {
  if (flags.gdb !== undefined && flags.s === true) throw new ConfigError("-s is --gdb tcp::1234: give one or the other");
  const { GDB_DEFAULT_DEVICE, parseGdbDevice } = await import("../gdb/server.ts");
  const device = flags.gdb ?? (flags.s === true ? GDB_DEFAULT_DEVICE : undefined);
  if (device === undefined) throw new ConfigError("-S waits for a debugger: give --gdb tcp::PORT or -s too");
  return parseGdbDevice(device);
}

/** Starts the stub for the flags (wantsGdb), listening; a ConfigError for a bad device or an address in use. */
export async function startGdb(board: Board, flags: RunFlags): Promise<GdbSession> {
  const where = await gdbListenFrom(flags);
  const [{ GdbStub }, { listenGdb }] = await Promise.all([import("../gdb/stub.ts"), import("../gdb/server.ts")]);
  const stub = new GdbStub(board, { startHalted: flags.S === true });
  const server = await listenGdb(where, stub);
  process.stderr.write(`popek: gdb: listening on ${where.host}:${server.port} (target remote :${server.port})${flags.S === true ? ", harts halted until continue" : ""}\n`);
  return {
    debugger: stub,
    async finish(exitCode: number | undefined): Promise<void> {
      if (exitCode !== undefined) stub.finished(exitCode);
      await server.close();
    },
    kill: () => stub.kill(),
  };
}
