/*
 * End to end under --virt trap: the block bench's guest (polling, 32
 * requests in flight, one notify per refill) on a VM whose virtio-blk queue
 * a vhost worker serves. Its notifies are taken on the vCPU's thread
 * (ioeventfd_exit) while the worker serves the queue, and the image,
 * read into the guest's buffers and written back from them, is intact.
 * The same for a paging guest (labos's diskperf through its ioremapped
 * QueueNotify), whose notify the shadow fill's walk finds on the vCPU's
 * thread under --exit-handler vcpu.
 */

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { virtioBlkKind } from "../../src/devices/virtio/kinds.ts";
import { closeBlkIo } from "../../src/devices/virtio/blk-pool.ts";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import type { VmResult } from "../../src/hypervisor/vm.ts";
import type { VmImages } from "../../src/hypervisor/vm-boot.ts";
import { boardDevices } from "../../src/machine/board-devices.ts";
import { readImageFile } from "../../src/machine/image.ts";

afterAll(closeBlkIo);

const MB = 2 ** 20;

/** Runs `kernel` on one vCPU under trap with a virtio-blk disk at `path` (slot 7) to its end: its output and result. */
async function runWithDisk(path: string, images: VmImages, exitHandler: "main" | "vcpu"): Promise<{ output: string; result: VmResult }> {
  let output = "";
  const hv = new Hypervisor({ machineMemory: 80 * MB });
  const vm = hv.createVm({
    name: "vhost",
    vcpus: 1,
    memSize: 64 * MB,
    images,
    wait: "poll",
    exitHandler,
    output: (b) => (output += String.fromCharCode(b)),
    devices: boardDevices({ virtio: new Map([[7, virtioBlkKind({ path, serial: "t" }, { legacy: false })]]) }),
  });
  hv.start(vm);
  const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), 120_000);
  const result = await vm.result;
  clearTimeout(timer);
  return { output, result };
}

function diskOf(bytes: Uint8Array): string {
  const path = join(mkdtempSync(join(tmpdir(), "popek-vhost-")), "disk.img");
  writeFileSync(path, bytes);
  return path;
}

describe("virtio-blk under trap: a vhost worker kicked from the vCPU's thread", () => {
  it("the bench guest's notifies mostly skip the main thread, and the image comes out intact", async () => {
    const path = diskOf(new Uint8Array(MB).fill(0xee));
    const kernel = readImageFile("guests/bin/virtio-blk-bench.elf", "kernel");
    const { output, result: r } = await runWithDisk(path, { bios: { kind: "none" }, kernel, append: "depth 32 passes 1" }, "main");
    expect(output).toContain("vblk-bench done");
    expect(r.exitCode).toBe(0);
    // 16 runs of at least 1 024 requests, a notify per 8: thousands of notifies, most taken without an exit.
    const stats = r.reports[0].stats;
    expect(stats.ioeventfd_exit).toBeGreaterThan(100);
    // The guest writes back buffers its reads filled from this disk: any byte moved to the wrong place shows.
    expect(readFileSync(path).every((b) => b === 0xee)).toBe(true);
  }, 150_000);

  it("a paging guest's notifies are found by the shadow walk and skip the main thread too (labos diskperf)", async () => {
    const path = diskOf(new Uint8Array(2 * MB));
    const kernel = readImageFile("guests/bin/labos.elf", "kernel");
    const { output, result: r } = await runWithDisk(path, { bios: { kind: "hv" }, kernel, append: "diskperf:16" }, "vcpu");
    expect(output).toMatch(/^pass diskperf$/m);
    // diskperf's 96 requests, one notify each. The first starts the worker's spell from the main
    // thread, and so does any after a spell idled out on a loaded host: most, not all, skip it.
    expect(r.reports[0].stats.ioeventfd_exit).toBeGreaterThan(48);
  }, 150_000);
});
