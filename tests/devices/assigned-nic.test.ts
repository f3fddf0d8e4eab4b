/*
 * The assigned NIC's engine and IOMMU, one step at a time on this thread:
 * a register page, machine memory with a G-stage table mapping a small
 * "guest RAM", rings built by hand the way a driver builds them, and a port
 * that records what the device sends. Hostile descriptors and rings from the
 * driver's side: every one is blocked or refused, counted, and bounded.
 */

import { describe, expect, it } from "vitest";
import { NicEngine, newNicStats, readNicStats, type NicPort } from "../../src/devices/assigned-nic/engine.ts";
import * as I from "../../src/devices/assigned-nic/iommu.ts";
import * as G from "../../src/devices/assigned-nic/regs.ts";
import { ST_MIP_HW } from "../../src/machine/csr.ts";
import { DRAM_BASE, PAGE_SIZE } from "../../src/machine/memlayout.ts";
import { MIP_POSTED } from "../../src/machine/riscv.ts";
import { FrameRing } from "../../src/net/ring.ts";

/** Guest RAM as the device's G-stage maps it: GUEST_PAGES pages from GUEST_BASE, each on the machine frame FIRST_FRAME + 2 * i (not contiguous). */
const GUEST_BASE = 0x8000_0000;
const GUEST_PAGES = 16;
const MACHINE_BYTES = 256 * PAGE_SIZE;
const FIRST_FRAME = DRAM_BASE + 64 * PAGE_SIZE;

/** A port that records what the device sends (taken out of a real ring as the switch would); `incoming` is what the switch has queued for it. */
class FakePort implements NicPort {
  readonly sent: Uint8Array[] = [];
  readonly incoming: Uint8Array[] = [];
  /** Frames the switch takes in all (what it has no room for waits in the device's ring). */
  room = Infinity;
  rings = 0;
  /** Times the device asked to be rung when the switch has room. */
  roomWanted = 0;
  readonly toSwitch: NicPort["toSwitch"];
  readonly toNic: NicPort["toNic"];
  private readonly out = FrameRing.create(64);

  constructor() {
    const out = this.out;
    this.toSwitch = {
      bytes: out.bytes,
      reserve: (max) => {
        this.collect();
        return out.reserve(Math.max(0, Math.min(max, this.room - this.sent.length)));
      },
      dataAt: (k) => out.dataAt(k),
      setLength: (k, len) => out.setLength(k, len),
      commit: (n) => {
        out.commit(n);
        this.collect();
      },
    };
    const incoming = this.incoming;
    this.toNic = {
      get length(): number {
        return incoming.length;
      },
      drain(handler: (f: Uint8Array) => void, max = Infinity): number {
        let n = 0;
        for (; n < max && incoming.length > 0; n++) handler(incoming.shift()!);
        return n;
      },
    };
  }
  ring(): void {
    this.rings++;
  }
  wantRoom(): void {
    this.roomWanted++;
  }
  private collect(): void {
    this.out.drain((f) => this.sent.push(f.slice()));
  }
}

interface Rig {
  readonly engine: NicEngine;
  readonly page: Int32Array;
  readonly machine: SharedArrayBuffer;
  readonly dv: DataView;
  readonly dc: I.DeviceContextWriter;
  readonly port: FakePort;
  readonly mip: Int32Array;
  readonly stats: SharedArrayBuffer;
}

/** Machine offset of a guest address (the rig's own map). */
function machineOf(gpa: number): number {
  const page = Math.floor((gpa - GUEST_BASE) / PAGE_SIZE);
  return FIRST_FRAME + 2 * page * PAGE_SIZE - DRAM_BASE + ((gpa - GUEST_BASE) % PAGE_SIZE);
}

