/*
 * The command dispatcher against a real board (GDB manual, appendix E
 * "Packets"): registers, memory as the hart sees it (Sv39 included),
 * breakpoints, stepping, threads, and the replies to what it does not know
 * or cannot parse.
 */

import { describe, expect, it } from "vitest";
import { Dispatcher, type Action } from "../../src/gdb/commands.ts";
import { GdbTarget } from "../../src/gdb/target.ts";
import { TARGET_XML } from "../../src/gdb/target-xml.ts";
import { enc } from "../../src/isa/encode.ts";
import { REG } from "../../src/isa/regnames.ts";
import type { Board } from "../../src/machine/board.ts";
import type { Hart } from "../../src/machine/hart.ts";
import { DRAM_BASE } from "../../src/machine/memlayout.ts";
import * as R from "../../src/machine/riscv.ts";
import { DEBUG_CAUSE_EBREAK, DEBUG_NOT_HALTED } from "../../src/machine/dcsr.ts";
import { bootedBoard, loopGuest } from "./guest.ts";

function setup(harts = 1): { board: Board; d: Dispatcher<Hart>; target: GdbTarget } {
  const board = bootedBoard(loopGuest(10).image, harts);
  const target = new GdbTarget(board);
  target.attach(true);
  return { board, d: new Dispatcher(target), target };
}

/** The reply text of a packet (failing the test if it was an action). */
function ask(d: Dispatcher<Hart>, packet: string): string {
  const a: Action<Hart> = d.handle(packet);
  if (a.kind !== "reply") throw new Error(`${packet}: ${a.kind}, not a reply`);
  return a.text;
}

/** A 64-bit value as a register's target-order (little-endian) hex. */
function le64(v: bigint): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b.toString("hex");
}

describe("queries", () => {
  it("qSupported announces the packet size, target.xml and no-ack mode", () => {
    const { d } = setup();
    expect(ask(d, "qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386")).toBe("PacketSize=4000;qXfer:features:read+;QStartNoAckMode+;vContSupported+");
  });

  it("serves target.xml in pieces: 'm' while more follows, 'l' for the last", () => {
    const { d } = setup();
    let xml = "";
    for (let off = 0; ; off += 100) {
      const r = ask(d, `qXfer:features:read:target.xml:${off.toString(16)},64`);
      xml += r.slice(1);
      if (r[0] === "l") break;
      expect(r[0]).toBe("m");
    }
    expect(xml).toBe(TARGET_XML);
    expect(xml).toContain('<feature name="org.gnu.gdb.riscv.cpu">');
    expect(xml).toContain('<reg name="zero" bitsize="64" type="int" regnum="0"/>');
    expect(xml).toContain('<reg name="pc" bitsize="64" type="code_ptr" regnum="32"/>');
    expect(ask(d, "qXfer:features:read:other.xml:0,100")).toBe("E00");
  });

  it("names the harts as threads 1..N", () => {
    const { d } = setup(3);
    expect(ask(d, "qfThreadInfo")).toBe("m1,2,3");
    expect(ask(d, "qsThreadInfo")).toBe("l");
    expect(ask(d, "qC")).toBe("QC1");
    expect(ask(d, "T3")).toBe("OK");
    expect(ask(d, "T4")).toMatch(/^E/);
    expect(Buffer.from(ask(d, "qThreadExtraInfo,2"), "hex").toString()).toBe("hart 1, M-mode");
    expect(ask(d, "qAttached")).toBe("1");
  });

  it("answers what it does not support with the empty reply", () => {
    const { d } = setup();
    for (const p of ["qTStatus", "vMustReplyEmpty", "Z2,80000000,4", "Z3,80000000,4", "Z4,80000000,4", "!", "qXfer:threads:read::0,100", "vRun;"]) expect(ask(d, p), p).toBe("");
  });
});

