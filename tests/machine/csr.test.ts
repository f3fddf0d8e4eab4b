/*
 * The CSR file on its own (priv spec ch. 2, 3.1, 4.1): who may access what,
 * read-only CSRs, WARL legalisation of written values, the sstatus/sie/sip
 * views of their M-mode registers, counters and Sstc.
 */

import { describe, expect, it } from "vitest";
import { CSR_ILLEGAL, CSR_READ_ONLY, CSR_WROTE, CsrFile, executeCsrInstruction, type CsrHost } from "../../src/machine/csr.ts";
import * as R from "../../src/machine/riscv.ts";
import { X0_SINK } from "../../src/isa/ops.ts";

class FakeHost implements CsrHost {
  time = 0;
  count = 0;
  changes = 0;
  mtime(): number {
    return this.time;
  }
  retired(): number {
    return this.count;
  }
  translationChanged(): void {
    this.changes++;
  }
}

function csrFile(hartId = 0): { c: CsrFile; host: FakeHost } {
  const host = new FakeHost();
  return { c: new CsrFile(hartId, host), host };
}

const u64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
function read(c: CsrFile, csr: number): bigint {
  c.read(csr);
  return u64(c.rlo, c.rhi);
}
function write(c: CsrFile, csr: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  c.write(csr, Number(BigInt.asIntN(32, u)), Number(BigInt.asIntN(32, u >> 32n)));
}
const hex = (v: bigint): string => "0x" + v.toString(16).padStart(16, "0");

describe("access rules from the CSR number (priv spec 2.1)", () => {
  it("bits 9:8 give the lowest privilege that may access a CSR", () => {
    const { c } = csrFile();
    const table: [string, number, number][] = [
      ["sstatus", R.CSR_SSTATUS, R.PRV_S], ["satp", R.CSR_SATP, R.PRV_S], ["sscratch", R.CSR_SSCRATCH, R.PRV_S],
      ["mstatus", R.CSR_MSTATUS, R.PRV_M], ["mscratch", R.CSR_MSCRATCH, R.PRV_M], ["mhartid", R.CSR_MHARTID, R.PRV_M],
      ["pmpaddr0", R.CSR_PMPADDR0, R.PRV_M],
    ];
    for (const [name, csr, least] of table) {
      for (const p of [R.PRV_U, R.PRV_S, R.PRV_M]) {
        c.priv = p;
        expect(c.allowed(csr, false), `${name} read at privilege ${p}`).toBe(p >= least);
      }
    }
  });
  it("bits 11:10 = 3 mark read-only CSRs: any write is illegal, reads are fine", () => {
    const { c } = csrFile();
    for (const csr of [R.CSR_MHARTID, R.CSR_MVENDORID, R.CSR_MARCHID, R.CSR_MIMPID, R.CSR_MCONFIGPTR, R.CSR_CYCLE, R.CSR_TIME, R.CSR_INSTRET]) {
      expect(c.allowed(csr, false), `${CsrFile.nameOf(csr)} read`).toBe(true);
      expect(c.allowed(csr, true), `${CsrFile.nameOf(csr)} write`).toBe(false);
    }
  });
  it("a CSR number with no register behind it is illegal", () => {
    const { c } = csrFile();
    expect(c.allowed(0x7c0, false)).toBe(false);
    expect(c.allowed(R.CSR_FFLAGS, false), "fflags: no F extension").toBe(false);
    expect(c.allowed(0x3a1, false), "pmpcfg1 does not exist on RV64 (priv 3.7.1)").toBe(false);
  });
});

