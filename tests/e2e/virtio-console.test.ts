/*
 * End to end: guests/virtio-console-test drives a virtio-console under
 * --virt trap: a line through emerg_wr, one through the transmit queue, and a
 * line of host input (Vm.input, as the CLI's console gives it) echoed back.
 */

import { describe, expect, it } from "vitest";
import { virtioConsoleKind } from "../../src/devices/virtio/kinds.ts";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import { boardDevices } from "../../src/machine/board-devices.ts";
import { readImageFile } from "../../src/machine/image.ts";

describe("virtio-console guest", () => {
  it("under --virt trap prints through emerg_wr and the transmit queue, and echoes a line of host input", async () => {
    const hv = new Hypervisor({ machineMemory: 32 * 2 ** 20 });
    let output = "";
    let typed = false;
    const vm = hv.createVm({
      name: "console",
      vcpus: 1,
      memSize: 16 * 2 ** 20,
      images: { bios: { kind: "none" }, kernel: readImageFile("guests/bin/virtio-console-test.elf", "kernel") },
      wait: "poll",
      exitHandler: "main",
      output: (b) => {
        output += String.fromCharCode(b);
        // Type only once the guest asks (it has posted its receive buffer or is about to: either way the line waits).
        if (!typed && output.includes("type a line\n")) {
          typed = true;
          setImmediate(() => vm.input(new TextEncoder().encode("over the virtqueue\n")));
        }
      },
      devices: boardDevices({ virtio: new Map([[7, virtioConsoleKind({ legacy: false })]]) }),
    });
    hv.start(vm);
    const timer = setTimeout(() => vm.stop("stopped", 124, "timeout"), 120_000);
    const r = await vm.result;
    clearTimeout(timer);
    expect(output).toContain("virtio-console: emerg_wr works\n");
    expect(output).toContain("virtio-console: hello through the transmit queue; type a line\n");
    expect(output).toContain("virtio-console: got over the virtqueue\n");
    expect(r.exitCode).toBe(0);
  }, 150_000);
});