function rig(): Rig {
  const machine = new SharedArrayBuffer(MACHINE_BYTES);
  let next = DRAM_BASE; // table frames from the bottom of machine memory
  const table = new I.GStageTable(machine, () => {
    const f = next;
    next += PAGE_SIZE;
    return f;
  });
  for (let i = 0; i < GUEST_PAGES; i++) table.map(GUEST_BASE + i * PAGE_SIZE, FIRST_FRAME + 2 * i * PAGE_SIZE);
  const dcBuffer = I.newDeviceContext();
  const dc = new I.DeviceContextWriter(dcBuffer);
  dc.gStage(table.root);
  const page = new Int32Array(new SharedArrayBuffer(G.PAGE_BYTES));
  const port = new FakePort();
  const mip = new Int32Array(new SharedArrayBuffer(16));
  const stats = newNicStats();
  const engine = new NicEngine(page, new I.Iommu(dcBuffer, machine, machine.byteLength), machine, port, [{ mip, mipIndex: ST_MIP_HW }], stats);
  return { engine, page, machine, dv: new DataView(machine), dc, port, mip, stats };
}

function setReg(r: Rig, reg: number, v: number): void {
  Atomics.store(r.page, G.word(reg), v | 0);
}
function reg(r: Rig, reg: number): number {
  return Atomics.load(r.page, G.word(reg)) >>> 0;
}

const TX_RING = GUEST_BASE;
const RX_RING = GUEST_BASE + 0x800;
const BUFFERS = GUEST_BASE + PAGE_SIZE;

/** Configures rings of `size` descriptors and enables the device, as a driver does. */
function start(r: Rig, size = 8, tx = TX_RING, rx = RX_RING): void {
  setReg(r, G.REG_TX_BASE_LO, tx % 2 ** 32);
  setReg(r, G.REG_TX_BASE_HI, Math.floor(tx / 2 ** 32));
  setReg(r, G.REG_TX_SIZE, size);
  setReg(r, G.REG_RX_BASE_LO, rx % 2 ** 32);
  setReg(r, G.REG_RX_BASE_HI, Math.floor(rx / 2 ** 32));
  setReg(r, G.REG_RX_SIZE, size);
  setReg(r, G.REG_CTRL, G.CTRL_ENABLE);
  r.engine.step();
}

function putDesc(r: Rig, ring: number, i: number, addr: number, len: number): void {
  const off = machineOf(ring + i * G.DESC_BYTES);
  r.dv.setUint32(off + G.DESC_ADDR, addr % 2 ** 32, true);
  r.dv.setUint32(off + G.DESC_ADDR + 4, Math.floor(addr / 2 ** 32), true);
  r.dv.setUint16(off + G.DESC_LEN, len, true);
  r.dv.setUint32(off + G.DESC_STATUS, 0, true);
}

function descStatus(r: Rig, ring: number, i: number): number {
  return r.dv.getUint32(machineOf(ring + i * G.DESC_BYTES) + G.DESC_STATUS, true);
}

function putFrame(r: Rig, gpa: number, len: number, seed: number): void {
  for (let i = 0; i < len; i++) new Uint8Array(r.machine)[machineOf(gpa + i)] = (seed + i) & 0xff;
}

describe("assigned NIC: starting", () => {
  it("a well-formed configuration runs, heads at 0", () => {
    const r = rig();
    start(r);
    expect(reg(r, G.REG_STATUS)).toBe(G.STATUS_RUNNING);
    expect(reg(r, G.REG_TX_HEAD)).toBe(0);
  });

  it.each([
    ["0 entries", 0],
    ["not a power of two", 6],
    ["above RING_MAX", 2 * G.RING_MAX],
  ])("a ring of %s is refused (FAILED, ERR_RING_SIZE)", (_name, size) => {
    const r = rig();
    start(r, size);
    expect(reg(r, G.REG_STATUS)).toBe(G.STATUS_FAILED);
    expect(reg(r, G.REG_ERROR)).toBe(G.ERR_RING_SIZE);
  });

  it("a ring base that is not 16-byte aligned is refused (ERR_RING_ALIGN); clearing ENABLE resets the device", () => {
    const r = rig();
    start(r, 8, TX_RING + 8);
    expect(reg(r, G.REG_ERROR)).toBe(G.ERR_RING_ALIGN);
    setReg(r, G.REG_CTRL, 0);
    r.engine.step();
    expect(reg(r, G.REG_STATUS)).toBe(0);
    start(r);
    expect(reg(r, G.REG_STATUS)).toBe(G.STATUS_RUNNING);
  });
});