describe("executeCsrInstruction (Zicsr, unpriv 9.1)", () => {
  const RD = 10, RS1 = 12; // doubled indices of x5, x6
  it("csrrs/csrrc with rs1 = x0 do not write, so they may read a read-only CSR", () => {
    const { c } = csrFile(3);
    const x = new Int32Array(66);
    expect(executeCsrInstruction(c, x, 1, false, RD, 0, R.CSR_MHARTID)).toBe(CSR_READ_ONLY);
    expect(x[RD]).toBe(3);
    expect(executeCsrInstruction(c, x, 2, false, RD, 0, R.CSR_MHARTID)).toBe(CSR_READ_ONLY);
    expect(executeCsrInstruction(c, x, 1, true, RD, 0, R.CSR_MHARTID), "csrrsi uimm 0").toBe(CSR_READ_ONLY);
  });
  it("csrrw to a read-only CSR is illegal even with rs1 = x0, and changes nothing", () => {
    const { c } = csrFile(3);
    const x = new Int32Array(66);
    x[RD] = 77;
    expect(executeCsrInstruction(c, x, 0, false, RD, 0, R.CSR_MHARTID)).toBe(CSR_ILLEGAL);
    expect(x[RD]).toBe(77);
  });
  it("csrrs with a nonzero rs1 register is a write even if the register holds 0", () => {
    const { c } = csrFile();
    const x = new Int32Array(66);
    expect(executeCsrInstruction(c, x, 1, false, RD, RS1, R.CSR_MHARTID)).toBe(CSR_ILLEGAL);
  });
  it("csrrw returns the old value and writes rs1; csrrs sets and csrrc clears bits", () => {
    const { c } = csrFile();
    const x = new Int32Array(66);
    x[RS1] = 0xf0;
    x[RS1 + 1] = 0x1;
    executeCsrInstruction(c, x, 0, false, RD, RS1, R.CSR_MSCRATCH);
    expect(u64(x[RD], x[RD + 1])).toBe(0n);
    x[RS1] = 0x0f;
    x[RS1 + 1] = 0;
    executeCsrInstruction(c, x, 1, false, RD, RS1, R.CSR_MSCRATCH);
    expect(hex(u64(x[RD], x[RD + 1]))).toBe(hex(0x1_0000_00f0n));
    x[RS1] = 0x81;
    executeCsrInstruction(c, x, 2, false, RD, RS1, R.CSR_MSCRATCH);
    expect(hex(u64(x[RD], x[RD + 1]))).toBe(hex(0x1_0000_00ffn));
    expect(hex(read(c, R.CSR_MSCRATCH))).toBe(hex(0x1_0000_007en));
  });
  it("immediate forms use the 5-bit zero-extended uimm (stored doubled in rs1)", () => {
    const { c } = csrFile();
    const x = new Int32Array(66);
    expect(executeCsrInstruction(c, x, 0, true, X0_SINK, 31 * 2, R.CSR_MSCRATCH)).toBe(CSR_WROTE);
    expect(read(c, R.CSR_MSCRATCH)).toBe(31n);
    executeCsrInstruction(c, x, 2, true, RD, 1 * 2, R.CSR_MSCRATCH);
    expect(read(c, R.CSR_MSCRATCH)).toBe(30n);
  });
});

