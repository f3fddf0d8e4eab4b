/*
 * `popek run --virt trap ... --gdb tcp::0 -S` driven by the real
 * gdb-multiarch: the guest deprivileged under the hypervisor, seen as it
 * sees itself. kernel-mini's step 6 runs user processes in their own Sv39
 * address spaces, so a breakpoint at a user virtual address (its text is
 * mapped at 0x1000_0000, where there is no RAM) is planted through the
 * guest's own page tables, and the guest's ebreak there reaches GDB by way
 * of the vCPU's trap handler and a debug exit. Skipped, saying why, where
 * gdb-multiarch is not installed.
 */

import { describe, expect, it } from "vitest";
import { GDB_SKIP_REASON, LIMIT_MS, gdb, pcs, popekHalted, interruptThenKill } from "./gdb-session.ts";

const KERNEL = "guests/bin/kernel-mini.elf";

describe.skipIf(GDB_SKIP_REASON !== undefined)("debugging a guest under --virt trap with the real gdb-multiarch", () => {
  it("kernel-mini: the virtual privilege, a kernel breakpoint, user memory and a user-address breakpoint through the guest's page tables, stepi, a register set, the exit status", async () => {
    const { popek, port } = await popekHalted("--virt", "trap", KERNEL);
    const session = gdb(port, KERNEL, [
      "info registers pc",
      "p $priv",
      "info threads",
      "x/2wx 0x80200000",
      "break vm_fork",
      "continue",
      "p $priv",
      // USER_DATA: mapped only in the process's address space; VM_BASE (100) was stored there.
      "x/gx 0x20000000",
      "delete",
      // sys_exit as the user processes run it: this image's text, mapped at USER_TEXT.
      "break *(0x10000000 + ((char *)sys_exit - (char *)_start))",
      "continue",
      "p $priv",
      "info registers pc",
      "stepi",
      "info registers pc",
      // The process's exit status, which the kernel checks: the guest fails with 1.
      "set $a0 = 7",
      "delete",
      "continue",
    ]);
    const [g, p] = await Promise.all([session.exit, popek.exit]);
    const out = session.stdout + session.stderr;
    expect(out).toMatch(/^pc\s+0x80200000\s+0x80200000 <_start>$/m);
    expect(out).toMatch(/^\$1 = 1 '\\001'$/m); // virtual S-mode, though the real hart runs it in U
    expect(out).toMatch(/Thread 1 \(vCPU 0, virtual S-mode\)/);
    expect(out).toMatch(/^0x80200000 <_start>:\s+0x[0-9a-f]{8}\s+0x[0-9a-f]{8}$/m);
    expect(out).toMatch(/Breakpoint 1, 0x[0-9a-f]+ in vm_fork \(\)/);
    expect(out).toMatch(/^\$2 = 1 '\\001'$/m);
    expect(out).toMatch(/^0x20000000:\s+0x0000000000000064$/m);
    expect(out).toMatch(/Breakpoint 2, 0x0000000010000[0-9a-f]{3} in \?\? \(\)/);
    expect(out).toMatch(/^\$3 = 0 '\\000'$/m); // the user process: virtual U
    const [, atUser, stepped] = pcs(out);
    expect(atUser).toMatch(/^0x10000[0-9a-f]{3}$/);
    expect(Number(stepped)).toBeGreaterThan(Number(atUser));
    expect(Number(stepped) - Number(atUser)).toBeLessThanOrEqual(4);
    expect(out).toContain("[Inferior 1 (Remote target) exited with code 01]");
    expect(g.status, out).toBe(0);
    expect(popek.stdout).toContain("kernel-mini: FAIL vm:");
    expect(p.status).toBe(1);
  }, LIMIT_MS);

  it("selftest under --exit-handler vcpu on two vCPUs: break main with the guest's own ebreak still reflected, then its exit", async () => {
    const { popek, port } = await popekHalted("--virt", "trap", "guests/bin/selftest.elf", "--vcpus", "2", "--exit-handler", "vcpu");
    // `break fail` stays planted while selftest checks its own ebreak, which must reach the guest's handler, not gdb.
    const session = gdb(port, "guests/bin/selftest.elf", ["info threads", "break main", "break fail", "continue", "p $priv", "info threads", "continue"]);
    const [g, p] = await Promise.all([session.exit, popek.exit]);
    const out = session.stdout + session.stderr;
    expect(out).toMatch(/Thread 2 \(vCPU 1, virtual M-mode\)/);
    expect(out).toMatch(/Thread 1 hit Breakpoint 1, 0x[0-9a-f]+ in main \(\)/);
    expect(out).toMatch(/Thread 1 \(vCPU 0, virtual M-mode, at a breakpoint\)/);
    expect(out).toContain("[Inferior 1 (Remote target) exited normally]");
    expect(g.status, out).toBe(0);
    expect(popek.stdout).toContain("selftest: PASS");
    expect(p.status).toBe(0);
  }, LIMIT_MS);

  it("Ctrl-C interrupts the running vCPUs, and kill ends popek", async () => {
    const { out, gdbStatus, popekStatus } = await interruptThenKill((image) => ["--virt", "trap", "--bios", "none", image]);
    expect(out).toContain("Program received signal SIGINT, Interrupt.");
    expect(pcs(out)).toHaveLength(1);
    expect(out).toContain("[Inferior 1 (Remote target) killed]");
    expect(gdbStatus, out).toBe(0);
    expect(popekStatus).toBe(0);
  }, LIMIT_MS);
});