describe("assigned NIC: transmit", () => {
  it("sends each descriptor's frame, writes DONE back and advances TX_HEAD, ringing the switch once per batch", () => {
    const r = rig();
    start(r);
    for (let i = 0; i < 3; i++) {
      putFrame(r, BUFFERS + i * 2048, 100 + i, i);
      putDesc(r, TX_RING, i, BUFFERS + i * 2048, 100 + i);
    }
    setReg(r, G.REG_TX_TAIL, 3);
    expect(r.engine.step()).toBe(3);
    expect(r.port.sent.map((f) => f.length)).toEqual([100, 101, 102]);
    expect(r.port.sent[2][5]).toBe(7);
    expect(reg(r, G.REG_TX_HEAD)).toBe(3);
    expect(descStatus(r, TX_RING, 0)).toBe(G.DESC_DONE);
    expect(r.port.rings).toBe(1);
  });

  it("a frame that spans two guest pages on non-adjacent machine frames arrives whole", () => {
    const r = rig();
    start(r);
    const at = BUFFERS + PAGE_SIZE - 10;
    putFrame(r, at, 60, 3);
    putDesc(r, TX_RING, 0, at, 60);
    setReg(r, G.REG_TX_TAIL, 1);
    r.engine.step();
    expect(Array.from(r.port.sent[0])).toEqual(Array.from({ length: 60 }, (_, i) => (3 + i) & 0xff));
  });

  it("a frame outside the guest's map is blocked and counted by the IOMMU; the descriptor ends in ERROR and the device goes on", () => {
    const r = rig();
    start(r);
    putDesc(r, TX_RING, 0, 0x1000_0000, 64); // the UART's window, not RAM
    putDesc(r, TX_RING, 1, GUEST_BASE + GUEST_PAGES * PAGE_SIZE, 64); // just past the guest's RAM
    putFrame(r, BUFFERS, 64, 1);
    putDesc(r, TX_RING, 2, BUFFERS, 64);
    setReg(r, G.REG_TX_TAIL, 3);
    r.engine.step();
    expect(r.port.sent).toHaveLength(1);
    expect(descStatus(r, TX_RING, 0)).toBe((G.DESC_DONE | G.DESC_ERROR) >>> 0);
    expect(descStatus(r, TX_RING, 1)).toBe((G.DESC_DONE | G.DESC_ERROR) >>> 0);
    expect(r.dc.blocked).toBe(2);
    expect(r.dc.lastCause).toBe(I.CAUSE_READ_GUEST_PAGE);
    expect(reg(r, G.REG_STATUS)).toBe(G.STATUS_RUNNING);
    expect(readNicStats(r.stats).desc_errors).toBe(2);
  });

  it.each([
    ["zero-length", 0],
    ["shorter than an Ethernet header", 13],
    ["longer than the largest frame", 1519],
  ])("a %s frame ends in ERROR without a byte read", (_name, len) => {
    const r = rig();
    start(r);
    putDesc(r, TX_RING, 0, BUFFERS, len);
    setReg(r, G.REG_TX_TAIL, 1);
    r.engine.step();
    expect(r.port.sent).toHaveLength(0);
    expect(descStatus(r, TX_RING, 0)).toBe((G.DESC_DONE | G.DESC_ERROR) >>> 0);
  });

  it("a TX ring outside the map stops the device (FAILED, ERR_DESC_DMA) after one blocked read", () => {
    const r = rig();
    start(r, 8, 0x1000_a000);
    setReg(r, G.REG_TX_TAIL, 1);
    r.engine.step();
    expect(reg(r, G.REG_STATUS)).toBe(G.STATUS_FAILED);
    expect(reg(r, G.REG_ERROR)).toBe(G.ERR_DESC_DMA);
    expect(r.dc.blocked).toBe(1);
    r.engine.step();
    expect(r.dc.blocked).toBe(1); // stopped: nothing more is tried until the driver resets it
  });

  it("a tail more than a ring ahead of the head stops the device (ERR_TX_OVERRUN)", () => {
    const r = rig();
    start(r);
    setReg(r, G.REG_TX_TAIL, 9);
    r.engine.step();
    expect(reg(r, G.REG_ERROR)).toBe(G.ERR_TX_OVERRUN);
    expect(r.port.sent).toHaveLength(0);
  });

  it("one step sends at most one ring's worth: the loop is bounded by the ring size", () => {
    const r = rig();
    start(r);
    putFrame(r, BUFFERS, 64, 0);
    for (let i = 0; i < 8; i++) putDesc(r, TX_RING, i, BUFFERS, 64);
    setReg(r, G.REG_TX_TAIL, 8);
    expect(r.engine.step()).toBe(8);
    expect(r.engine.step()).toBe(0);
    expect(reg(r, G.REG_TX_HEAD)).toBe(8);
  });

  it("a batch larger than a chunk goes in one step with one doorbell, each page walked once", () => {
    const r = rig();
    start(r, 256);
    for (let i = 0; i < 256; i++) {
      const at = BUFFERS + (i % 8) * 1536;
      if (i < 8) putFrame(r, at, 100, i);
      putDesc(r, TX_RING, i, at, 100);
    }
    setReg(r, G.REG_TX_TAIL, 256);
    expect(r.engine.step()).toBe(256);
    expect(r.port.sent).toHaveLength(256);
    expect(r.port.sent[255][0]).toBe(7);
    expect(reg(r, G.REG_TX_HEAD)).toBe(256);
    expect(r.port.rings).toBe(1);
    expect(r.dc.walks).toBeLessThanOrEqual(GUEST_PAGES); // each page walked at most once
  });

  it("a descriptor it cannot read mid-batch: what came before is sent and written back, then the device stops", () => {
    const r = rig();
    const edge = GUEST_BASE + GUEST_PAGES * PAGE_SIZE - 2 * G.DESC_BYTES; // descriptors 0 and 1 in the map, 2 and 3 past it
    start(r, 4, edge);
    putFrame(r, BUFFERS, 64, 0);
    for (let i = 0; i < 2; i++) putDesc(r, edge, i, BUFFERS, 64);
    setReg(r, G.REG_TX_TAIL, 3);
    r.engine.step();
    expect(r.port.sent).toHaveLength(2);
    expect(descStatus(r, edge, 1)).toBe(G.DESC_DONE);
    expect(reg(r, G.REG_TX_HEAD)).toBe(2);
    expect(reg(r, G.REG_STATUS)).toBe(G.STATUS_FAILED);
    expect(reg(r, G.REG_ERROR)).toBe(G.ERR_DESC_DMA);
  });

  it("a switch with no room holds the ring (no frame dropped): the rest goes at the next step", () => {
    const r = rig();
    start(r);
    putFrame(r, BUFFERS, 64, 0);
    for (let i = 0; i < 4; i++) putDesc(r, TX_RING, i, BUFFERS, 64);
    r.port.room = 2;
    setReg(r, G.REG_TX_TAIL, 4);
    r.engine.step();
    expect(reg(r, G.REG_TX_HEAD)).toBe(2);
    expect(readNicStats(r.stats).tx_stalls).toBe(1);
    expect(r.port.roomWanted).toBe(1);
    r.port.room = Infinity;
    r.engine.step();
    expect(reg(r, G.REG_TX_HEAD)).toBe(4);
    expect(r.port.sent).toHaveLength(4);
  });
});

