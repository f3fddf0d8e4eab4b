/*
 * An experiment's VM becomes the flags `popek run` would be given: links
 * become a switch LAN per link, endpoints a sink or a source netdev, on the
 * VMs whose NICs they name, and a run's description comes from its VMs.
 */

import { describe, expect, it } from "vitest";
import { runConfig, vmFlags } from "../../src/cli/exp-vm.ts";
import { parseExperiment } from "../../src/lab/experiment-file.ts";

const TWO = `
name: pair
vms:
  - name: a
    kernel: guests/bin/ne2000-test.elf
    firmware: none
    vcpus: 2
    wait: spin
    devices: ["ne2000,netdev=n0", "ne2000,netdev=n1"]
  - name: b
    virt: none
    kernel: guests/bin/ne2000-test.elf
    devices: ["virtio-net-device,netdev=n0"]
links:
  - [a.n0, b.n0]
endpoints:
  - { kind: source, nic: a.n1, size: 128, rate: 500 }
`;

describe("experiment VMs in popek run's words", () => {
  const e = parseExperiment("pair.yaml", TWO).points[0]!.experiment;

  it("give each VM its own flags, with the netdevs its links and endpoints add", () => {
    expect(vmFlags(e.vms[0]!, e)).toMatchObject({
      virt: "trap",
      vcpus: "2",
      bios: "none",
      wait: "spin",
      exitHandler: "main",
      device: ["ne2000,netdev=n0", "ne2000,netdev=n1"],
      netdev: ["switch,id=n0,name=link0", "source,id=n1,size=128,pps=500"],
    });
    const b = vmFlags(e.vms[1]!, e);
    expect(b).toMatchObject({ virt: "none", harts: "1", netdev: ["switch,id=n0,name=link0"] });
    expect(b.vcpus).toBeUndefined();
  });

  it("describe the run by its VMs, whatever the sweep varied", () => {
    expect(runConfig(e)).toEqual({ virt: "trap+none", wait: "spin", handler: "main", vcpus: 3, nic: "ne2000+virtio" });
  });
});
