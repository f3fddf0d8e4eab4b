/*
 * guests/edges: the edge cases issue 12's hostile-guest fuzz found differing
 * between native and trap-and-emulate — misaligned device accesses, accesses
 * running past a device window, and addresses above 2^53 in mepc/mtval —
 * now one behaviour (src/machine/mmio-access.ts, u64.ts), checked natively
 * and under the hypervisor with exits handled on either thread.
 */

import { describe, expect, it } from "vitest";
import { bootFile } from "../helpers/boot.ts";
import { mImage, runVm } from "../helpers/vm.ts";

const IMAGE = "guests/bin/edges.elf";

/** Lines every run must print (the others must simply agree between native and trap). */
const EXPECTED = [
  // sw to UART+1 is four byte writes: its third byte lands in LCR.
  "sw uart+1 then lbu lcr: v=0x0000000000000003 mcause=0xff mtval=0x0000000000000000",
  // An ld at a 4-aligned address is two 4-byte accesses: mtimecmp's high word, then the next register's low one.
  "ld clint mtimecmp+4 (4-aligned): v=0x0000000011223344 mcause=0xff mtval=0x0000000000000000",
  // Past the CLINT's 64 KiB window: the fault names the first piece outside it.
  "ld clint +0xfffc (past the window): v=0x000000000000dead mcause=0x05 mtval=0x0000000002010000",
  "ld hole 0x7ffffffc into RAM: v=0x000000000000dead mcause=0x05 mtval=0x000000007ffffffc",
  "ld 0x7ffffffffffffff8: v=0x000000000000dead mcause=0x05 mtval=0x7ffffffffffffff8",
  "sd 0x0040000000000001: v=0x0000000000000000 mcause=0x07 mtval=0x0040000000000001",
  // An AMO's faults are store/AMO faults (priv spec 3.7), misaligned first, then access.
  "amoadd.w 0x7ffffffffffffff1: v=0x000000000000dead mcause=0x06 mtval=0x7ffffffffffffff1",
  "amoadd.w 0x7ffffffffffffff0: v=0x000000000000dead mcause=0x07 mtval=0x7ffffffffffffff0",
  "jr 0x7ffffffffffffffe: v=0x0000000000000000 mcause=0x01 mtval=0x7ffffffffffffffe mepc=0x7ffffffffffffffe",
  "jr 0x8000000000000002: v=0x0000000000000000 mcause=0x01 mtval=0x8000000000000002 mepc=0x8000000000000002",
  "mret 0x00fffffffffffffe: v=0x0000000000000000 mcause=0x01 mtval=0x00fffffffffffffe mepc=0x00fffffffffffffe",
  "edges: done",
];

describe("guests/edges: native and trap-and-emulate agree", () => {
  const native = bootFile(IMAGE, { timeoutSeconds: 60 });

  it("natively: the expected lines, exit 0", async () => {
    const r = await native;
    const lines = r.output.trimEnd().split("\n");
    for (const line of EXPECTED) expect(lines).toContain(line);
    expect(r.exitCode).toBe(0);
  }, 90_000);

  for (const exitHandler of ["main", "vcpu"] as const) {
    it(`--virt trap, exits handled on ${exitHandler}: line for line the native output`, async () => {
      const expected = (await native).output.trimEnd().split("\n");
      const got = await runVm(mImage(IMAGE), { exitHandler, wait: "poll" });
      expect(got.result.message).toBeUndefined();
      const lines = got.output.trimEnd().split("\n");
      const first = lines.findIndex((l, i) => l !== expected[i]);
      expect(first === -1 ? "" : `first differing line ${first}: ${lines[first]}`, `native: ${expected[first]}`).toBe("");
      expect(lines.length).toBe(expected.length);
      expect(got.result.exitCode).toBe(0);
    }, 90_000);
  }
});