describe("mstatus and sstatus (priv spec 3.1.6, 4.1.1)", () => {
  it("UXL and SXL read 2 (XLEN 64) and ignore writes", () => {
    const { c } = csrFile();
    write(c, R.CSR_MSTATUS, 0n);
    expect(hex(read(c, R.CSR_MSTATUS) >> 32n)).toBe(hex(0xan));
    write(c, R.CSR_MSTATUS, -1n);
    expect(hex((read(c, R.CSR_MSTATUS) >> 32n) & 0xfn)).toBe(hex(0xan));
  });
  it("MPP is WARL: writing 2 keeps the old value; 0, 1, 3 are kept", () => {
    const { c } = csrFile();
    const mpp = (): bigint => (read(c, R.CSR_MSTATUS) >> 11n) & 3n;
    write(c, R.CSR_MSTATUS, 1n << 11n);
    expect(mpp()).toBe(1n);
    write(c, R.CSR_MSTATUS, 2n << 11n);
    expect(mpp(), "MPP=2 is not a legal privilege").toBe(1n);
    write(c, R.CSR_MSTATUS, 3n << 11n);
    expect(mpp()).toBe(3n);
    write(c, R.CSR_MSTATUS, 0n);
    expect(mpp()).toBe(0n);
  });
  it("fields without an implementation (FS, VS, XS, SD, UBE, MBE, SBE) read zero", () => {
    const { c } = csrFile();
    write(c, R.CSR_MSTATUS, -1n);
    const v = read(c, R.CSR_MSTATUS);
    expect(v & (3n << 13n), "FS").toBe(0n);
    expect(v & (3n << 9n), "VS").toBe(0n);
    expect(v & (3n << 15n), "XS").toBe(0n);
    expect(v >> 63n, "SD").toBe(0n);
    expect(v & (1n << 6n), "UBE").toBe(0n);
    expect(v & (3n << 36n), "SBE/MBE").toBe(0n);
  });
  it("sstatus is a view of mstatus: it shows only S fields and writes only them", () => {
    const { c } = csrFile();
    write(c, R.CSR_MSTATUS, BigInt(R.MSTATUS_WRITABLE));
    const s = read(c, R.CSR_SSTATUS);
    expect(hex(s & 0xffff_ffffn)).toBe(hex(BigInt(R.SSTATUS_VISIBLE)));
    expect(hex(s >> 32n), "sstatus.UXL = 2").toBe(hex(2n));
    write(c, R.CSR_SSTATUS, 0n);
    const m = read(c, R.CSR_MSTATUS);
    expect(m & BigInt(R.SSTATUS_VISIBLE), "S fields cleared through sstatus").toBe(0n);
    expect(m & BigInt(R.MSTATUS_MIE | R.MSTATUS_MPIE | R.MSTATUS_MPP | R.MSTATUS_TVM), "M fields untouched").toBe(
      BigInt(R.MSTATUS_MIE | R.MSTATUS_MPIE | R.MSTATUS_MPP | R.MSTATUS_TVM),
    );
    write(c, R.CSR_SSTATUS, -1n);
    expect(read(c, R.CSR_MSTATUS) & BigInt(R.MSTATUS_MPRV | R.MSTATUS_TSR | R.MSTATUS_TW)).toBe(
      BigInt(R.MSTATUS_MPRV | R.MSTATUS_TSR | R.MSTATUS_TW),
    );
  });
  it("changing MPRV, MPP, SUM or MXR tells the host that translation changed", () => {
    const { c, host } = csrFile();
    for (const bit of [R.MSTATUS_MPRV, R.MSTATUS_SUM, R.MSTATUS_MXR, 1 << R.MSTATUS_MPP_SHIFT]) {
      const before = host.changes;
      write(c, R.CSR_MSTATUS, BigInt(bit));
      expect(host.changes, `mstatus bit 0x${bit.toString(16)}`).toBeGreaterThan(before);
      write(c, R.CSR_MSTATUS, 0n);
    }
    const before = host.changes;
    write(c, R.CSR_SSTATUS, BigInt(R.MSTATUS_SUM));
    expect(host.changes, "sstatus.SUM").toBeGreaterThan(before);
  });
});

