/*
 * The popek board's device tree, as QEMU 7.2's `virt` machine writes it for
 * the same devices (hw/riscv/virt.c create_fdt*), so that OpenSBI's generic
 * platform and Linux find what they expect. QEMU's devices that popek lacks
 * (rtc, flash, pci, fw-cfg, platform-bus, pmu) and its random rng-seed are
 * left out.
 *
 * Nodes and properties appear in the order QEMU's blob has them (libfdt
 * inserts each new node and property first, so QEMU's dump lists them in
 * reverse creation order): `dtc -I dtb -O dts` of both blobs then diffs
 * line by line. Order also matters to guests: Linux probes virtio-mmio nodes
 * in tree order, slot 7 first, as under QEMU.
 *
 * Phandles are numbered as QEMU numbers them: harts from the last down, each
 * hart then its interrupt controller, then the devices that need one in
 * device-table order (the PLIC, then the test device).
 *
 * The devices' nodes come from their kinds (src/devices/*.ts, DeviceKind.dt),
 * listed from the machine's device table in reverse: the table is in QEMU's
 * creation order.
 */

import { ConfigError } from "../errors.ts";
import type { DeviceTreeContext } from "../devices/device.ts";
import { checkDeviceList, virtDevices, type DeviceSpec } from "./device-list.ts";
import { TIMEBASE_HZ } from "./memlayout.ts";
import {
  buildFdt,
  fdtNode,
  propCells,
  propEmpty,
  propPhandle,
  propReg,
  propString,
  propU32,
  propU64,
  type FdtNode,
  type FdtProperty,
} from "./fdt.ts";

export interface BoardDtConfig {
  readonly harts: number;
  readonly ramBase: number;
  readonly ramSize: number;
  /** e.g. "rv64imac_zicsr_zifencei_sstc" */
  readonly isa: string;
  /** Kernel command line (--append); omitted when empty, as QEMU does. */
  readonly bootargs?: string;
  /** Physical [start, end) of the initrd (--initrd). */
  readonly initrd?: { readonly start: number; readonly end: number };
  /** The machine's devices (its device table); the popek board's by default. */
  readonly devices?: readonly DeviceSpec[];
}

/** Hart MMU as the device tree names it. */
const MMU_TYPE = "riscv,sv39";

/** The soc bus and the root use two address cells and two size cells. */
const ROOT_ADDRESS_CELLS = 2;
const ROOT_SIZE_CELLS = 2;
const U32_LIMIT = 2 ** 32;

/** Phandle numbering, in QEMU's order (see the file comment). */
export interface BoardPhandles {
  readonly cpu: readonly number[];
  readonly cpuIntc: readonly number[];
  /** Per device of the list: its phandle, or 0 when its kind needs none. */
  readonly devices: readonly number[];
}

/** Harts from the last down, each hart then its interrupt controller; then the devices that need one, in list order. */
export function boardPhandles(harts: number, devices: readonly DeviceSpec[]): BoardPhandles {
  const cpu: number[] = [];
  const cpuIntc: number[] = [];
  let next = 1;
  for (let h = harts - 1; h >= 0; h--) {
    cpu[h] = next++;
    cpuIntc[h] = next++;
  }
  return { cpu, cpuIntc, devices: devices.map((d) => (d.kind.dt.phandle === true ? next++ : 0)) };
}

function hexName(base: string, addr: number): string {
  return `${base}@${addr.toString(16)}`;
}

function reg(addr: number, size: number): FdtProperty {
  return propReg([{ addr, size }], ROOT_ADDRESS_CELLS, ROOT_SIZE_CELLS);
}

/** <intc[0] a, intc[0] b, intc[1] a, intc[1] b, ...>: a per-hart interrupts-extended list. */
function perHartIrqs(ph: BoardPhandles, irqs: readonly number[]): FdtProperty {
  return propCells("interrupts-extended", ph.cpuIntc.flatMap((intc) => irqs.flatMap((irq) => [intc, irq])));
}

function cpusNode(cfg: BoardDtConfig, ph: BoardPhandles): FdtNode {
  const cpus: FdtNode[] = [];
  for (let h = 0; h < cfg.harts; h++) {
    const intc = fdtNode("interrupt-controller", [
      propU32("#interrupt-cells", 1),
      propEmpty("interrupt-controller"),
      propString("compatible", "riscv,cpu-intc"),
      propPhandle(ph.cpuIntc[h]!),
    ]);
    cpus.push(
      fdtNode(
        `cpu@${h}`,
        [
          propPhandle(ph.cpu[h]!),
          propString("device_type", "cpu"),
          propU32("reg", h),
          propString("status", "okay"),
          propString("compatible", "riscv"),
          propString("riscv,isa", cfg.isa),
          propString("mmu-type", MMU_TYPE),
        ],
        [intc],
      ),
    );
  }
  const cores = ph.cpu.map((p, h) => fdtNode(`core${h}`, [propU32("cpu", p)]));
  const cpuMap = fdtNode("cpu-map", [], [fdtNode("cluster0", [], cores)]);
  return fdtNode(
    "cpus",
    [propU32("#address-cells", 1), propU32("#size-cells", 0), propU32("timebase-frequency", TIMEBASE_HZ)],
    [...cpus, cpuMap],
  );
}

/** What one device's kind needs to write its node. */
function nodeContext(d: DeviceSpec, phandle: number, ph: BoardPhandles, interruptParent: number): DeviceTreeContext {
  return {
    name: hexName(d.kind.dt.node, d.base),
    reg: reg(d.base, d.kind.window),
    interrupts: d.irq === undefined ? [] : [propU32("interrupts", d.irq), propU32("interrupt-parent", interruptParent)],
    phandle,
    hartInterrupts: (irqs) => perHartIrqs(ph, irqs),
  };
}

