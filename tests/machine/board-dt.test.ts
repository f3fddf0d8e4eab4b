import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.ts";
import { boardPhandles, buildBoardDeviceTree, fdtAddress, type BoardDtConfig } from "../../src/machine/board-dt.ts";
import { decodeCells, decodeString, decodeStrings, findNode, getProp, parseFdt, type FdtNode } from "../../src/machine/fdt.ts";
import { DRAM_BASE } from "../../src/machine/memlayout.ts";
import { boardDevices } from "../../src/machine/board-devices.ts";

const MiB = 1024 * 1024;
const ISA = "rv64imac_zicsr_zifencei_sstc";
const BASE: BoardDtConfig = { harts: 2, ramBase: DRAM_BASE, ramSize: 128 * MiB, isa: ISA, devices: boardDevices({ virtioSlots: 2 }) };

function tree(cfg: Partial<BoardDtConfig> = {}): FdtNode {
  return parseFdt(buildBoardDeviceTree({ ...BASE, ...cfg }));
}

function node(root: FdtNode, path: string): FdtNode {
  const n = findNode(root, path);
  if (n === undefined) throw new Error(`no node ${path}`);
  return n;
}

function prop(root: FdtNode, path: string, name: string): Uint8Array {
  const v = getProp(node(root, path), name);
  if (v === undefined) throw new Error(`no property ${path}:${name}`);
  return v;
}

const cells = (root: FdtNode, path: string, name: string): number[] => decodeCells(prop(root, path, name));
const str = (root: FdtNode, path: string, name: string): string => decodeString(prop(root, path, name));

