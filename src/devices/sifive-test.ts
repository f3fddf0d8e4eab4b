/*
 * SiFive's test finisher, as on QEMU's `virt` board (hw/misc/sifive_test.c):
 * a guest ends the simulation, or resets the board, with one store.
 *
 * Registers (offset):
 *   0x0  FINISHER  w  bits 15:0 = status, bits 31:16 = exit code
 *                     0x3333 FAIL   QEMU exits with `code`; note that code 0
 *                                   (a bare 0x3333) therefore exits with
 *                                   status 0, which a shell reads as success
 *                     0x5555 PASS   QEMU exits with status 0
 *                     0x7777 RESET  QEMU requests a system reset
 *                     other         ignored (QEMU logs a guest error)
 * Every other offset ignores writes. All reads return 0, as QEMU's do.
 * QEMU accepts 2- and 4-byte accesses (a 2-byte store of 0x5555 passes);
 * 1-byte accesses, which QEMU faults, read all ones and are ignored here.
 *
 * The device only reports the event: the board decides what "exit" means
 * (popek's CLI maps fail to its exit status exactly as QEMU would).
 */

import { allOnes, type AccessWidth, type DeviceKind, type MmioDevice, type PowerEvent } from "./device.ts";
import { fdtNode, propPhandle, propString, propStrings, propU32, type FdtNode } from "../machine/fdt.ts";

/** The register window (QEMU virt: VIRT_TEST size). */
const TEST_WINDOW = 0x1000;

const REG_FINISHER = 0x0;

const STATUS_MASK = 0xffff;
const CODE_SHIFT = 16;
const CODE_MASK = 0xffff;

const FINISHER_FAIL = 0x3333;
const FINISHER_PASS = 0x5555;
const FINISHER_RESET = 0x7777;

export class SifiveTest implements MmioDevice {
  readonly name = "test";
  readonly size = TEST_WINDOW;

  private readonly onEvent: (e: PowerEvent) => void;

  constructor(onEvent: (e: PowerEvent) => void) {
    this.onEvent = onEvent;
  }

  read(_offset: number, width: AccessWidth): number {
    return isValidWidth(width) ? 0 : allOnes(width);
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (!isValidWidth(width) || offset !== REG_FINISHER) return;
    const status = value & STATUS_MASK;
    const code = (value >>> CODE_SHIFT) & CODE_MASK;
    switch (status) {
      case FINISHER_FAIL:
        this.onEvent({ kind: "fail", code });
        break;
      case FINISHER_PASS:
        this.onEvent({ kind: "pass" });
        break;
      case FINISHER_RESET:
        this.onEvent({ kind: "reset" });
        break;
      default:
        break;
    }
  }
}

/** QEMU's sifive_test_ops: .valid.min_access_size = 2, .max_access_size = 4. */
function isValidWidth(width: number): boolean {
  return width === 2 || width === 4;
}

/** A syscon write node (poweroff / reboot) aimed at the finisher; QEMU puts them at the root. */
function sysconNode(name: string, value: number, regmap: number): FdtNode {
  return fdtNode(name, [propU32("value", value), propU32("offset", REG_FINISHER), propU32("regmap", regmap), propString("compatible", `syscon-${name}`)]);
}

/** The finisher as a board device: power events go to the host; a syscon that Linux and OpenSBI power off and reboot with. */
export const SIFIVE_TEST: DeviceKind<SifiveTest> = {
  name: "sifive-test",
  window: TEST_WINDOW,
  wiring: "none",
  dt: {
    node: "test",
    phandle: true,
    build: (c) => fdtNode(c.name, [propPhandle(c.phandle), c.reg, propStrings("compatible", ["sifive,test1", "sifive,test0", "syscon"])]),
    // QEMU's order at the root: poweroff, then reboot.
    rootNodes: (phandle) => [sysconNode("poweroff", FINISHER_PASS, phandle), sysconNode("reboot", FINISHER_RESET, phandle)],
  },
  create: (_ctx, host) => new SifiveTest((e) => host.power(e)),
  reset: () => {}, // no state
};