describe("interrupt registers (priv spec 3.1.9, 4.1.3)", () => {
  it("mideleg delegates only supervisor interrupts; medeleg bit 11 (ecall from M) is read-only zero", () => {
    const { c } = csrFile();
    write(c, R.CSR_MIDELEG, -1n);
    expect(hex(read(c, R.CSR_MIDELEG))).toBe(hex(BigInt(R.S_INTERRUPTS)));
    write(c, R.CSR_MEDELEG, -1n);
    const m = read(c, R.CSR_MEDELEG);
    expect(m & (1n << 11n), "medeleg[11]").toBe(0n);
    expect(m & (1n << 8n), "medeleg[8] (ecall from U) is delegable").toBe(1n << 8n);
    expect(m & (1n << 15n), "medeleg[15] (store page fault)").toBe(1n << 15n);
  });
  it("sie shows and writes only the bits mideleg delegates", () => {
    const { c } = csrFile();
    write(c, R.CSR_MIE, BigInt(R.ALL_INTERRUPTS));
    expect(read(c, R.CSR_SIE), "nothing delegated").toBe(0n);
    write(c, R.CSR_MIDELEG, BigInt(R.MIP_STIP | R.MIP_SSIP));
    expect(hex(read(c, R.CSR_SIE))).toBe(hex(BigInt(R.MIP_STIP | R.MIP_SSIP)));
    write(c, R.CSR_SIE, 0n);
    expect(hex(read(c, R.CSR_MIE)), "sie clears only delegated bits of mie").toBe(
      hex(BigInt(R.ALL_INTERRUPTS & ~(R.MIP_STIP | R.MIP_SSIP))),
    );
    write(c, R.CSR_SIE, BigInt(R.ALL_INTERRUPTS));
    expect(hex(read(c, R.CSR_MIE))).toBe(hex(BigInt(R.ALL_INTERRUPTS)));
  });
  it("mip: SSIP, STIP and SEIP are writable; MSIP, MTIP, MEIP only follow their wires", () => {
    const { c } = csrFile();
    write(c, R.CSR_MIP, -1n);
    expect(hex(read(c, R.CSR_MIP))).toBe(hex(BigInt(R.MIP_SSIP | R.MIP_STIP | R.MIP_SEIP)));
    write(c, R.CSR_MIP, 0n);
    expect(read(c, R.CSR_MIP)).toBe(0n);
    c.setHwPending(R.IRQ_M_TIMER, true);
    write(c, R.CSR_MIP, 0n);
    expect(read(c, R.CSR_MIP), "a write does not clear a wired bit").toBe(BigInt(R.MIP_MTIP));
    c.setHwPending(R.IRQ_M_TIMER, false);
    expect(read(c, R.CSR_MIP)).toBe(0n);
  });
  it("sip shows delegated pending bits; only SSIP is writable through it", () => {
    const { c } = csrFile();
    write(c, R.CSR_MIDELEG, BigInt(R.S_INTERRUPTS));
    write(c, R.CSR_SIP, -1n);
    expect(hex(read(c, R.CSR_SIP))).toBe(hex(BigInt(R.MIP_SSIP)));
    write(c, R.CSR_MIP, BigInt(R.MIP_STIP));
    expect(hex(read(c, R.CSR_SIP)), "STIP set by M shows in sip").toBe(hex(BigInt(R.MIP_STIP)));
    write(c, R.CSR_MIDELEG, 0n);
    write(c, R.CSR_MIP, BigInt(R.MIP_SSIP));
    expect(read(c, R.CSR_SIP), "undelegated bits are invisible").toBe(0n);
    write(c, R.CSR_SIP, 0n);
    expect(read(c, R.CSR_MIP), "and not writable through sip").toBe(BigInt(R.MIP_SSIP));
  });
});

