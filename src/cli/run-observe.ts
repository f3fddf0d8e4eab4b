/*
 * What `popek run --virt trap` can watch a VM with besides --stats: an exit
 * trace written to a file (--trace FILE, src/trace/) and a live view
 * (--top, top.ts). Both are set up from the flags before anything runs, so
 * a bad path or a missing terminal is one line and no boot.
 */

import { TraceFile } from "../trace/trace-file.ts";
import { DEFAULT_RING_RECORDS, MAX_RING_RECORDS, MIN_RING_RECORDS } from "../trace/buffers.ts";
import type { Vm } from "../hypervisor/vm.ts";
import { ConfigError } from "../errors.ts";
import { parseCount } from "./options.ts";
import type { RunFlags } from "./run-flags.ts";
import { checkTopTerminal, LiveTop } from "./top.ts";

export class RunObservers {
  private constructor(
    private readonly trace: TraceFile | undefined,
    /** With --top the view owns the terminal: the guest's console output goes to its pane, stdin to its keys. */
    readonly top: LiveTop | undefined,
  ) {}

  static from(flags: RunFlags): RunObservers {
    if (flags.traceRing !== undefined && flags.trace === undefined) throw new ConfigError("--trace-ring sizes the rings of --trace FILE: give --trace too");
    if (flags.top) checkTopTerminal();
    let trace: TraceFile | undefined;
    if (flags.trace !== undefined) {
      const ringRecords = flags.traceRing === undefined ? DEFAULT_RING_RECORDS : parseCount("--trace-ring", flags.traceRing, MIN_RING_RECORDS, MAX_RING_RECORDS);
      trace = TraceFile.open(flags.trace, { ringRecords });
    }
    return new RunObservers(trace, flags.top ? new LiveTop() : undefined);
  }

  /** Where the guest's console output goes: the terminal, or --top's pane. */
  output(stdout: (byte: number) => void): (byte: number) => void {
    return this.top?.consoleByte ?? stdout;
  }

  /** A VM just created, before it starts: traced if --trace. */
  attach(vm: Vm): void {
    this.trace?.attach(vm);
  }

  /** After the run: the terminal back from --top, the trace file complete; returns what to report on stderr. */
  async close(): Promise<string[]> {
    this.top?.close();
    if (this.trace === undefined) return [];
    const t = await this.trace.close();
    const lines = [`popek: trace: ${t.records} records in ${t.file} (popek trace ${t.file} --summary)`];
    if (t.dropped > 0) lines.push(`popek: trace: ${t.dropped} records dropped: a ring was full (a larger --trace-ring keeps more)`);
    return lines;
  }
}
