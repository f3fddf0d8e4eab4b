/*
 * SBI HSM hart_suspend end to end (SBI spec 9.4), on the hypervisor's SBI:
 * hart 0 starts hart 1, which enables its software interrupt in sie and
 * suspends (default retentive). Hart 0 polls hart_get_status until hart 1
 * reads SUSPENDED, then sends it an IPI. Hart 1 must come back from the
 * call with SBI_SUCCESS and SSIP pending, and shuts the VM down with exit
 * status 42 through SRST. Any other path ends with status 1 (or hangs, and
 * the test's timeout says so).
 */

import { describe, expect, it } from "vitest";
import { enc } from "../../src/isa/encode.ts";
import type { ExitHandlerPlace } from "../../src/hypervisor/vm.ts";
import { runVm } from "../helpers/vm.ts";

const A0 = 10, A1 = 11, A2 = 12, A6 = 16, A7 = 17, T0 = 5, T1 = 6;
const CSR_SIE = 0x104;
const CSR_SIP = 0x144;
const SSIP = 2;
const HSM_STARTED = 0;
const HSM_SUSPENDED = 4;

/** a7 = EID (lui + addi; every EID used here has bit 11 of its low part clear). */
function eid(id: number): number[] {
  return [enc.lui(A7, id >>> 12), enc.addi(A7, A7, id & 0xfff)];
}
const HSM = (fid: number): number[] => [...eid(0x48534d), enc.addi(A6, 0, fid)];

/** Exit through SRST shutdown with reason POPEK_EXIT + code (a1 = 0xE000_0000 + code). */
function shutdown(code: number): number[] {
  return [...eid(0x53525354), enc.addi(A6, 0, 0), enc.addi(A0, 0, 0), enc.lui(A1, 0xe0000), enc.addi(A1, A1, code), enc.ecall()];
}

function program(): Uint8Array {
  const hart0: number[] = [];
  const secondary: number[] = [
    enc.addi(T0, 0, SSIP),
    enc.csrrs(0, CSR_SIE, T0), // sie.SSIE; sstatus.SIE stays clear, so the IPI only wakes the hart
    ...HSM(3),
    enc.addi(A0, 0, 0), // default retentive
    enc.ecall(),
    enc.csrrs(T1, CSR_SIP, 0),
    enc.andi(T1, T1, SSIP),
    // Resumed with a0 = SBI_SUCCESS and SSIP pending: 42; anything else: 1.
    enc.bne(A0, 0, 8 + 4 * shutdown(42).length),
    enc.beq(T1, 0, 4 + 4 * shutdown(42).length),
    ...shutdown(42),
    ...shutdown(1),
  ];
  // hart 0: hart_start(1, image base, 0); wait for SUSPENDED; send_ipi(mask 1 << 1, base 0); spin.
  const poll = [...HSM(2), enc.addi(A0, 0, 1), enc.ecall(), enc.addi(T0, 0, HSM_SUSPENDED)];
  const body: number[] = [
    ...HSM(0),
    enc.addi(A0, 0, 1),
    enc.addi(A2, 0, 0),
  ];
  // a1 = the image base: auipc gives the pc of the auipc itself.
  const auipcAt = 4 * (1 + body.length);
  body.push(enc.auipc(A1, 0), enc.addi(A1, A1, -auipcAt), enc.ecall());
  body.push(...poll, enc.bne(A1, T0, -4 * poll.length));
  body.push(...eid(0x735049), enc.addi(A6, 0, 0), enc.addi(A0, 0, 2), enc.addi(A1, 0, 0), enc.ecall());
  // Then wait for hart 1 to be STARTED again (it shuts the VM down right after).
  const again = [...HSM(2), enc.addi(A0, 0, 1), enc.ecall()];
  body.push(...again, enc.addi(T0, 0, HSM_STARTED), enc.bne(A1, T0, -4 * (again.length + 1)), enc.jal(0, 0));
  hart0.push(enc.bne(A0, 0, 4 * (1 + body.length)), ...body);
  return new Uint8Array(new Uint32Array([...hart0, ...secondary]).buffer);
}

describe("SBI hart_suspend under the hypervisor", () => {
  it.each<ExitHandlerPlace>(["main", "vcpu"])("a suspended vCPU reads SUSPENDED and resumes on an IPI (--exit-handler %s)", async (exitHandler) => {
    const { result } = await runVm({ bios: { kind: "hv" }, kernel: program() }, { vcpus: 2, exitHandler, timeoutSeconds: 60 });
    expect(result.message).toBeUndefined();
    expect(result.outcome).toBe("shutdown");
    expect(result.exitCode).toBe(42);
  }, 90_000);
});