/** Each device's node on /soc, in reverse list order (QEMU's, see the file comment). */
function socNode(devices: readonly DeviceSpec[], ph: BoardPhandles): FdtNode {
  const parent = devices.findIndex((d) => d.kind.irqSource !== undefined);
  const interruptParent = parent >= 0 ? ph.devices[parent] : 0;
  const nodes = devices.map((d, i) => d.kind.dt.build(nodeContext(d, ph.devices[i], ph, interruptParent)));
  return fdtNode(
    "soc",
    [
      propU32("#address-cells", ROOT_ADDRESS_CELLS),
      propU32("#size-cells", ROOT_SIZE_CELLS),
      propString("compatible", "simple-bus"),
      propEmpty("ranges"),
    ],
    nodes.reverse(),
  );
}

/** One cell when it fits (what QEMU 7.2 writes), two above 4 GiB (QEMU 7.2 would truncate). */
function propAddr(name: string, addr: number): FdtProperty {
  return addr < U32_LIMIT ? propU32(name, addr) : propU64(name, addr);
}

function chosenNode(cfg: BoardDtConfig, devices: readonly DeviceSpec[]): FdtNode {
  const props: FdtProperty[] = [];
  if (cfg.initrd !== undefined) {
    props.push(propAddr("linux,initrd-end", cfg.initrd.end), propAddr("linux,initrd-start", cfg.initrd.start));
  }
  if (cfg.bootargs !== undefined && cfg.bootargs !== "") props.push(propString("bootargs", cfg.bootargs));
  const stdout = devices.find((d) => d.kind.dt.stdout === true);
  if (stdout !== undefined) props.push(propString("stdout-path", `/soc/${hexName(stdout.kind.dt.node, stdout.base)}`));
  return fdtNode("chosen", props);
}

function checkConfig(cfg: BoardDtConfig): void {
  if (!Number.isInteger(cfg.harts) || cfg.harts < 1) throw new ConfigError(`device tree: ${cfg.harts} harts (need at least 1)`);
  if (cfg.initrd !== undefined && cfg.initrd.end < cfg.initrd.start) {
    throw new ConfigError("device tree: initrd ends before it starts");
  }
  if (!Number.isSafeInteger(cfg.ramBase) || !Number.isSafeInteger(cfg.ramSize) || cfg.ramSize <= 0) {
    throw new ConfigError(`device tree: bad RAM range base ${cfg.ramBase} size ${cfg.ramSize}`);
  }
}

/** The board's tree (unserialised), for tests and for printing. */
function boardDeviceTreeNode(cfg: BoardDtConfig): FdtNode {
  checkConfig(cfg);
  const devices = cfg.devices ?? virtDevices();
  checkDeviceList(devices);
  const ph = boardPhandles(cfg.harts, devices);
  // Nodes devices add at the root (the finisher's syscon writers), in reverse list order like /soc's.
  const rootNodes = devices
    .map((d, i) => d.kind.dt.rootNodes?.(ph.devices[i]) ?? [])
    .reverse()
    .flat();
  return fdtNode(
    "",
    [
      propU32("#address-cells", ROOT_ADDRESS_CELLS),
      propU32("#size-cells", ROOT_SIZE_CELLS),
      propString("compatible", "riscv-virtio"),
      propString("model", "riscv-virtio,qemu"),
    ],
    [
      chosenNode(cfg, devices),
      ...rootNodes,
      fdtNode(hexName("memory", cfg.ramBase), [propString("device_type", "memory"), reg(cfg.ramBase, cfg.ramSize)]),
      cpusNode(cfg, ph),
      socNode(devices, ph),
    ],
  );
}

/** The board's device tree as a DTB blob (boot CPU 0, no reservations, like QEMU's). */
export function buildBoardDeviceTree(cfg: BoardDtConfig): Uint8Array {
  return buildFdt(boardDeviceTreeNode(cfg));
}

const MiB = 1024 * 1024;
/** QEMU keeps the DTB below 3 GiB so a 32-bit kernel can still map it. */
const FDT_CEILING = 3072 * MiB;
const FDT_ALIGN = 2 * MiB;
/**
 * QEMU 7.2 measures its tree before fdt_pack, when the buffer is still
 * create_device_tree's 1 MiB; using the same size gives the same address
 * (checked against qemu-system-riscv64 -m 128M, 64M, 131584K, 4G).
 */
const QEMU_FDT_BUFFER = 1 * MiB;

/**
 * Where the DTB goes in RAM, as QEMU 7.2's riscv_load_fdt (hw/riscv/boot.c)
 * computes it: end of RAM or 3 GiB, whichever is lower (when RAM starts below
 * 3 GiB), minus the tree's size, aligned down to 2 MiB. The board passes this
 * address to each hart in a1.
 */
export function fdtAddress(ramBase: number, ramSize: number, fdtSize: number): number {
  const ramEnd = ramBase + ramSize;
  const top = ramBase < FDT_CEILING ? Math.min(ramEnd, FDT_CEILING) : ramEnd;
  const size = Math.max(fdtSize, QEMU_FDT_BUFFER);
  const addr = Math.floor((top - size) / FDT_ALIGN) * FDT_ALIGN;
  if (addr < ramBase || addr + fdtSize > ramEnd) {
    throw new ConfigError(`device tree: RAM 0x${ramBase.toString(16)}+0x${ramSize.toString(16)} is too small to hold it (try --mem)`);
  }
  return addr;
}
