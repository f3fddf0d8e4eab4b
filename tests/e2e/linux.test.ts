/*
 * Real software nobody here wrote: Debian's own riscv64 Linux kernel boots on
 * the native board behind Debian's OpenSBI, unpacks guests/bin/linux-initramfs.cpio
 * and runs its /init in user space, which powers the machine off.
 *
 * The kernel (~30 MB, from Debian's linux-image-*-riscv64 package) is not
 * committed; point POPEK_LINUX_KERNEL at its vmlinux to run this test (see the
 * README, "Booting Linux"). It takes about a minute natively; the same kernel
 * then boots deprivileged under the hypervisor with two vCPUs, on shadow page
 * tables, on the hypervisor's SBI and behind Debian's OpenSBI (itself in
 * virtual M-mode) — several times longer — and under --virt hw (the H extension).
 */

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readImageFile } from "../../src/machine/image.ts";
import { bootImages } from "../helpers/boot.ts";
import { runVm } from "../helpers/vm.ts";
import type { VmImages } from "../../src/hypervisor/vm-boot.ts";

const KERNEL = process.env.POPEK_LINUX_KERNEL ?? "";
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";

describe.runIf(KERNEL !== "" && existsSync(KERNEL) && existsSync(OPENSBI))("Debian's Linux kernel", () => {
  it("boots to its /init in user space and powers off", async () => {
    const r = await bootImages(
      {
        firmware: readImageFile(OPENSBI, "bios"),
        kernel: readImageFile(KERNEL, "kernel"),
        initrd: readImageFile("guests/bin/linux-initramfs.cpio", "initrd"),
        append: "console=ttyS0",
      },
      { memSize: 512 * 2 ** 20, timeoutSeconds: 240 },
    );
    expect(r.output).toContain("Linux version");
    expect(r.output).toContain("Run /init as init process");
    expect(r.output).toContain("popek: hello from Linux user space (PID 1)");
    expect(r.output).toContain("reboot: Power down");
    expect(r.exitCode).toBe(0);
  }, 300_000);

  const TRAP_TIMEOUT_S = 1500;
  for (const firmware of ["hv", "opensbi"] as const) {
    it(`boots to its /init under --virt trap --vcpus 2, ${firmware === "hv" ? "on the hypervisor's SBI" : "behind OpenSBI deprivileged"}`, async () => {
      const images: VmImages = {
        bios: firmware === "hv" ? { kind: "hv" } : { kind: "firmware", bytes: readImageFile(OPENSBI, "bios") },
        kernel: readImageFile(KERNEL, "kernel"),
        initrd: readImageFile("guests/bin/linux-initramfs.cpio", "initrd"),
        append: "console=ttyS0",
      };
      const r = await runVm(images, { vcpus: 2, memSize: 512 * 2 ** 20, exitHandler: "vcpu", timeoutSeconds: TRAP_TIMEOUT_S });
      expect(r.output).toContain("Linux version");
      expect(r.output).toContain("Run /init as init process");
      expect(r.output).toContain("popek: hello from Linux user space (PID 1)");
      expect(r.output).toContain("reboot: Power down");
      expect(r.result.message).toBeUndefined();
    }, (TRAP_TIMEOUT_S + 60) * 1000);
  }

  // --virt hw: the kernel in VS-mode over the VM's guest-physical map as the G-stage; its ioremapped
  // devices (PLIC, UART) are guest-page faults the hypervisor serves as MMIO.
  it("boots to its /init under --virt hw --vcpus 2 on the hypervisor's SBI", async () => {
    const images: VmImages = {
      bios: { kind: "hv" },
      kernel: readImageFile(KERNEL, "kernel"),
      initrd: readImageFile("guests/bin/linux-initramfs.cpio", "initrd"),
      append: "console=ttyS0",
    };
    const r = await runVm(images, { vcpus: 2, memSize: 512 * 2 ** 20, exitHandler: "vcpu", hw: true, timeoutSeconds: TRAP_TIMEOUT_S });
    expect(r.output).toContain("Run /init as init process");
    expect(r.output).toContain("popek: hello from Linux user space (PID 1)");
    expect(r.output).toContain("reboot: Power down");
    expect(r.result.message).toBeUndefined();
  }, (TRAP_TIMEOUT_S + 60) * 1000);
});
