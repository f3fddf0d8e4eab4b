/*
 * The isolation invariant, attacked from the guest side: a guest reaches only
 * frames in its own guest-physical map. A victim VM fills its RAM with a
 * secret; an attacker VM on the same hypervisor (same machine memory) then
 * reads every page of its own RAM and a megabyte past its end. It must find
 * no trace of the secret, and every access past its RAM must fault.
 */

import { describe, expect, it } from "vitest";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import { enc } from "../../src/isa/encode.ts";
import { until } from "../helpers/until.ts";
import { startVm } from "../helpers/vm.ts";

const MB = 2 ** 20;
const SECRET = 0x5ec1_2e70;
const [T0, T1, T2, T3, T4, T5, T6] = [5, 6, 7, 28, 29, 30, 31];
const [S0, S1, S2, S3] = [8, 9, 18, 19];
const ZERO = 0;

function image(words: number[]): Uint8Array {
  return new Uint8Array(new Uint32Array(words.map((w) => w >>> 0)).buffer);
}

/** rd = value (0 <= value < 2^31). */
function li(rd: number, value: number): number[] {
  const hi = (value + 0x800) >>> 12;
  return [enc.lui(rd, hi), enc.addi(rd, rd, value - (hi << 12))];
}

/** s0 = 0x8000_0000 (without lui's sign extension). */
const RAM_BASE_IN_S0 = [enc.addi(S0, ZERO, 1), enc.slli(S0, S0, 31)];

/** Fills the first `bytes` of RAM (above its own code) with SECRET, then spins. */
function victim(bytes: number): Uint8Array {
  return image([
    ...RAM_BASE_IN_S0,
    enc.addi(S0, S0, 0x100), // skip this code
    ...li(T4, bytes),
    enc.add(S1, S0, T4),
    ...li(T0, SECRET),
    enc.sd(T0, S0, 0), // loop:
    enc.addi(S0, S0, 8),
    enc.bltu(S0, S1, -8),
    enc.jal(ZERO, 0),
  ]);
}

/** Reads the first doubleword of every page from RAM_BASE to RAM_BASE + span, counting faults (s2) and secrets (s3). */
function attacker(span: number): Uint8Array {
  const body = [
    ...RAM_BASE_IN_S0,
    ...li(T4, span),
    enc.add(S1, S0, T4),
    ...li(T0, SECRET),
    enc.lui(T2, 1), // step 4096
    // loop: ld t1, 0(s0); bne t1, t0, +8; addi s3, s3, 1; add s0, s0, t2; bltu s0, s1, loop
    enc.ld(T1, S0, 0),
    enc.bne(T1, T0, 8),
    enc.addi(S3, S3, 1),
    enc.add(S0, S0, T2),
    enc.bltu(S0, S1, -16),
    enc.lui(T4, 0x100), // the finisher
    enc.bne(S3, ZERO, 20),
    enc.beq(S2, ZERO, 16),
    ...li(T5, 0x5555),
    enc.sw(T5, T4, 0),
    enc.jal(ZERO, 0),
    ...li(T5, (1 << 16) | 0x3333), // fail:
    enc.sw(T5, T4, 0),
    enc.jal(ZERO, 0),
  ];
  const handler = [enc.addi(S2, S2, 1), enc.csrrs(T6, 0x341, ZERO), enc.addi(T6, T6, 4), enc.csrrw(ZERO, 0x341, T6), enc.mret()];
  // Prologue: mtvec = address of the handler (placed after the body).
  const prologueLength = 3;
  const handlerOffset = 4 * (prologueLength + body.length);
  const prologue = [enc.auipc(T3, 0), enc.addi(T3, T3, handlerOffset), enc.csrrw(ZERO, 0x305, T3)];
  return image([...prologue, ...body, ...handler]);
}

describe("isolation between VMs", () => {
  it("a guest cannot read another VM's memory, and accesses past its RAM fault", async () => {
    const hv = new Hypervisor({ machineMemory: 96 * MB });
    const v = startVm(hv, { bios: { kind: "none" }, kernel: victim(MB) }, { memSize: 16 * MB });
    // Wait until the victim has written its secret (its pc parks on the final `j .`).
    const spinAt = 0x8000_0000 + victim(MB).length - 4;
    await until("the victim to park after writing its secret", () => v.vm.pages[0].pc[0] === spinAt);
    expect(v.vm.pages[0].pc[0]).toBe(spinAt);
    expect(v.vm.memory.view.readU64(0x8000_0100)).toBe(BigInt(SECRET));

    const a = startVm(hv, { bios: { kind: "none" }, kernel: attacker(17 * MB) }, { memSize: 16 * MB });
    const r = await a.vm.result;
    expect(r.message).toBeUndefined();
    expect(r.exitCode).toBe(0); // no secret seen, and the megabyte past RAM faulted
    const faults = a.vm.pages[0].regs[2 * S2];
    expect(faults).toBe(256); // exactly the pages past the end of RAM
    expect(r.reports[0].stats.reflected_exceptions).toBe(256);
    v.vm.stop();
    await v.vm.result;
  }, 60_000);
});
