/*
 * Assigned NICs in the board's device table: their slots in the lab region
 * (a page each, page-aligned, so a VM can map each straight into the guest)
 * and their device-tree node, with the interrupt posted to the harts' local
 * interrupt 16 rather than a PLIC source.
 */

import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.ts";
import { boardDevices } from "../../src/machine/board-devices.ts";
import { buildBoardDeviceTree } from "../../src/machine/board-dt.ts";
import { decodeCells, decodeString, findNode, getProp, parseFdt } from "../../src/machine/fdt.ts";
import { ASSIGNED_NIC_BASE, DRAM_BASE, LAB_BASE } from "../../src/machine/memlayout.ts";
import { IRQ_POSTED } from "../../src/machine/riscv.ts";
import type { RemotePort } from "../../src/net/remote-port.ts";
import { Switch } from "../../src/net/switch.ts";

const ports: RemotePort[] = [];
function port(): RemotePort {
  const p = new Switch().attachRemote("nic");
  ports.push(p);
  return p;
}
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

describe("assigned NICs on the board", () => {
  it("card n has the page at 0x1000_a000 + 0x1000*n in the lab region, and no PLIC source", () => {
    const specs = boardDevices({ assigned: [{ port: port() }, { port: port() }] }).filter((s) => s.kind.name === "assigned-nic");
    expect(specs.map((s) => s.base)).toEqual([ASSIGNED_NIC_BASE, ASSIGNED_NIC_BASE + 0x1000]);
    for (const s of specs) {
      expect(s.base % 0x1000).toBe(0);
      expect(s.kind.window).toBe(0x1000);
      expect(s.base).toBeGreaterThanOrEqual(LAB_BASE);
      expect(s.irq).toBeUndefined();
      expect(s.kind.assigned).toBe(true);
    }
  });

  it("a fifth card is refused in one line", () => {
    expect(() => boardDevices({ assigned: [1, 2, 3, 4, 5].map(() => ({ port: port() })) })).toThrow(ConfigError);
  });

  it("its device-tree node names the device, its MAC and the harts' interrupt 16", () => {
    const mac = new Uint8Array([0x52, 0x54, 0, 0, 0, 0x42]);
    const root = parseFdt(buildBoardDeviceTree({ harts: 2, ramBase: DRAM_BASE, ramSize: 2 ** 24, isa: "rv64imac_zicsr_zifencei_sstc", devices: boardDevices({ assigned: [{ port: port(), mac }] }) }));
    const node = findNode(root, "/soc/ethernet@1000a000");
    expect(node).toBeDefined();
    expect(decodeString(getProp(node!, "compatible")!)).toBe("popek,assigned-nic");
    expect(Array.from(getProp(node!, "local-mac-address")!)).toEqual(Array.from(mac));
    const cells = decodeCells(getProp(node!, "interrupts-extended")!);
    expect(cells).toHaveLength(4); // (intc phandle, 16) for each of the two harts
    expect([cells[1], cells[3]]).toEqual([IRQ_POSTED, IRQ_POSTED]);
    expect(getProp(node!, "interrupts")).toBeUndefined();
  });
});
