/*
 * The lockstep differential check (src/lab/lockstep.ts) over every committed
 * guest that has a native counterpart, and a planted divergence it must find.
 *
 * Excluded from the M-mode list, and why: sbi-hello, kernel-mini, exitbench, hsm-pingpong and labos
 * are S-mode kernels; sbi-hello and kernel-mini are checked below behind Debian's OpenSBI, which then
 * runs beneath them on both sides (exitbench is timing loops, hsm-pingpong needs two harts, labos's
 * default workloads take minutes one exit at a time).
 * linux-initramfs.cpio is not a bootable image, nor is linux-virtio-init (a Linux /init).
 * nonvirt-demo-pv and nonvirt-bench-pv make POPK hypercalls, which only a hypervisor
 * answers (natively they reach the guest's own trap vector); nonvirt-bench is some 170,000 CSR
 * exits, too many to step one by one here (nonvirt-demo runs the same instructions).
 */

import { existsSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXIT_RESULT_REG, NO_RESULT_REG } from "../../src/hypervisor/runpage.ts";
import { lockstep } from "../../src/lab/lockstep.ts";
import { readImageFile } from "../../src/machine/image.ts";

const EXCLUDED = new Set(["sbi-hello.elf", "kernel-mini.elf", "exitbench.elf", "hsm-pingpong.elf", "labos.elf", "linux-initramfs.cpio", "linux-virtio-init",
  "nonvirt-demo-pv.elf", "nonvirt-bench-pv.elf", "nonvirt-bench.elf"]);
const GUESTS = readdirSync("guests/bin").filter((f) => !EXCLUDED.has(f)).sort();

describe("native and --virt trap agree at every exit", () => {
  it("covers the M-mode guests (the list is not empty by accident)", () => {
    expect(GUESTS).toEqual(expect.arrayContaining(["hello.elf", "selftest.elf", "htif-pass.elf", "htif-fail.elf", "cpubench.elf"]));
  });

  for (const name of GUESTS) {
    it(`guests/bin/${name}`, async () => {
      const r = await lockstep(readImageFile(`guests/bin/${name}`, "kernel"), { timeoutSeconds: 120 });
      expect(r.divergence).toBeUndefined();
      expect(r.exits).toBeGreaterThan(0);
      expect(r.trapResult.exitCode).toBe(r.nativeExitCode);
    }, 180_000);
  }
});

const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";

describe.runIf(existsSync(OPENSBI))("S-mode kernels behind Debian's OpenSBI (natively in M, deprivileged in virtual M) agree at every exit", () => {
  // kernel-mini: Sv39 user processes in separate address spaces with a copying fork — shadow paging
  // under the comparison at every one of its exits.
  for (const name of ["sbi-hello.elf", "kernel-mini.elf"]) {
    it(`OpenSBI + guests/bin/${name}`, async () => {
      const r = await lockstep(readImageFile(`guests/bin/${name}`, "kernel"), { timeoutSeconds: 150, firmware: readImageFile(OPENSBI, "bios") });
      expect(r.divergence).toBeUndefined();
      expect(r.exits).toBeGreaterThan(1000);
      expect(r.trapResult.exitCode).toBe(0);
      expect(r.nativeExitCode).toBe(0);
    }, 200_000);
  }
});

describe("native and --virt hw agree at every exit", () => {
  // The guest's S and U run in VS/VU: far fewer exits (its CSR accesses, sret and sfence stay on
  // the hart), the same comparison at each one, G-stage first touches retried like shadow fills.
  for (const name of ["hello.elf", "selftest.elf", "edges.elf"]) {
    it(`guests/bin/${name}`, async () => {
      const r = await lockstep(readImageFile(`guests/bin/${name}`, "kernel"), { timeoutSeconds: 120, hw: true });
      expect(r.divergence).toBeUndefined();
      expect(r.exits).toBeGreaterThan(0);
      expect(r.trapResult.exitCode).toBe(r.nativeExitCode);
    }, 180_000);
  }
});

describe("the check finds a divergence", () => {
  it("a register an exit handler got wrong is reported with its pc, instruction and values", async () => {
    // hello's console loop reads the UART's LSR (an MMIO exit): answer 0x21 instead of what the device said.
    let planted = -1;
    const r = await lockstep(readImageFile("guests/bin/hello.elf", "kernel"), {
      tamper: (page, exit) => {
        const reg = page.exit[EXIT_RESULT_REG];
        if (planted < 0 && exit >= 3 && reg !== NO_RESULT_REG) {
          planted = exit;
          page.exitOperand[0] ^= 1;
        }
      },
    });
    expect(planted).toBeGreaterThan(0);
    expect(r.divergence).toMatchObject({ instruction: "lbu a5,5(a4)", what: expect.stringMatching(/^a5: native 0x0+60, trap 0x0+61 \(an access at 0x0+10000005\)$/) });
    expect(r.divergence?.pc).toMatch(/^0x0+800000b6$/);
    expect(r.divergence?.exits).toBe(planted + 1);
  }, 60_000);

  it("a resume pc an exit handler got wrong is reported", async () => {
    // hello's first exit is its csrw mie, zero: resume the vCPU one instruction too far.
    const r = await lockstep(readImageFile("guests/bin/hello.elf", "kernel"), {
      tamper: (page, exit) => {
        if (exit === 0) page.pc[0] += 4;
      },
    });
    expect(r.divergence).toMatchObject({ instruction: "csrrw zero,mie,zero", what: expect.stringMatching(/^next pc: native 0x0+8[0-9a-f]+, trap 0x0+8[0-9a-f]+$/), exits: 1 });
  }, 60_000);
});
