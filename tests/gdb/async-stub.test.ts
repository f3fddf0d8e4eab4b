/*
 * The stub for machines that halt some time after being asked (a VM's
 * vCPUs, src/hypervisor/vm-debug.ts), with a scripted machine and a fake
 * connection: packets wait while the machine is halting, a breakpoint stop
 * names the thread that hit it, Ctrl-C says SIGINT, 'c' resumes the threads
 * GDB names, kill and the guest's exit end the session, detach takes the
 * breakpoints out and lets everything run.
 */

import { describe, expect, it } from "vitest";
import { AsyncGdbStub, type AsyncMachine } from "../../src/gdb/async-stub.ts";
import type { DebugTarget } from "../../src/gdb/debug-target.ts";
import { checksum } from "../../src/gdb/packet.ts";
import type { GdbConnection } from "../../src/gdb/server.ts";

/** Two threads whose only state is x1; no memory. */
function fakeTarget(): DebugTarget<number> & { attach(on: boolean): void; attached: boolean[] } {
  const x1 = [0n, 0n];
  const hex = (v: bigint): string => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return b.toString("hex");
  };
  return {
    threads: [0, 1],
    thread: (tid) => (tid === 1 || tid === 2 ? tid - 1 : undefined),
    tidOf: (t) => t + 1,
    describe: (t) => `thread ${t}`,
    exitCode: undefined,
    readRegister: (t, n) => (n === 1 ? hex(x1[t]) : undefined),
    writeRegister: (t, n, v) => n === 1 && ((x1[t] = Buffer.from(v, "hex").readBigUInt64LE()), true),
    readRegisters: (t) => hex(x1[t]),
    writeRegisters: () => false,
    readMemory: () => new Uint8Array(0),
    writeMemory: () => false,
    insertBreakpoint: () => true,
    removeBreakpoint: () => true,
    attached: [],
    attach(on) {
      this.attached.push(on);
    },
  };
}

/** A machine whose halts complete when the test says so. */
class FakeMachine implements AsyncMachine<number> {
  readonly target = fakeTarget();
  running: number[] = [0, 1];
  stopped: number | undefined;
  killed = false;
  private finishHalt: (() => void) | undefined;
  halt(): Promise<void> {
    return new Promise((resolve) => (this.finishHalt = resolve));
  }
  /** The threads have parked. */
  async parked(): Promise<void> {
    this.running = [];
    this.finishHalt?.();
    await Promise.resolve();
  }
  resume(threads: readonly number[]): void {
    this.running = [...threads];
    this.stopped = undefined;
  }
  stoppedAt(): number | undefined {
    return this.stopped;
  }
  kill(): void {
    this.killed = true;
  }
}

class FakeGdb implements GdbConnection {
  wire = "";
  closed = false;
  constructor(private readonly stub: AsyncGdbStub<number>) {}
  write(bytes: Buffer): void {
    this.wire += bytes.toString("latin1");
  }
  close(): void {
    this.closed = true;
  }
  send(data: string): void {
    this.stub.receive(this, new Uint8Array(Buffer.from(`$${data}#${checksum(data).toString(16).padStart(2, "0")}`, "latin1")));
  }
  interrupt(): void {
    this.stub.receive(this, new Uint8Array([0x03]));
  }
  get replies(): string[] {
    return [...this.wire.matchAll(/\$([^#]*)#[0-9a-f]{2}/g)].map((m) => m[1]);
  }
}

function attached(): { machine: FakeMachine; stub: AsyncGdbStub<number>; gdb: FakeGdb } {
  const machine = new FakeMachine();
  const stub = new AsyncGdbStub(machine);
  const gdb = new FakeGdb(stub);
  expect(stub.connect(gdb)).toBe(true);
  return { machine, stub, gdb };
}

describe("the GDB stub for a machine that halts asynchronously", () => {
  it("a connection halts the machine; packets sent meanwhile are answered once it has", async () => {
    const { machine, gdb } = attached();
    expect(machine.target.attached).toEqual([true]);
    gdb.send("?");
    gdb.send("qfThreadInfo");
    expect(gdb.replies).toEqual([]);
    await machine.parked();
    expect(gdb.replies).toEqual(["T05thread:1;", "m1,2"]);
  });

  it("packets that waited are answered in order until one resumes the machine; the rest wait for the next halt", async () => {
    const { machine, gdb } = attached();
    gdb.send("?");
    gdb.send("vCont;c");
    gdb.send("qfThreadInfo");
    await machine.parked();
    expect(gdb.replies).toEqual(["T05thread:1;"]);
    expect(machine.running).toEqual([0, 1]);
    gdb.interrupt();
    await machine.parked();
    expect(gdb.replies).toEqual(["T05thread:1;", "T02thread:1;", "m1,2"]);
  });

  it("a breakpoint stop names the thread that hit it, and becomes GDB's current thread", async () => {
    const { machine, stub, gdb } = attached();
    await machine.parked();
    gdb.send("vCont;c");
    expect(machine.running).toEqual([0, 1]);
    machine.stopped = 1;
    stub.breakpointHit();
    await machine.parked();
    expect(gdb.replies.at(-1)).toBe("T05thread:2;");
    gdb.send("P1=2a00000000000000");
    gdb.send("p1");
    expect(gdb.replies.slice(-2)).toEqual(["OK", "2a00000000000000"]);
  });

  it("Ctrl-C halts a running machine with SIGINT; one thread continued alone leaves the other halted", async () => {
    const { machine, gdb } = attached();
    await machine.parked();
    gdb.send("vCont;c:2");
    expect(machine.running).toEqual([1]);
    gdb.interrupt();
    await machine.parked();
    expect(gdb.replies.at(-1)).toBe("T02thread:1;");
  });

  it("cannot step a thread by itself: vCont? offers no s, and s is refused", async () => {
    const { machine, gdb } = attached();
    await machine.parked();
    gdb.send("vCont?");
    gdb.send("s");
    expect(gdb.replies.slice(-2)).toEqual(["vCont;c;C", "E16"]);
  });

  it("the guest's exit reaches GDB as W; kill ends the run without it", async () => {
    const first = attached();
    await first.machine.parked();
    first.gdb.send("c");
    first.stub.finished(3);
    expect(first.gdb.replies.at(-1)).toBe("W03");
    expect(first.gdb.closed).toBe(true);

    const second = attached();
    await second.machine.parked();
    second.gdb.send("vKill;1");
    expect(second.machine.killed).toBe(true);
    second.stub.finished(0);
    expect(second.gdb.replies.at(-1)).toBe("OK");
  });

  it("detach takes the breakpoints out and lets every thread run; the next debugger takes over", async () => {
    const { machine, stub, gdb } = attached();
    await machine.parked();
    gdb.send("D");
    expect(gdb.replies.at(-1)).toBe("OK");
    expect(machine.target.attached).toEqual([true, false]);
    expect(machine.running).toEqual([0, 1]);
    const next = new FakeGdb(stub);
    expect(stub.connect(next)).toBe(true);
    expect(stub.connect(new FakeGdb(stub))).toBe(false); // one at a time
  });
});