describe("trap-vector, epc, satp and envcfg WARL fields", () => {
  it("mtvec/stvec: MODE 0 and 1 are kept, a write with MODE >= 2 is ignored", () => {
    const { c } = csrFile();
    for (const csr of [R.CSR_MTVEC, R.CSR_STVEC]) {
      write(c, csr, 0x8000_1001n);
      expect(hex(read(c, csr))).toBe(hex(0x8000_1001n));
      write(c, csr, 0x8000_2002n);
      expect(hex(read(c, csr)), `${CsrFile.nameOf(csr)} MODE=2`).toBe(hex(0x8000_1001n));
      write(c, csr, 0x8000_2003n);
      expect(hex(read(c, csr)), `${CsrFile.nameOf(csr)} MODE=3`).toBe(hex(0x8000_1001n));
    }
  });
  it("mtvec/stvec: a BASE a pc cannot hold (2^53 or more in magnitude) is ignored; the largest that fits is kept", () => {
    const { c } = csrFile();
    for (const csr of [R.CSR_MTVEC, R.CSR_STVEC]) {
      write(c, csr, 0x8000_1000n);
      write(c, csr, 0x7fff_ffff_ffff_f000n);
      expect(hex(read(c, csr)), `${CsrFile.nameOf(csr)} wild`).toBe(hex(0x8000_1000n));
      write(c, csr, -(1n << 53n));
      expect(hex(read(c, csr)), `${CsrFile.nameOf(csr)} -2^53`).toBe(hex(BigInt.asUintN(64, -(1n << 53n))));
      write(c, csr, (1n << 53n) - 4n);
      expect(hex(read(c, csr)), `${CsrFile.nameOf(csr)} 2^53 - 4`).toBe(hex((1n << 53n) - 4n));
    }
  });
  it("mepc/sepc bit 0 always reads zero (IALIGN = 16)", () => {
    const { c } = csrFile();
    write(c, R.CSR_MEPC, 0xffff_ffff_8000_0003n);
    expect(hex(read(c, R.CSR_MEPC))).toBe(hex(0xffff_ffff_8000_0002n));
    write(c, R.CSR_SEPC, 0x1n);
    expect(read(c, R.CSR_SEPC)).toBe(0n);
  });
  it("satp: Bare and Sv39 are accepted; a write with an unsupported MODE has no effect at all", () => {
    const { c, host } = csrFile();
    const sv39 = (8n << 60n) | (5n << 44n) | 0x80123n;
    write(c, R.CSR_SATP, sv39);
    expect(hex(read(c, R.CSR_SATP))).toBe(hex(sv39));
    const before = host.changes;
    write(c, R.CSR_SATP, (9n << 60n) | 0x1n); // Sv48
    expect(hex(read(c, R.CSR_SATP)), "Sv48").toBe(hex(sv39));
    write(c, R.CSR_SATP, (1n << 60n) | 0x1n); // reserved
    expect(hex(read(c, R.CSR_SATP)), "MODE 1").toBe(hex(sv39));
    expect(host.changes).toBe(before);
    write(c, R.CSR_SATP, 0n);
    expect(read(c, R.CSR_SATP)).toBe(0n);
  });
  it("satp is illegal from S while mstatus.TVM is set, legal from M (priv spec 3.1.6.5)", () => {
    const { c } = csrFile();
    write(c, R.CSR_MSTATUS, BigInt(R.MSTATUS_TVM));
    c.priv = R.PRV_S;
    expect(c.allowed(R.CSR_SATP, false)).toBe(false);
    c.priv = R.PRV_M;
    expect(c.allowed(R.CSR_SATP, true)).toBe(true);
    write(c, R.CSR_MSTATUS, 0n);
    c.priv = R.PRV_S;
    expect(c.allowed(R.CSR_SATP, true)).toBe(true);
  });
  it("menvcfg keeps only FIOM and STCE; senvcfg only FIOM", () => {
    const { c } = csrFile();
    write(c, R.CSR_MENVCFG, -1n);
    expect(hex(read(c, R.CSR_MENVCFG))).toBe(hex((1n << 63n) | 1n));
    write(c, R.CSR_SENVCFG, -1n);
    expect(hex(read(c, R.CSR_SENVCFG))).toBe(hex(1n));
  });
  it("pmpaddr holds 54 bits", () => {
    const { c } = csrFile();
    write(c, R.CSR_PMPADDR0 + 3, -1n);
    expect(hex(read(c, R.CSR_PMPADDR0 + 3))).toBe(hex((1n << 54n) - 1n));
  });
});

describe("machine information (priv spec 3.1.1, 3.1.5)", () => {
  it("misa reads MXL=2 with A, C, I, M, S, U and ignores writes", () => {
    const { c } = csrFile();
    const want = (2n << 62n) | 0b1_0100_0001_0001_0000_0101n;
    expect(hex(read(c, R.CSR_MISA))).toBe(hex(want));
    write(c, R.CSR_MISA, 0n);
    expect(hex(read(c, R.CSR_MISA))).toBe(hex(want));
  });
  it("mhartid reads the hart's id", () => {
    expect(read(csrFile(7).c, R.CSR_MHARTID)).toBe(7n);
  });
});