describe("board device tree: what OpenSBI and Linux read", () => {
  const root = tree();

  it("describes the root with two address and size cells, like QEMU virt", () => {
    expect(cells(root, "/", "#address-cells")).toEqual([2]);
    expect(cells(root, "/", "#size-cells")).toEqual([2]);
    expect(str(root, "/", "compatible")).toBe("riscv-virtio");
  });

  it("gives /cpus the 10 MHz timebase and one cpu node per hart", () => {
    expect(cells(root, "/cpus", "timebase-frequency")).toEqual([10_000_000]);
    expect(cells(root, "/cpus", "#address-cells")).toEqual([1]);
    expect(cells(root, "/cpus", "#size-cells")).toEqual([0]);
    for (const h of [0, 1]) {
      const cpu = `/cpus/cpu@${h}`;
      expect(cells(root, cpu, "reg")).toEqual([h]);
      expect(str(root, cpu, "device_type")).toBe("cpu");
      expect(str(root, cpu, "status")).toBe("okay");
      expect(str(root, cpu, "compatible")).toBe("riscv");
      expect(str(root, cpu, "riscv,isa")).toBe(ISA);
      expect(str(root, cpu, "mmu-type")).toBe("riscv,sv39");
    }
    expect(findNode(root, "/cpus/cpu@2")).toBeUndefined();
  });

  it("gives each hart a riscv,cpu-intc interrupt controller with one interrupt cell", () => {
    const intc = "/cpus/cpu@1/interrupt-controller";
    expect(str(root, intc, "compatible")).toBe("riscv,cpu-intc");
    expect(cells(root, intc, "#interrupt-cells")).toEqual([1]);
    expect(prop(root, intc, "interrupt-controller").length).toBe(0);
  });

  it("numbers phandles as QEMU does: harts from the last down, then the PLIC, then the test device", () => {
    // The board's list: clint, plic, two virtio slots, test, uart; only the PLIC and the test device are referred to.
    expect(boardPhandles(2, boardDevices({ virtioSlots: 2 }))).toEqual({ cpu: [3, 1], cpuIntc: [4, 2], devices: [0, 5, 0, 0, 6, 0] });
    expect(cells(root, "/cpus/cpu@0", "phandle")).toEqual([3]);
    expect(cells(root, "/cpus/cpu@0/interrupt-controller", "phandle")).toEqual([4]);
    expect(cells(root, "/soc/plic@c000000", "phandle")).toEqual([5]);
    expect(cells(root, "/soc/test@100000", "phandle")).toEqual([6]);
  });

  it("maps every hart in cpu-map/cluster0", () => {
    expect(cells(root, "/cpus/cpu-map/cluster0/core0", "cpu")).toEqual([3]);
    expect(cells(root, "/cpus/cpu-map/cluster0/core1", "cpu")).toEqual([1]);
  });

  it("describes RAM in /memory@80000000", () => {
    expect(str(root, "/memory@80000000", "device_type")).toBe("memory");
    expect(cells(root, "/memory@80000000", "reg")).toEqual([0, 0x8000_0000, 0, 128 * MiB]);
  });

  it("puts the devices on a simple-bus /soc with identity ranges", () => {
    expect(str(root, "/soc", "compatible")).toBe("simple-bus");
    expect(prop(root, "/soc", "ranges").length).toBe(0);
  });

  it("wires the CLINT to each hart's M-software (3) and M-timer (7) interrupts", () => {
    const clint = "/soc/clint@2000000";
    expect(decodeStrings(prop(root, clint, "compatible"))).toEqual(["sifive,clint0", "riscv,clint0"]);
    expect(cells(root, clint, "reg")).toEqual([0, 0x200_0000, 0, 0x1_0000]);
    expect(cells(root, clint, "interrupts-extended")).toEqual([4, 3, 4, 7, 2, 3, 2, 7]);
  });

  it("wires the PLIC to each hart's M-external (11) and S-external (9) interrupts", () => {
    const plic = "/soc/plic@c000000";
    expect(decodeStrings(prop(root, plic, "compatible"))).toEqual(["sifive,plic-1.0.0", "riscv,plic0"]);
    expect(cells(root, plic, "reg")).toEqual([0, 0xc00_0000, 0, 0x60_0000]);
    expect(cells(root, plic, "interrupts-extended")).toEqual([4, 11, 4, 9, 2, 11, 2, 9]);
    expect(cells(root, plic, "riscv,ndev")).toEqual([95]);
    expect(cells(root, plic, "#address-cells")).toEqual([0]);
    expect(cells(root, plic, "#interrupt-cells")).toEqual([1]);
    expect(prop(root, plic, "interrupt-controller").length).toBe(0);
  });

  it("describes the 16550 at 0x10000000 on PLIC source 10 with QEMU's clock", () => {
    const uart = "/soc/serial@10000000";
    expect(str(root, uart, "compatible")).toBe("ns16550a");
    expect(cells(root, uart, "reg")).toEqual([0, 0x1000_0000, 0, 0x100]);
    expect(cells(root, uart, "clock-frequency")).toEqual([0x38_4000]);
    expect(cells(root, uart, "interrupts")).toEqual([10]);
    expect(cells(root, uart, "interrupt-parent")).toEqual([5]);
  });

  it("describes the test finisher as a syscon with poweroff (0x5555) and reboot (0x7777) writers", () => {
    expect(decodeStrings(prop(root, "/soc/test@100000", "compatible"))).toEqual(["sifive,test1", "sifive,test0", "syscon"]);
    expect(cells(root, "/soc/test@100000", "reg")).toEqual([0, 0x10_0000, 0, 0x1000]);
    expect(str(root, "/poweroff", "compatible")).toBe("syscon-poweroff");
    expect(cells(root, "/poweroff", "value")).toEqual([0x5555]);
    expect(cells(root, "/poweroff", "offset")).toEqual([0]);
    expect(cells(root, "/poweroff", "regmap")).toEqual([6]);
    expect(str(root, "/reboot", "compatible")).toBe("syscon-reboot");
    expect(cells(root, "/reboot", "value")).toEqual([0x7777]);
  });

  it("lists the requested virtio-mmio slots with PLIC sources 1+n, highest slot first as QEMU does", () => {
    const soc = node(root, "/soc");
    expect(soc.children.filter((c) => c.name.startsWith("virtio_mmio")).map((c) => c.name)).toEqual([
      "virtio_mmio@10002000",
      "virtio_mmio@10001000",
    ]);
    expect(str(root, "/soc/virtio_mmio@10002000", "compatible")).toBe("virtio,mmio");
    expect(cells(root, "/soc/virtio_mmio@10002000", "reg")).toEqual([0, 0x1000_2000, 0, 0x1000]);
    expect(cells(root, "/soc/virtio_mmio@10002000", "interrupts")).toEqual([2]);
    expect(cells(root, "/soc/virtio_mmio@10001000", "interrupts")).toEqual([1]);
    expect(findNode(tree({ devices: boardDevices() }), "/soc/virtio_mmio@10001000")).toBeUndefined();
  });

  it("points /chosen stdout-path at the UART and leaves bootargs and initrd out unless given", () => {
    expect(str(root, "/chosen", "stdout-path")).toBe("/soc/serial@10000000");
    expect(getProp(node(root, "/chosen"), "bootargs")).toBeUndefined();
    expect(getProp(node(root, "/chosen"), "linux,initrd-start")).toBeUndefined();
    expect(getProp(node(tree({ bootargs: "" }), "/chosen"), "bootargs")).toBeUndefined();
  });

  it("puts --append into bootargs and the initrd range into linux,initrd-start/-end", () => {
    const t = tree({ bootargs: "console=ttyS0 root=/dev/ram", initrd: { start: 0x8400_0000, end: 0x8400_03e8 } });
    expect(str(t, "/chosen", "bootargs")).toBe("console=ttyS0 root=/dev/ram");
    expect(cells(t, "/chosen", "linux,initrd-start")).toEqual([0x8400_0000]);
    expect(cells(t, "/chosen", "linux,initrd-end")).toEqual([0x8400_03e8]);
  });

  it("writes an initrd above 4 GiB as two cells", () => {
    const t = tree({ ramSize: 8192 * MiB, initrd: { start: 0x1_0000_0000, end: 0x1_0000_1000 } });
    expect(cells(t, "/chosen", "linux,initrd-start")).toEqual([1, 0]);
  });

  it("scales to one hart", () => {
    const t = tree({ harts: 1 });
    expect(cells(t, "/soc/clint@2000000", "interrupts-extended")).toEqual([2, 3, 2, 7]);
    expect(cells(t, "/soc/serial@10000000", "interrupt-parent")).toEqual([3]);
  });

  it("refuses zero harts and more virtio slots than the board has", () => {
    expect(() => buildBoardDeviceTree({ ...BASE, harts: 0 })).toThrow(ConfigError);
    expect(() => buildBoardDeviceTree({ ...BASE, devices: boardDevices({ virtioSlots: 9 }) })).toThrow(ConfigError);
  });
});

describe("fdtAddress: where QEMU 7.2 puts the DTB (hw/riscv/boot.c riscv_load_fdt)", () => {
  // Expected values read from qemu-system-riscv64 7.2's reset vector (-bios none).
  it.each([
    [128 * MiB, 0x87e0_0000],
    [64 * MiB, 0x83e0_0000],
    [128 * MiB + 512 * 1024, 0x87e0_0000],
    [129 * MiB, 0x8800_0000],
    [4096 * MiB, 0xbfe0_0000],
  ])("RAM of %i bytes at 0x80000000 → %i", (ramSize, expected) => {
    expect(fdtAddress(DRAM_BASE, ramSize, 0x1000)).toBe(expected);
  });

  it("stays 2 MiB aligned below the end of RAM for a large tree", () => {
    expect(fdtAddress(DRAM_BASE, 128 * MiB, 3 * MiB)).toBe(0x87c0_0000);
  });

  it("refuses RAM too small to hold the tree", () => {
    expect(() => fdtAddress(DRAM_BASE, 512 * 1024, 0x1000)).toThrow(ConfigError);
  });
});
