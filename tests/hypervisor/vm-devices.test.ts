/*
 * A VM's devices come from its configuration (a device table), and a
 * device reaches guest memory only through its VM's GuestMemoryView: its DMA
 * cannot reach a frame the VM does not own.
 */

import { afterEach, describe, expect, it } from "vitest";
import type { AccessWidth, DeviceKind, MmioDevice } from "../../src/devices/device.ts";
import { CLINT } from "../../src/devices/clint.ts";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import type { Vm } from "../../src/hypervisor/vm.ts";
import { STAT } from "../../src/hypervisor/stats.ts";
import { VcpuRunner } from "../../src/hypervisor/vcpu-runner.ts";
import { boardDevices, type DeviceSpec } from "../../src/machine/board-devices.ts";
import { decodeString, findNode, getProp, parseFdt } from "../../src/machine/fdt.ts";
import { FAULT_OUTSIDE, GUEST_OK, type GuestMemoryView } from "../../src/machine/guest-memory-view.ts";
import { DRAM_BASE, LAB_BASE } from "../../src/machine/memlayout.ts";
import { REG } from "../../src/isa/regnames.ts";
import { fdtNode, propString } from "../../src/machine/fdt.ts";
import { readImageFile } from "../../src/machine/image.ts";

// 4 MiB: the device tree goes 2 MiB-aligned below the top of RAM (as QEMU puts it), clear of hello.elf.
const RAM = 0x40_0000;
const SECRET = 0x5ec2_e75e_c2e7_5ec2n;

/**
 * A DMA engine as a guest drives one: write the source address to ADDR_LO
 * and ADDR_HI, then read DATA_LO/DATA_HI for the 8 bytes there, or STATUS
 * for the fault code (0 = fine). All through the device's memory view.
 */
class DmaProbe implements MmioDevice {
  readonly name = "dma-probe";
  readonly size = 0x20;
  private addrLo = 0;
  private data = 0n;
  private status = 0;
  constructor(readonly memory: GuestMemoryView) {}
  read(offset: number, _width: AccessWidth): number {
    if (offset === 0x8) return Number(this.data & 0xffff_ffffn);
    if (offset === 0xc) return Number(this.data >> 32n);
    if (offset === 0x10) return this.status >>> 0;
    return 0;
  }
  write(offset: number, _width: AccessWidth, value: number): void {
    if (offset === 0x0) this.addrLo = value >>> 0;
    else if (offset === 0x4) this.dma((value >>> 0) * 2 ** 32 + this.addrLo);
  }
  private dma(gpa: number): void {
    const v = this.memory.readU64(gpa);
    this.status = v < 0n ? Number(v) : GUEST_OK;
    this.data = v < 0n ? 0n : v;
  }
}

const DMA_PROBE: DeviceKind<DmaProbe> = {
  name: "dma-probe",
  window: 0x20,
  wiring: "none",
  dt: { node: "dma", build: (c) => fdtNode(c.name, [c.reg, propString("compatible", "popek,dma-probe")]) },
  create: (ctx) => new DmaProbe(ctx.memory),
  reset: () => {},
};

/** The probe as the guest would use it: 64-bit address in, 8 bytes or a fault code out. */
function dmaRead(probe: DmaProbe, gpa: number): { status: number; data: bigint } {
  probe.write(0x0, 4, gpa % 2 ** 32);
  probe.write(0x4, 4, Math.floor(gpa / 2 ** 32));
  const status = probe.read(0x10, 4) | 0;
  return { status, data: (BigInt(probe.read(0xc, 4)) << 32n) | BigInt(probe.read(0x8, 4)) };
}

const vms: Vm[] = [];
afterEach(async () => {
  for (const vm of vms.splice(0)) {
    vm.stop();
    await vm.result;
  }
});

/** A VM made and booted but not started: its devices and memory are there, no vCPU thread runs. */
function makeVm(hv: Hypervisor, devices: readonly DeviceSpec[]): Vm {
  const vm = hv.createVm({
    name: `vm${vms.length}`,
    vcpus: 1,
    memSize: RAM,
    images: { bios: { kind: "none" }, kernel: readImageFile("guests/bin/hello.elf", "kernel") },
    wait: "block",
    exitHandler: "main",
    output: () => {},
    devices,
  });
  vms.push(vm);
  return vm;
}

