/*
 * Real software nobody here wrote: Debian's own riscv64 Linux kernel boots on
 * the native board behind Debian's OpenSBI, unpacks guests/bin/linux-initramfs.cpio
 * and runs its /init in user space, which powers the machine off.
 *
 * The kernel (~30 MB, from Debian's linux-image-*-riscv64 package) is not
 * committed; point POPEK_LINUX_KERNEL at its vmlinux to run this test (see the
 * README, "Booting Linux"). It takes about a minute.
 */

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readImageFile } from "../../src/machine/image.ts";
import { bootImages } from "../helpers/boot.ts";

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
});