describe("assigned NIC: receive and the posted interrupt", () => {
  function postBuffers(r: Rig, n: number, cap = 2048): void {
    for (let i = 0; i < n; i++) putDesc(r, RX_RING, i, BUFFERS + i * 2048, cap);
    setReg(r, G.REG_RX_TAIL, n);
  }

  it("a frame lands in the next posted buffer with its length and DONE; without a buffer frames wait", () => {
    const r = rig();
    start(r);
    r.port.incoming.push(new Uint8Array(70).fill(0xab));
    r.engine.step();
    expect(reg(r, G.REG_RX_HEAD)).toBe(0); // no buffer posted yet: the frame waits in the port
    expect(r.port.incoming).toHaveLength(1);
    postBuffers(r, 2);
    r.engine.step();
    expect(reg(r, G.REG_RX_HEAD)).toBe(1);
    expect(descStatus(r, RX_RING, 0)).toBe((G.DESC_DONE | 70) >>> 0);
    expect(new Uint8Array(r.machine)[machineOf(BUFFERS + 69)]).toBe(0xab);
  });

  it("a buffer smaller than the frame, or outside the map, ends in ERROR with nothing written past it", () => {
    const r = rig();
    start(r);
    putDesc(r, RX_RING, 0, BUFFERS, 32);
    putDesc(r, RX_RING, 1, 0x1000_0000, 2048);
    setReg(r, G.REG_RX_TAIL, 2);
    r.port.incoming.push(new Uint8Array(64).fill(1), new Uint8Array(64).fill(2));
    r.engine.step();
    expect(descStatus(r, RX_RING, 0)).toBe((G.DESC_DONE | G.DESC_ERROR) >>> 0);
    expect(descStatus(r, RX_RING, 1)).toBe((G.DESC_DONE | G.DESC_ERROR) >>> 0);
    expect(new Uint8Array(r.machine)[machineOf(BUFFERS)]).toBe(0);
    expect(r.dc.lastCause).toBe(I.CAUSE_WRITE_GUEST_PAGE);
  });

  it("the interrupt is posted into the hart's mip word while a frame waits unacknowledged, and withdrawn on RX_ACK", () => {
    const r = rig();
    start(r);
    postBuffers(r, 4);
    setReg(r, G.REG_IRQ_ENABLE, G.IRQ_RX);
    r.engine.step();
    expect(r.mip[ST_MIP_HW] & MIP_POSTED).toBe(0);
    r.port.incoming.push(new Uint8Array(60));
    r.engine.step();
    expect(r.mip[ST_MIP_HW] & MIP_POSTED).toBe(MIP_POSTED);
    expect(readNicStats(r.stats).irqs).toBe(1);
    setReg(r, G.REG_RX_ACK, 1);
    r.engine.step();
    expect(r.mip[ST_MIP_HW] & MIP_POSTED).toBe(0);
  });

  it("an RX tail more than a ring ahead stops the device (ERR_RX_OVERRUN)", () => {
    const r = rig();
    start(r);
    setReg(r, G.REG_RX_TAIL, 100);
    r.port.incoming.push(new Uint8Array(60));
    r.engine.step();
    expect(reg(r, G.REG_ERROR)).toBe(G.ERR_RX_OVERRUN);
    expect(readNicStats(r.stats).ring_failures).toBe(1);
  });
});