describe("registers", () => {
  it("'g' is x0..x31, pc and priv, little-endian, as the board booted them", () => {
    const { d, board } = setup();
    const g = ask(d, "g");
    expect(g.length).toBe(33 * 16 + 2);
    expect(g.slice(32 * 16, 33 * 16)).toBe(le64(BigInt(DRAM_BASE)));
    expect(g.slice(REG.a1 * 16, REG.a1 * 16 + 16)).toBe(le64(BigInt(board.fdtAddr)));
    expect(g.slice(33 * 16)).toBe("03"); // M-mode
  });

  it("'P' writes a register and 'p' reads it back; x0 stays zero; priv is read-only", () => {
    const { d, board } = setup();
    expect(ask(d, `P${REG.a0.toString(16)}=${le64(-2n)}`)).toBe("OK");
    expect(board.harts[0].getRegBig(REG.a0)).toBe(-2n);
    expect(ask(d, `p${REG.a0.toString(16)}`)).toBe(le64(-2n));
    expect(ask(d, `P0=${le64(5n)}`)).toBe("OK");
    expect(ask(d, "p0")).toBe(le64(0n));
    expect(ask(d, `P20=${le64(0x80000010n)}`)).toBe("OK");
    expect(board.harts[0].pc).toBe(0x80000010);
    expect(ask(d, "p21")).toBe("03");
    expect(ask(d, "P21=01")).toMatch(/^E/);
    expect(ask(d, "P21=03")).toBe("OK");
  });

  it("'G' writes them all, and refuses a malformed set without changing any", () => {
    const { d, board } = setup();
    const g = ask(d, "g");
    const changed = le64(0n) + le64(0x1234n) + g.slice(32);
    expect(ask(d, `G${changed}`)).toBe("OK");
    expect(board.harts[0].getRegBig(REG.ra)).toBe(0x1234n);
    expect(ask(d, `G${g.slice(0, 100)}zz`)).toMatch(/^E/);
    expect(board.harts[0].getRegBig(REG.ra)).toBe(0x1234n);
  });

  it("reads the registers of the thread Hg selects", () => {
    const { d } = setup(2);
    expect(ask(d, "Hg2")).toBe("OK");
    expect(ask(d, `p${REG.a0.toString(16)}`)).toBe(le64(1n)); // a0 = hart id at boot
    expect(ask(d, "Hg0")).toBe("OK"); // any: keeps the current one
    expect(ask(d, `p${REG.a0.toString(16)}`)).toBe(le64(1n));
    expect(ask(d, "Hg9")).toMatch(/^E/);
    expect(ask(d, "Hc-1")).toBe("OK");
  });
});