describe("counters (priv spec 3.1.11, 3.1.13; Zicntr)", () => {
  it("cycle, time and instret from S need the mcounteren bit; from U also the scounteren bit", () => {
    const { c } = csrFile();
    const counters: [string, number, number][] = [
      ["cycle", R.CSR_CYCLE, R.COUNTEREN_CY], ["time", R.CSR_TIME, R.COUNTEREN_TM],
      ["instret", R.CSR_INSTRET, R.COUNTEREN_IR], ["hpmcounter3", R.CSR_HPMCOUNTER3, 1 << 3],
    ];
    for (const [name, csr, bit] of counters) {
      for (const [m, s, okS, okU] of [[0, 0, false, false], [bit, 0, true, false], [0, bit, false, false], [bit, bit, true, true]] as const) {
        write(c, R.CSR_MCOUNTEREN, BigInt(m));
        write(c, R.CSR_SCOUNTEREN, BigInt(s));
        c.priv = R.PRV_M;
        expect(c.allowed(csr, false), `${name} in M`).toBe(true);
        c.priv = R.PRV_S;
        expect(c.allowed(csr, false), `${name} in S, mcounteren=${m} scounteren=${s}`).toBe(okS);
        c.priv = R.PRV_U;
        expect(c.allowed(csr, false), `${name} in U, mcounteren=${m} scounteren=${s}`).toBe(okU);
      }
    }
  });
  it("time reads mtime; cycle and instret count retired instructions; mcycle/minstret writes take effect", () => {
    const { c, host } = csrFile();
    host.time = 123456789;
    host.count = 1000;
    expect(read(c, R.CSR_TIME)).toBe(123456789n);
    expect(read(c, R.CSR_CYCLE)).toBe(1000n);
    expect(read(c, R.CSR_INSTRET)).toBe(1000n);
    write(c, R.CSR_MINSTRET, 5n);
    write(c, R.CSR_MCYCLE, 0x1_0000_0000n);
    host.count = 1010;
    expect(read(c, R.CSR_INSTRET)).toBe(15n);
    expect(read(c, R.CSR_MINSTRET)).toBe(15n);
    expect(read(c, R.CSR_CYCLE)).toBe(0x1_0000_000an);
  });
  it("mcountinhibit: a bit that reads 1 stops its counter (priv spec 3.1.13); otherwise it must read 0", () => {
    const { c, host } = csrFile();
    host.count = 100;
    write(c, R.CSR_MCOUNTINHIBIT, BigInt(R.COUNTEREN_IR | R.COUNTEREN_CY));
    const inhibited = read(c, R.CSR_MCOUNTINHIBIT);
    const before = read(c, R.CSR_MINSTRET);
    const cyc = read(c, R.CSR_MCYCLE);
    host.count = 200;
    if (inhibited & BigInt(R.COUNTEREN_IR)) expect(read(c, R.CSR_MINSTRET), "minstret inhibited").toBe(before);
    if (inhibited & BigInt(R.COUNTEREN_CY)) expect(read(c, R.CSR_MCYCLE), "mcycle inhibited").toBe(cyc);
  });
  it("hpm counters and events read zero and ignore writes", () => {
    const { c } = csrFile();
    write(c, R.CSR_MHPMCOUNTER3, 5n);
    write(c, R.CSR_MHPMEVENT3 + 4, 5n);
    expect(read(c, R.CSR_MHPMCOUNTER3)).toBe(0n);
    expect(read(c, R.CSR_MHPMEVENT3 + 4)).toBe(0n);
  });
});