describe("IOMMU", () => {
  function iommu(mode: "bare" | "off"): { io: I.Iommu; dc: I.DeviceContextWriter; machine: SharedArrayBuffer } {
    const machine = new SharedArrayBuffer(16 * PAGE_SIZE);
    const buf = I.newDeviceContext();
    const dc = new I.DeviceContextWriter(buf);
    if (mode === "bare") dc.bare();
    return { io: new I.Iommu(buf, machine, machine.byteLength), dc, machine };
  }

  it("Bare: addresses are machine-physical, and only machine memory is reachable (access fault otherwise)", () => {
    const { io, dc } = iommu("bare");
    expect(io.translate(DRAM_BASE + 5, false)).toBe(5);
    expect(io.translate(DRAM_BASE + 16 * PAGE_SIZE, true)).toBe(-1);
    expect(dc.lastCause).toBe(I.CAUSE_WRITE_ACCESS);
    expect(io.translate(0x1000, false)).toBe(-1);
    expect(dc.lastCause).toBe(I.CAUSE_READ_ACCESS);
  });

  it("Bare: DMA stops at the machine memory's reachable end, not at its buffer's (the wasm arena lies past RAM)", () => {
    const machine = new SharedArrayBuffer(16 * PAGE_SIZE);
    const buf = I.newDeviceContext();
    const dc = new I.DeviceContextWriter(buf);
    dc.bare();
    const io = new I.Iommu(buf, machine, 12 * PAGE_SIZE);
    expect(io.translate(DRAM_BASE + 12 * PAGE_SIZE - 1, true)).toBe(12 * PAGE_SIZE - 1);
    expect(io.translate(DRAM_BASE + 12 * PAGE_SIZE, true)).toBe(-1);
    expect(dc.lastCause).toBe(I.CAUSE_WRITE_ACCESS);
    expect(io.translate(DRAM_BASE + 15 * PAGE_SIZE, false)).toBe(-1);
    expect(() => new I.Iommu(buf, machine, 17 * PAGE_SIZE)).toThrow(/DMA-reachable bytes/);
  });

  it("a context that is not valid blocks everything (cause 258), and invalidating one drops the IOTLB", () => {
    const { io, dc } = iommu("off");
    expect(io.translate(DRAM_BASE, false)).toBe(-1);
    expect(dc.lastCause).toBe(I.CAUSE_DDT_INVALID);
    dc.bare();
    expect(io.translate(DRAM_BASE, false)).toBe(0);
    dc.invalidate();
    expect(io.translate(DRAM_BASE, false)).toBe(-1);
  });

  it("the G-stage walk refuses leaves without U, writes to pages without W or D, and addresses at or above 2^39", () => {
    const r = rig();
    const io = new I.Iommu(r.dc.buffer, r.machine, r.machine.byteLength);
    expect(io.translate(GUEST_BASE + 3, true)).toBe(machineOf(GUEST_BASE + 3));
    expect(io.translate(2 ** 39, false)).toBe(-1);
    // Clear U in the first page's leaf: walk root -> level 1 -> level 0 by hand.
    const i32 = new Int32Array(r.machine);
    const leafOf = (gpa: number): number => {
      let table = (Atomics.load(r.dc.words, I.DC_PPN_LO) >>> 0) * PAGE_SIZE;
      for (let level = 2; level > 0; level--) {
        const w = (table - DRAM_BASE + (Math.floor(gpa / PAGE_SIZE / 512 ** level) % 512) * 8) >>> 2;
        table = (i32[w] >>> 10) * PAGE_SIZE;
      }
      return (table - DRAM_BASE + (Math.floor(gpa / PAGE_SIZE) % 512) * 8) >>> 2;
    };
    const w = leafOf(GUEST_BASE + PAGE_SIZE);
    i32[w] &= ~(1 << 4); // U
    i32[leafOf(GUEST_BASE + 2 * PAGE_SIZE)] &= ~(1 << 7); // D
    r.dc.gStage((Atomics.load(r.dc.words, I.DC_PPN_LO) >>> 0) * PAGE_SIZE); // the owner's IOTINVAL after a change
    expect(io.translate(GUEST_BASE + PAGE_SIZE, false)).toBe(-1);
    expect(io.translate(GUEST_BASE + 2 * PAGE_SIZE, false)).toBe(machineOf(GUEST_BASE + 2 * PAGE_SIZE));
    expect(io.translate(GUEST_BASE + 2 * PAGE_SIZE, true)).toBe(-1);
    expect(r.dc.lastCause).toBe(I.CAUSE_WRITE_GUEST_PAGE);
  });

  it("translations are cached: a second access to a page walks no table", () => {
    const r = rig();
    const io = new I.Iommu(r.dc.buffer, r.machine, r.machine.byteLength);
    io.translate(GUEST_BASE, false);
    const walks = r.dc.walks;
    io.translate(GUEST_BASE + 8, false);
    expect(r.dc.walks).toBe(walks);
    expect(r.dc.hits).toBe(0); // counted by the device, published once per batch
    io.publish();
    expect(r.dc.hits).toBe(1);
  });
});
