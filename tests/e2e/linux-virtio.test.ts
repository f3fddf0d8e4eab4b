/*
 * Debian's Linux finds a virtio disk and a virtio NIC given with QEMU's
 * flags: guests/bin/linux-virtio-init is packed at test time with the
 * kernel's own virtio modules (Debian builds virtio_mmio, virtio_blk and
 * virtio_net as modules), loads them, reads sector 0 of /dev/vda, writes
 * sector 2 and fsyncs, brings eth0 up (Linux then transmits its own IPv6
 * neighbour discovery) and powers off. Natively, and under --virt trap
 * with two vCPUs on the hypervisor's SBI (shadow paging), where every
 * register access of the virtio drivers is an exit.
 *
 * Needs POPEK_LINUX_KERNEL (a vmlinux, see linux.test.ts) with its modules
 * beside it as the Debian package unpacks them (../usr/lib/modules/VERSION).
 */

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { virtioDevicesFrom } from "../../src/cli/devices.ts";
import { closeBlkIo } from "../../src/devices/virtio/blk-pool.ts";
import { Board } from "../../src/machine/board.ts";
import { boardDevices, type DeviceSpec } from "../../src/machine/board-devices.ts";
import { readImageFile } from "../../src/machine/image.ts";
import { runBoard } from "../../src/machine/runner.ts";
import { TestPort } from "../devices/virtio/loop-port.ts";
import { cpio } from "../helpers/cpio.ts";
import { runVm } from "../helpers/vm.ts";

const KERNEL = process.env.POPEK_LINUX_KERNEL ?? "";
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const VERSION = basename(KERNEL).replace(/^vmlinux-/, "");
const MODULES = join(dirname(KERNEL), "..", "usr/lib/modules", VERSION, "kernel");
const WANTED = ["drivers/virtio/virtio_mmio.ko.xz", "drivers/block/virtio_blk.ko.xz", "net/core/failover.ko.xz", "drivers/net/net_failover.ko.xz", "drivers/net/virtio_net.ko.xz"];

/** The initramfs, a scratch disk, a NIC port and the devices, as QEMU's flags give them. */
function setup(): { initrd: Uint8Array; img: string; port: TestPort; devices: DeviceSpec[] } {
  const initrd = cpio([
    { name: "init", data: readFileSync("guests/bin/linux-virtio-init"), mode: 0o755 },
    ...WANTED.map((m) => ({ name: basename(m), data: readFileSync(join(MODULES, m)) })),
  ]);
  const img = join(mkdtempSync(join(tmpdir(), "popek-linux-vda-")), "disk.img");
  const disk = new Uint8Array(1 << 20);
  disk.set(new TextEncoder().encode("a disk for Linux\n"));
  writeFileSync(img, disk);
  const port = new TestPort();
  const virtio = virtioDevicesFrom(
    {
      drive: [`file=${img},if=none,format=raw,id=d0`],
      netdev: ["user,id=n0"],
      device: ["virtio-blk-device,drive=d0", "virtio-net-device,netdev=n0"],
    },
    () => port,
  );
  return { initrd, img, port, devices: boardDevices({ virtio }) };
}

/** What init printed, the sector it wrote in the host file, the frames Linux sent. */
function expectVirtioWorked(output: string, img: string, port: TestPort): void {
  expect(output).toContain("linux-virtio: /virtio_blk.ko.xz -> 0");
  expect(output).toContain("linux-virtio: /virtio_net.ko.xz -> 0");
  expect(output).toContain("linux-virtio: vda sector 0: a disk for Linux");
  expect(output).toContain("linux-virtio: fsync /dev/vda -> 0");
  expect(output).toContain("linux-virtio: eth0 address: 52:54:00:12:34:56");
  expect(output).toContain("linux-virtio: done");
  expect(new TextDecoder().decode(readFileSync(img).subarray(1024, 1024 + 14))).toBe("linux-was-here");
  expect(port.sent.length).toBeGreaterThan(0);
}

describe.runIf(KERNEL !== "" && existsSync(KERNEL) && existsSync(OPENSBI) && existsSync(MODULES))("Debian's Linux with virtio devices", () => {
  it("sees /dev/vda and eth0, writes the disk, transmits on the NIC", async () => {
    const { initrd, img, port, devices } = setup();
    let output = "";
    const board = new Board({ harts: 1, memSize: 512 * 2 ** 20, clock: "real", output: (b) => (output += String.fromCharCode(b)), devices });
    board.boot({
      firmware: readImageFile(OPENSBI, "bios"),
      kernel: readImageFile(KERNEL, "kernel"),
      initrd,
      append: "console=ttyS0",
    });
    const r = await runBoard(board, { timeoutSeconds: 900 });
    await closeBlkIo();
    expectVirtioWorked(output, img, port);
    expect(r.exitCode).toBe(0);
  }, 1_000_000);

  const TRAP_TIMEOUT_S = 1500;
  it("the same under --virt trap --vcpus 2, on the hypervisor's SBI", async () => {
    const { initrd, img, port, devices } = setup();
    const started = performance.now();
    const r = await runVm(
      { bios: { kind: "hv" }, kernel: readImageFile(KERNEL, "kernel"), initrd, append: "console=ttyS0" },
      { vcpus: 2, memSize: 512 * 2 ** 20, exitHandler: "vcpu", timeoutSeconds: TRAP_TIMEOUT_S, devices },
    );
    await closeBlkIo();
    console.log(`Linux with virtio under --virt trap --vcpus 2: ${((performance.now() - started) / 1000).toFixed(0)} s`);
    expectVirtioWorked(r.output, img, port);
    expect(r.result.message).toBeUndefined();
    expect(r.result.exitCode).toBe(0);
  }, (TRAP_TIMEOUT_S + 60) * 1000);
});
