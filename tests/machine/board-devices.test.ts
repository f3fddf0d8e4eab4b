/*
 * The board's one device table: the native board, every VM and the device
 * tree are made from a device list, and a new kind of device needs only its
 * own module (here, a kind defined in this file) and a row in the list.
 */

import { describe, expect, it } from "vitest";
import type { AccessWidth, DeviceKind, IrqLine, MmioDevice } from "../../src/devices/device.ts";
import { UART_16550 } from "../../src/devices/uart16550.ts";
import { ConfigError } from "../../src/errors.ts";
import { boardDevices } from "../../src/machine/board-devices.ts";
import { checkDeviceList, type DeviceSpec } from "../../src/machine/device-list.ts";
import { Board } from "../../src/machine/board.ts";
import { buildBoardDeviceTree } from "../../src/machine/board-dt.ts";
import { decodeCells, decodeString, findNode, getProp, parseFdt } from "../../src/machine/fdt.ts";
import { fdtNode, propString } from "../../src/machine/fdt.ts";
import { LAB_BASE, MEMORY_MAP, UART0_BASE, UART0_IRQ } from "../../src/machine/memlayout.ts";
import { ISA_STRING } from "../../src/machine/riscv.ts";

/** A hypothetical lab device: a doorbell register that raises its line when written, as a new device's module would define it. */
class Doorbell implements MmioDevice {
  readonly name = "doorbell";
  readonly size = 0x100;
  resets = 0;
  value = 0;
  constructor(readonly irq: IrqLine) {}
  read(_offset: number, _width: AccessWidth): number {
    return this.value;
  }
  write(_offset: number, _width: AccessWidth, value: number): void {
    this.value = value;
    this.irq.set(value !== 0);
  }
}

const DOORBELL: DeviceKind<Doorbell> = {
  name: "doorbell",
  window: 0x100,
  wiring: "source",
  dt: { node: "doorbell", build: (c) => fdtNode(c.name, [...c.interrupts, c.reg, propString("compatible", "popek,doorbell")]) },
  create: (ctx) => new Doorbell(ctx.irq),
  reset: (d) => {
    d.resets++;
    d.value = 0;
  },
};

const DOORBELL_IRQ = 20;
const withDoorbell = (): DeviceSpec[] => [...boardDevices(), { kind: DOORBELL, base: LAB_BASE, irq: DOORBELL_IRQ }];

function board(devices?: readonly DeviceSpec[]): Board {
  return new Board({ harts: 1, memSize: 4 * 2 ** 20, clock: "icount", output: () => {}, devices });
}

describe("the device table", () => {
  it("makes the native board's devices, each mapped at its row's base", () => {
    const b = board();
    expect(b.devices.instances.map((i) => i.spec.kind.name)).toEqual(["clint", "plic", "sifive-test", "uart16550"]);
    for (const i of b.devices.instances) expect(b.bus.find(i.spec.base)?.device).toBe(i.device);
  });

  it("takes a new device from one row: mapped on the bus, wired to its PLIC source, in the device tree, reset with the board", () => {
    const b = board(withDoorbell());
    const bell = b.devices.require(DOORBELL);
    expect(b.bus.write(LAB_BASE, 4, 1)).toBe(true);
    expect(bell.value).toBe(1);
    // The PLIC saw the line: source 20's pending bit (word 0 of the pending array at 0x1000).
    expect((b.bus.read(0x0c00_1000, 4) >>> DOORBELL_IRQ) & 1).toBe(1);
    const dt = parseFdt(buildBoardDeviceTree({ harts: 1, ramBase: 0x8000_0000, ramSize: 4 * 2 ** 20, isa: ISA_STRING, devices: b.devices.specs }));
    const node = findNode(dt, `/soc/doorbell@${LAB_BASE.toString(16)}`);
    expect(node).toBeDefined();
    expect(decodeCells(getProp(node!, "interrupts")!)).toEqual([DOORBELL_IRQ]);
    b.boot({ kernel: new Uint8Array(16) });
    b.boot({ kernel: new Uint8Array(16) }); // a reboot resets every device of the list
    expect(bell.resets).toBe(1);
    expect(bell.value).toBe(0);
  });

  it("allows several devices of one kind, each its own instance and node", () => {
    const second = { kind: UART_16550, base: LAB_BASE, irq: UART0_IRQ + 1 };
    const b = board([...boardDevices(), second]);
    const uarts = b.devices.instances.filter((i) => i.spec.kind === UART_16550);
    expect(uarts).toHaveLength(2);
    expect(uarts[0].device).not.toBe(uarts[1].device);
    const dt = parseFdt(buildBoardDeviceTree({ harts: 1, ramBase: 0x8000_0000, ramSize: 4 * 2 ** 20, isa: ISA_STRING, devices: b.devices.specs }));
    expect(findNode(dt, `/soc/serial@${LAB_BASE.toString(16)}`)).toBeDefined();
    // stdout-path stays on the first console of the list.
    expect(decodeString(getProp(findNode(dt, "/chosen")!, "stdout-path")!)).toBe(`/soc/serial@${UART0_BASE.toString(16)}`);
  });

  it("refuses lists that cannot be a machine", () => {
    const base = boardDevices();
    const bad: [string, DeviceSpec[]][] = [
      ["overlapping windows", [...base, { kind: DOORBELL, base: UART0_BASE + 0x80, irq: 20 }]],
      ["a source device without its source", [...base, { kind: DOORBELL, base: LAB_BASE }]],
      ["two devices on one source", [...base, { kind: DOORBELL, base: LAB_BASE, irq: UART0_IRQ }]],
      ["an irq for a device without a line", base.map((s) => (s.kind.name === "sifive-test" ? { ...s, irq: 3 } : s))],
      ["a source device without a PLIC", [{ kind: DOORBELL, base: LAB_BASE, irq: 1 }]],
      ["a window in RAM", [...base, { kind: DOORBELL, base: 0x8000_0000, irq: 20 }]],
    ];
    for (const [what, list] of bad) expect(() => checkDeviceList(list), what).toThrow(ConfigError);
    expect(() => board([...base, { kind: DOORBELL, base: LAB_BASE }])).toThrow(ConfigError);
  });

  it("fits every window of the board into its region of memlayout's MEMORY_MAP", () => {
    for (const d of [...boardDevices({ virtioSlots: 8 }), { kind: DOORBELL, base: LAB_BASE, irq: 20 }]) {
      const end = d.base + d.kind.window;
      const region = MEMORY_MAP.find((r) => d.base >= r.base && end <= r.base + r.size);
      expect(region, `${d.kind.name} at 0x${d.base.toString(16)}`).toBeDefined();
    }
    const sorted = [...MEMORY_MAP].sort((a, b) => a.base - b.base);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i].base).toBeGreaterThanOrEqual(sorted[i - 1].base + sorted[i - 1].size);
  });
});