describe("memory", () => {
  it("'m' reads guest RAM, 'M' and 'X' write it", () => {
    const { d, board } = setup();
    expect(ask(d, "m80000000,4")).toBe(Buffer.from(board.mem.u8.subarray(0, 4)).toString("hex"));
    expect(ask(d, "M80100000,4:deadbeef")).toBe("OK");
    expect(board.memory.readU32(0x80100000)).toBe(0xefbeadde);
    // Binary: 0x23 ('#') and 0x7d ('}') arrive escaped.
    expect(ask(d, "X80100004,3:}\x03}]\x00")).toBe("OK");
    expect(ask(d, "m80100000,7")).toBe("deadbeef237d00");
    expect(ask(d, "X80100000,0:")).toBe("OK"); // GDB's probe for X support
  });

  it("reads short at the end of RAM and fails where nothing is", () => {
    const { d, board } = setup();
    const end = DRAM_BASE + board.mem.size;
    expect(ask(d, `m${(end - 2).toString(16)},8`)).toHaveLength(4);
    expect(ask(d, "m0,4")).toBe("E0e");
    expect(ask(d, "m10000000,1")).toBe("E0e"); // the UART: a debugger's read must not take its bytes
    expect(ask(d, `M${(end - 2).toString(16)},4:00000000`)).toBe("E0e");
  });

  it("refuses malformed requests with an error, never an exception", () => {
    const { d } = setup();
    for (const p of ["m", "mzz,4", "m80000000", "M80000000,4:zz", "M80000000,4:00", "M80000000,4", "X80000000,2:}", "p99", "pzz", "P1", "Pzz=00", "Z0,zz,4", "Z0,80000000,3", "Hx1", "Hgzz", "vCont;q", "c zz"]) {
      expect(ask(d, p), p).toMatch(/^E/);
    }
  });

  it("writes forget decoded and compiled code: the hart runs the new instruction", () => {
    const { d, board } = setup();
    const h = board.harts[0];
    // Run the first instruction so its page is decoded, then rewrite the second and step to it.
    ask(d, "s");
    const pc = h.pc;
    const addi = Buffer.alloc(4);
    addi.writeUInt32LE(enc.addi(REG.s2, 0, 42));
    expect(ask(d, `M${pc.toString(16)},4:${addi.toString("hex")}`)).toBe("OK");
    ask(d, "s");
    expect(h.getReg(REG.s2)).toBe(42);
  });

  it("reads and writes virtual addresses through the hart's Sv39 tables, without setting A or D", () => {
    const { d, board } = setup();
    const h = board.harts[0];
    const mem = board.memory;
    // A root table at 0x80200000, one level-1 table, one level-0 table: va 0x40001000 -> pa 0x80300000.
    const root = 0x80200000, l1 = 0x80201000, l0 = 0x80202000, frame = 0x80300000;
    const va = 0x40001000;
    const pte = (pa: number, flags: number): bigint => (BigInt(pa / 4096) << 10n) | BigInt(flags | R.PTE_V);
    mem.writeU64(root + 8 * ((va >>> 30) & 0x1ff), pte(l1, 0));
    mem.writeU64(l1 + 8 * ((va >>> 21) & 0x1ff), pte(l0, 0));
    const leafAt = l0 + 8 * ((va >>> 12) & 0x1ff);
    mem.writeU64(leafAt, pte(frame, R.PTE_R | R.PTE_W)); // no A, no D
    // A 1 GiB superpage too, in the upper half: va 0xffffffffc0000000 -> pa 0x80000000.
    mem.writeU64(root + 8 * 511, pte(DRAM_BASE, R.PTE_R | R.PTE_X | R.PTE_A));
    h.csr.write(R.CSR_SATP, root / 4096, R.SATP_MODE_SV39 << 28);
    h.csr.priv = R.PRV_S;

    expect(ask(d, `M${va.toString(16)},4:11223344`)).toBe("OK");
    expect(mem.readU32(frame)).toBe(0x44332211);
    expect(ask(d, `m${(va + 1).toString(16)},2`)).toBe("2233");
    expect(mem.readU64(leafAt) & BigInt(R.PTE_A | R.PTE_D)).toBe(0n);
    expect(ask(d, "mffffffffc0000004,4")).toBe(Buffer.from(board.mem.u8.subarray(4, 8)).toString("hex"));
    expect(ask(d, "m40002000,4")).toBe("E0e"); // unmapped
    expect(ask(d, "m4000000000,4")).toBe("E0e"); // not canonical for Sv39
    // In M-mode the same address is physical again.
    h.csr.priv = R.PRV_M;
    expect(ask(d, `m${frame.toString(16)},4`)).toBe("11223344");
  });
});

