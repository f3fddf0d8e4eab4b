/*
 * The stub with the run loop (runBoard) and a scripted debugger on a fake
 * connection: halting before the first instruction (-S), continuing to a
 * breakpoint planted in code the block tier has compiled, Ctrl-C, the
 * guest's exit as W, kill, detach, a debugger that goes away, and the
 * acknowledgment rules (malformed packets, '-', no-ack mode).
 */

import { describe, expect, it } from "vitest";
import { GdbStub } from "../../src/gdb/stub.ts";
import type { GdbConnection } from "../../src/gdb/server.ts";
import { checksum } from "../../src/gdb/packet.ts";
import { runBoard, type RunResult } from "../../src/machine/runner.ts";
import { REG } from "../../src/isa/regnames.ts";
import { enc } from "../../src/isa/encode.ts";
import type { Board } from "../../src/machine/board.ts";
import { until } from "../helpers/until.ts";
import { EXIT_STATUS, bootedBoard, loopGuest } from "./guest.ts";

/** A debugger at the other end of a fake connection: what it sent, what came back. */
class FakeGdb implements GdbConnection {
  wire = "";
  closed = false;
  constructor(private readonly stub: GdbStub) {}
  write(bytes: Buffer): void {
    this.wire += bytes.toString("latin1");
  }
  close(): void {
    this.closed = true;
  }
  raw(text: string): void {
    this.stub.receive(this, new Uint8Array(Buffer.from(text, "latin1")));
  }
  send(data: string): void {
    this.raw(`$${data}#${checksum(data).toString(16).padStart(2, "0")}`);
  }
  /** The packets received so far (acks left out). */
  get replies(): string[] {
    return [...this.wire.matchAll(/\$([^#]*)#[0-9a-f]{2}/g)].map((m) => m[1]);
  }
  /** Sends a packet and waits for the reply to it. */
  async ask(data: string): Promise<string> {
    const n = this.replies.length;
    this.send(data);
    await until(`a reply to ${data}`, () => this.replies.length > n);
    return this.replies[n];
  }
}

function start(count: number, opts: { startHalted: boolean; harts?: number }): { board: Board; stub: GdbStub; run: Promise<RunResult>; gdb: FakeGdb } {
  const board = bootedBoard(loopGuest(count).image, opts.harts ?? 1);
  const stub = new GdbStub(board, { startHalted: opts.startHalted });
  const run = runBoard(board, { debugger: stub, slice: 1000 });
  const gdb = new FakeGdb(stub);
  expect(stub.connect(gdb)).toBe(true);
  return { board, stub, run, gdb };
}

const le64 = (v: number): string => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b.toString("hex");
};

describe("the GDB stub with the run loop", () => {
  it("-S: the harts wait at the entry; continue runs the guest, its own ebreak included, to W and its status", async () => {
    const { board, stub, run, gdb } = start(1000, { startHalted: true });
    expect(await gdb.ask("?")).toBe("T05thread:1;");
    expect(board.retired()).toBe(0);
    gdb.send("c");
    const result = await run;
    expect(result).toMatchObject({ outcome: "finisher", exitCode: EXIT_STATUS });
    // The guest's ebreak went to its handler, not to the debugger.
    expect(board.harts[0].getReg(REG.s1)).toBe(1);
    // The run's end is the stop reply GDB waits for.
    stub.finished(result.exitCode);
    expect(gdb.replies.at(-1)).toBe("W07");
    expect(gdb.closed).toBe(true);
  });

  it("Ctrl-C stops a running guest; a breakpoint in compiled code is hit; kill ends the run", async () => {
    const g = loopGuest(2 ** 30);
    const { board, run, gdb } = start(2 ** 30, { startHalted: true });
    await gdb.ask("?");
    gdb.send("c");
    await until("the loop has run hot", () => board.retired() > 50_000);
    const n = gdb.replies.length;
    gdb.raw("\x03");
    await until("the stop reply", () => gdb.replies.length > n);
    expect(gdb.replies[n]).toBe("T02thread:1;");
    expect(board.mem.blocks.compiled + (board.mem.wasm?.modules ?? 0), "the loop runs as compiled blocks").toBeGreaterThan(0);
    const retired = board.retired();
    expect(await gdb.ask(`Z0,${g.loopSecond.toString(16)},4`)).toBe("OK");
    expect(await gdb.ask("c")).toBe("T05thread:1;");
    expect(await gdb.ask("p20")).toBe(le64(g.loopSecond));
    expect(board.retired() - retired).toBeLessThanOrEqual(3); // at most one pass of the loop
    expect(await gdb.ask(`z0,${g.loopSecond.toString(16)},4`)).toBe("OK");
    expect(await gdb.ask("s")).toBe("T05thread:1;");
    expect(await gdb.ask("p20")).toBe(le64(g.branch));
    gdb.send("k");
    expect(await run).toMatchObject({ outcome: "killed" });
    expect(gdb.closed).toBe(true);
  });

  it("a breakpoint halts every hart and names the thread that hit it", async () => {
    const g = loopGuest(100);
    const { board, run, gdb } = start(100, { startHalted: true, harts: 2 });
    await gdb.ask("?");
    // Hart 1 (thread 2) starts at the branch, past the breakpoint; hart 0 runs into it.
    expect(await gdb.ask("Hg2")).toBe("OK");
    expect(await gdb.ask(`P20=${le64(g.branch)}`)).toBe("OK");
    expect(await gdb.ask(`Z0,${g.loop.toString(16)},4`)).toBe("OK");
    const reply = await gdb.ask("c");
    expect(reply).toMatch(/^T05thread:[12];$/);
    const tid = Number(reply.slice("T05thread:".length, -1));
    expect(board.harts[tid - 1].pc).toBe(g.loop);
    expect(await gdb.ask("qC")).toBe(`QC${tid}`);
    gdb.send("k");
    await run;
  });

  it("vCont;c:1 runs thread 1 alone: the other harts stay halted (GDB's stepping with scheduler-locking)", async () => {
    const g = loopGuest(100);
    const { board, run, gdb } = start(100, { startHalted: true, harts: 2 });
    await gdb.ask("?");
    expect(await gdb.ask(`Z0,${g.loopSecond.toString(16)},4`)).toBe("OK");
    expect(await gdb.ask("vCont;c:1")).toBe("T05thread:1;");
    expect(board.harts[0].pc).toBe(g.loopSecond);
    expect(board.harts[1].retired(), "hart 1 never ran").toBe(0);
    expect(board.harts[1].pc).toBe(0x8000_0000);
    // Both run now: whichever reaches the breakpoint first reports it.
    expect(await gdb.ask(`z0,${g.loopSecond.toString(16)},4`)).toBe("OK");
    expect(await gdb.ask(`Z0,${g.branch.toString(16)},4`)).toBe("OK");
    expect(await gdb.ask("vCont;c")).toMatch(/^T05thread:[12];$/);
    gdb.send("k");
    await run;
  });

  it("detach: breakpoints out, the guest runs on to its end without the debugger", async () => {
    const g = loopGuest(1000);
    const { board, run, gdb, stub } = start(1000, { startHalted: true });
    expect(await gdb.ask(`Z0,${g.loop.toString(16)},4`)).toBe("OK");
    expect(await gdb.ask("D")).toBe("OK");
    expect(gdb.closed).toBe(true);
    expect(board.memory.readU32(g.loop)).toBe(enc.addi(REG.t0, REG.t0, 1));
    const result = await run;
    expect(result).toMatchObject({ outcome: "finisher", exitCode: EXIT_STATUS });
    stub.finished(result.exitCode);
    expect(gdb.replies).not.toContain("W07");
  });

  it("a debugger that goes away leaves the guest halted, breakpoints out, for the next one", async () => {
    const g = loopGuest(1000);
    const { board, run, gdb, stub } = start(1000, { startHalted: true });
    expect(await gdb.ask(`Z0,${g.loop.toString(16)},4`)).toBe("OK");
    stub.disconnected(gdb);
    expect(board.memory.readU32(g.loop)).toBe(enc.addi(REG.t0, REG.t0, 1));
    expect(board.harts[0].debug.ebreakm).toBe(false);
    const next = new FakeGdb(stub);
    expect(stub.connect(next)).toBe(true);
    expect(stub.connect(new FakeGdb(stub)), "one debugger at a time").toBe(false);
    expect(board.retired()).toBe(0);
    expect(await next.ask("?")).toBe("T05thread:1;");
    next.send("c");
    stub.finished((await run).exitCode);
    expect(next.replies.at(-1)).toBe("W07");
  });

  it("acknowledges good packets with '+', bad ones with '-', resends on '-', and stops acking in no-ack mode", async () => {
    const { gdb, run } = start(1000, { startHalted: true });
    gdb.raw("$g#00");
    expect(gdb.wire).toBe("-");
    expect(await gdb.ask("qC")).toBe("QC1");
    expect(gdb.wire).toBe("-+$QC1#c5");
    gdb.raw("-");
    expect(gdb.wire).toBe("-+$QC1#c5$QC1#c5");
    expect(await gdb.ask("QStartNoAckMode")).toBe("OK");
    const before = gdb.wire;
    expect(await gdb.ask("qC")).toBe("QC1");
    expect(gdb.wire.slice(before.length)).toBe("$QC1#c5");
    gdb.send("k");
    await run;
  });

  it("a connection while the guest runs halts it; packets wait for the halt", async () => {
    const board = bootedBoard(loopGuest(2 ** 30).image);
    const stub = new GdbStub(board, { startHalted: false });
    const run = runBoard(board, { debugger: stub, slice: 1000 });
    await until("the guest runs", () => board.retired() > 10_000);
    const gdb = new FakeGdb(stub);
    stub.connect(gdb);
    expect(await gdb.ask("?")).toBe("T05thread:1;");
    const retired = board.retired();
    expect(await gdb.ask("g")).toHaveLength(33 * 16 + 2);
    expect(board.retired()).toBe(retired);
    stub.kill();
    expect(await run).toMatchObject({ outcome: "killed" });
  });
});