describe("Sstc: stimecmp (Sstc spec 2.1, 2.2)", () => {
  it("S access to stimecmp needs mcounteren.TM and menvcfg.STCE; U never; M always", () => {
    const { c } = csrFile();
    for (const [tm, stce, ok] of [[0, 0, false], [1, 0, false], [0, 1, false], [1, 1, true]] as const) {
      write(c, R.CSR_MCOUNTEREN, tm ? BigInt(R.COUNTEREN_TM) : 0n);
      write(c, R.CSR_MENVCFG, stce ? 1n << 63n : 0n);
      c.priv = R.PRV_S;
      expect(c.allowed(R.CSR_STIMECMP, true), `S, TM=${tm} STCE=${stce}`).toBe(ok);
      c.priv = R.PRV_U;
      expect(c.allowed(R.CSR_STIMECMP, false), `U, TM=${tm} STCE=${stce}`).toBe(false);
      c.priv = R.PRV_M;
      expect(c.allowed(R.CSR_STIMECMP, true), "M").toBe(true);
    }
  });
  it("with STCE, STIP follows time >= stimecmp (unsigned) and is not writable through mip", () => {
    const { c, host } = csrFile();
    write(c, R.CSR_MENVCFG, 1n << 63n);
    host.time = 1000;
    write(c, R.CSR_STIMECMP, 1001n);
    expect(read(c, R.CSR_MIP) & BigInt(R.MIP_STIP), "time < stimecmp").toBe(0n);
    write(c, R.CSR_MIP, BigInt(R.MIP_STIP));
    expect(read(c, R.CSR_MIP) & BigInt(R.MIP_STIP), "software cannot set STIP under Sstc").toBe(0n);
    host.time = 1001;
    c.updateStimecmp();
    expect(read(c, R.CSR_MIP) & BigInt(R.MIP_STIP), "time == stimecmp").toBe(BigInt(R.MIP_STIP));
    write(c, R.CSR_STIMECMP, -1n);
    expect(read(c, R.CSR_MIP) & BigInt(R.MIP_STIP), "stimecmp = 2^64-1 is never reached").toBe(0n);
    write(c, R.CSR_STIMECMP, 0n);
    expect(read(c, R.CSR_MIP) & BigInt(R.MIP_STIP), "stimecmp = 0").toBe(BigInt(R.MIP_STIP));
    write(c, R.CSR_MENVCFG, 0n);
    expect(read(c, R.CSR_MIP) & BigInt(R.MIP_STIP), "clearing STCE drops the comparator's STIP").toBe(0n);
  });
});

describe("CSR instructions on every CSR, in every privilege", () => {
  // executeCsrInstruction takes an inline path for CSRs that are plain storage under a WARL mask;
  // whichever path it takes, the outcome must be what allowed/read/write of the table say.
  const SRC = 10 * 2;
  const DST = 11 * 2;
  const values = [0n, 1n, -1n, 0x8000_0000_0000_0001n, 0x1234_5678_9abc_def0n];
  it("csrrw/csrrs/csrrc read the old value and write the legalised new one, or are illegal", () => {
    let checked = 0;
    for (let csr = 0; csr < 4096; csr++) {
      for (const priv of [R.PRV_U, R.PRV_S, R.PRV_M]) {
        for (const kind of [0, 1, 2]) {
          const { c } = csrFile();
          c.priv = R.PRV_M;
          if (!c.allowed(csr, false)) break; // not a CSR
          const before = values[csr % values.length];
          write(c, csr, before);
          const old = read(c, csr);
          const src = values[(csr + kind + 1) % values.length];
          const expected = kind === 0 ? src : kind === 1 ? old | src : old & ~src;
          // The model: what the table does with the same write on a twin CSR file.
          const { c: twin } = csrFile();
          twin.priv = R.PRV_M;
          write(twin, csr, before);
          write(twin, csr, BigInt.asIntN(64, expected));
          c.priv = priv;
          const x = new Int32Array(66);
          x[SRC] = Number(BigInt.asIntN(32, src));
          x[SRC + 1] = Number(BigInt.asIntN(32, src >> 32n));
          const result = executeCsrInstruction(c, x, kind, false, DST, SRC, csr);
          if (!c.allowed(csr, true)) {
            expect(result, `csr ${csr.toString(16)} priv ${priv}`).toBe(CSR_ILLEGAL);
            continue;
          }
          expect(result, `csr ${csr.toString(16)} priv ${priv} kind ${kind}`).toBe(CSR_WROTE);
          expect(u64(x[DST], x[DST + 1]), `csr ${csr.toString(16)}: old value in rd`).toBe(BigInt.asUintN(64, old));
          c.priv = R.PRV_M;
          twin.priv = R.PRV_M;
          expect(read(c, csr), `csr ${csr.toString(16)} priv ${priv} kind ${kind}: written value`).toBe(read(twin, csr));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(200);
  });
});