describe("breakpoints and stepping", () => {
  it("Z0 plants ebreak (c.ebreak for kind 2) where reads still show the original; z0 restores it", () => {
    const { d, board } = setup();
    const g = loopGuest(10);
    const before = ask(d, `m${g.loop.toString(16)},4`);
    expect(ask(d, `Z0,${g.loop.toString(16)},4`)).toBe("OK");
    expect(board.memory.readU32(g.loop)).toBe(enc.ebreak());
    expect(ask(d, `m${g.loop.toString(16)},4`)).toBe(before);
    expect(ask(d, `Z0,${g.branch.toString(16)},2`)).toBe("OK");
    expect(board.memory.readU16(g.branch)).toBe(enc.c_ebreak());
    expect(ask(d, `z0,${g.loop.toString(16)},4`)).toBe("OK");
    expect(ask(d, `z0,${g.branch.toString(16)},2`)).toBe("OK");
    expect(ask(d, `m${g.loop.toString(16)},4`)).toBe(before);
    expect(board.memory.readU32(g.loop)).toBe(Buffer.from(before, "hex").readUInt32LE());
    expect(ask(d, `z0,${g.loop.toString(16)},4`)).toMatch(/^E/); // none there any more
    expect(ask(d, "Z0,0,4")).toMatch(/^E/); // not RAM
  });

  it("Z1 (hbreak) plants the same ebreak: the harts have no trigger module", () => {
    const { d, board } = setup();
    const g = loopGuest(10);
    expect(ask(d, `Z1,${g.loop.toString(16)},4`)).toBe("OK");
    expect(board.memory.readU32(g.loop)).toBe(enc.ebreak());
    expect(ask(d, `z1,${g.loop.toString(16)},4`)).toBe("OK");
    expect(board.memory.readU32(g.loop)).toBe(enc.addi(REG.t0, REG.t0, 1));
  });

  it("a write over a breakpoint changes what it restores, and the ebreak stays", () => {
    const { d, board } = setup();
    const g = loopGuest(10);
    ask(d, `Z0,${g.loop.toString(16)},4`);
    expect(ask(d, `M${g.loop.toString(16)},4:13000000`)).toBe("OK"); // nop
    expect(board.memory.readU32(g.loop)).toBe(enc.ebreak());
    expect(ask(d, `m${g.loop.toString(16)},4`)).toBe("13000000");
    ask(d, `z0,${g.loop.toString(16)},4`);
    expect(board.memory.readU32(g.loop)).toBe(0x13);
  });

  it("'s' runs one instruction and reports SIGTRAP on the stepped thread", () => {
    const { d, board } = setup(2);
    ask(d, "Hc2");
    const h = board.harts[1];
    expect(ask(d, "s")).toBe("T05thread:2;");
    expect(h.pc).toBe(loopGuest(10).start); // the jal over the handler
    expect(board.harts[0].pc).toBe(DRAM_BASE); // the other hart did not move
    expect(ask(d, "qC")).toBe("QC2");
    expect(ask(d, "vCont;s:1;c")).toBe("T05thread:1;");
    expect(board.harts[0].pc).not.toBe(DRAM_BASE);
    expect(h.retired()).toBe(1);
  });

  it("stepping onto the guest's own ebreak takes its breakpoint exception, as without a debugger", () => {
    const { d, board } = setup();
    const g = loopGuest(10);
    const h = board.harts[0];
    h.csr.write(R.CSR_MTVEC, g.handler, 0);
    ask(d, `P20=${le64(BigInt(g.ebreak))}`);
    expect(ask(d, "s")).toBe("T05thread:1;");
    expect(h.pc).toBe(g.handler);
    expect(h.csr.lo[R.CSR_MCAUSE]).toBe(R.CAUSE_BREAKPOINT);
  });

  it("a halt on a breakpoint removed since (its debugger left) runs the original instruction, without a trap", () => {
    const { board, target } = setup();
    const h = board.harts[0];
    h.debug.cause = DEBUG_CAUSE_EBREAK; // as if it had hit one of ours at the entry
    expect(target.passGuestEbreak(h)).toBe(true);
    expect(h.debug.cause).toBe(DEBUG_NOT_HALTED);
    expect(h.pc).toBe(DRAM_BASE);
    expect(h.counters.traps).toBe(0);
  });

  it("a step that ends the guest reports W and its exit status", () => {
    const { d, board } = setup();
    const h = board.harts[0];
    const g = loopGuest(10);
    for (let i = 0; i < 200 && board.exit === undefined; i++) {
      if (h.pc === g.ebreak) ask(d, `P20=${le64(BigInt(g.ebreak + 4))}`);
      const r = ask(d, "s");
      if (board.exit !== undefined) expect(r).toBe("W07");
    }
    expect(board.exit).toEqual({ kind: "finisher", code: 7 });
  });

  it("'c' and 'vCont;c' hand the run back to the stub, with the harts to resume; 'k' and 'D' are actions too", () => {
    const { d, board } = setup(3);
    const [h0, h1, h2] = board.harts;
    expect(d.handle("c")).toEqual({ kind: "continue", harts: [h0, h1, h2] });
    expect(d.handle("vCont;c")).toEqual({ kind: "continue", harts: [h0, h1, h2] });
    expect(d.handle("C05")).toEqual({ kind: "continue", harts: [h0, h1, h2] });
    // GDB's software single-step of thread 2 with scheduler-locking on: only that thread runs.
    expect(d.handle("vCont;c:2")).toEqual({ kind: "continue", harts: [h1] });
    // The first action naming a thread wins; the thread-less one covers the rest.
    expect(d.handle("vCont;t:1;c")).toEqual({ kind: "continue", harts: [h1, h2] });
    expect(d.handle("vCont;t")).toEqual({ kind: "reply", text: "E16" }); // nothing to run
    expect(ask(d, "vCont?")).toBe("vCont;c;C;s;S");
    expect(d.handle("k")).toEqual({ kind: "kill", ok: false });
    expect(d.handle("vKill;1")).toEqual({ kind: "kill", ok: true });
    expect(d.handle("D")).toEqual({ kind: "detach" });
  });
});