describe("a VM's devices", () => {
  it("come from its configuration: the device list makes its devices and its device tree", () => {
    const hv = new Hypervisor({ machineMemory: 4 * RAM });
    const plain = makeVm(hv, boardDevices());
    const probed = makeVm(hv, [...boardDevices(), { kind: DMA_PROBE, base: LAB_BASE }]);
    expect(plain.devices.find(DMA_PROBE)).toBeUndefined();
    expect(probed.devices.find(DMA_PROBE)).toBeInstanceOf(DmaProbe);
    expect(probed.devices.find(CLINT)).not.toBe(plain.devices.find(CLINT));
    // The tree the guest is handed (a1) describes the VM's own list.
    const dtOf = (vm: Vm) => {
      const at = vm.contexts[0].reg(REG.a1);
      const head = new Uint8Array(8);
      vm.memory.view.copyOut(at, head);
      const size = new DataView(head.buffer).getUint32(4);
      const blob = new Uint8Array(size);
      expect(vm.memory.view.copyOut(at, blob)).toBe(GUEST_OK);
      return parseFdt(blob);
    };
    const probedDt = dtOf(probed);
    expect(decodeString(getProp(findNode(probedDt, `/soc/dma@${LAB_BASE.toString(16)}`)!, "compatible")!)).toBe("popek,dma-probe");
    expect(findNode(dtOf(plain), `/soc/dma@${LAB_BASE.toString(16)}`)).toBeUndefined();
  });

  it("may lack a console: host input is then dropped", () => {
    const hv = new Hypervisor({ machineMemory: 2 * RAM });
    const vm = makeVm(hv, boardDevices().filter((d) => d.kind.name !== "uart16550"));
    expect(() => vm.input(Uint8Array.of(0x61))).not.toThrow();
  });
});

describe("a vCPU thread's view of guest memory", () => {
  it("comes from its VcpuConfig and translates as the main thread does, with no exit", () => {
    const hv = new Hypervisor({ machineMemory: 2 * RAM });
    const vm = makeVm(hv, boardDevices());
    const runner = new VcpuRunner(vm.vcpuConfigs()[0]);
    expect(vm.memory.view.writeU32(DRAM_BASE + 0x40, 0xcafe_f00d)).toBe(GUEST_OK);
    expect(runner.memory.translate(DRAM_BASE + 0x40, 4)).toBe(vm.memory.view.translate(DRAM_BASE + 0x40, 4));
    expect(runner.memory.readU32(DRAM_BASE + 0x40)).toBe(0xcafe_f00d);
    expect(runner.page.stats[STAT.exits]).toBe(0);
  });
});

describe("device DMA goes through the VM's view only", () => {
  it("reads the VM's own RAM", () => {
    const hv = new Hypervisor({ machineMemory: 4 * RAM });
    const vm = makeVm(hv, [...boardDevices(), { kind: DMA_PROBE, base: LAB_BASE }]);
    expect(vm.memory.view.writeU64(DRAM_BASE + 0x800, 0x0123_4567_89ab_cdefn)).toBe(GUEST_OK);
    expect(dmaRead(vm.devices.require(DMA_PROBE), DRAM_BASE + 0x800)).toEqual({ status: GUEST_OK, data: 0x0123_4567_89ab_cdefn });
  });

  it("cannot reach a frame its VM does not own: another VM's secret is neither at its machine address nor anywhere in this VM's space", () => {
    const hv = new Hypervisor({ machineMemory: 4 * RAM });
    const victim = makeVm(hv, boardDevices());
    const attacker = makeVm(hv, [...boardDevices(), { kind: DMA_PROBE, base: LAB_BASE }]);
    const probe = attacker.devices.require(DMA_PROBE);
    const secretAt = DRAM_BASE + 0x3000;
    expect(victim.memory.view.writeU64(secretAt, SECRET)).toBe(GUEST_OK);
    // Where the secret really is: its machine address (the machine's RAM starts at DRAM_BASE too).
    const machineAddr = DRAM_BASE + victim.memory.view.translate(secretAt, 8);
    const inAttacker = dmaRead(probe, machineAddr);
    expect(inAttacker.data).not.toBe(SECRET);
    // Every address outside the attacker's RAM faults: MMIO, below RAM, past it, far above.
    for (const gpa of [0, 0x1000_0000, DRAM_BASE - 8, DRAM_BASE + RAM, 2 ** 40, 2 ** 63]) {
      expect(dmaRead(probe, gpa).status, `0x${gpa.toString(16)}`).toBe(FAULT_OUTSIDE);
    }
    // And no address inside it holds the secret.
    for (let gpa = DRAM_BASE; gpa < DRAM_BASE + RAM; gpa += 8) {
      if (dmaRead(probe, gpa).data === SECRET) throw new Error(`the attacker's device read the secret at 0x${gpa.toString(16)}`);
    }
  });
});
