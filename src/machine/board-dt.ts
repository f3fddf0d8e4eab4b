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
 * hart then its interrupt controller, then the PLIC, then the test device.
 */

import { ConfigError } from "../errors.ts";
import {
  CLINT_BASE,
  CLINT_SIZE,
  PLIC_BASE,
  PLIC_NUM_SOURCES,
  PLIC_SIZE,
  TEST_BASE,
  TEST_SIZE,
  TIMEBASE_HZ,
  UART0_BASE,
  UART0_IRQ,
  UART0_SIZE,
  VIRTIO_BASE,
  VIRTIO_COUNT,
  VIRTIO_IRQ,
  VIRTIO_STRIDE,
} from "./memlayout.ts";
import {
  buildFdt,
  fdtNode,
  propCells,
  propEmpty,
  propPhandle,
  propReg,
  propString,
  propStrings,
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
  /** How many virtio-mmio slots (from slot 0) to describe; default 0. */
  readonly virtioSlots?: number;
}

/** Interrupt numbers in the hart-local controller (priv spec 3.1.9, mip/mie bits). */
const IRQ_M_SOFT = 3;
const IRQ_M_TIMER = 7;
const IRQ_S_EXT = 9;
const IRQ_M_EXT = 11;

/** 16550 input clock, as QEMU's virt board states it (1.8432 MHz x 2). */
const UART_CLOCK_HZ = 3_686_400;

/** sifive_test commands the syscon nodes write (see MEMORY_MAP's test entry). */
const TEST_POWEROFF_VALUE = 0x5555;
const TEST_REBOOT_VALUE = 0x7777;

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
  readonly plic: number;
  readonly test: number;
}

export function boardPhandles(harts: number): BoardPhandles {
  const cpu: number[] = [];
  const cpuIntc: number[] = [];
  let next = 1;
  for (let h = harts - 1; h >= 0; h--) {
    cpu[h] = next++;
    cpuIntc[h] = next++;
  }
  return { cpu, cpuIntc, plic: next, test: next + 1 };
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

/** A device on the PLIC: interrupts, interrupt-parent, reg, compatible (QEMU's order). */
function plicDevice(name: string, base: number, size: number, irq: number, compatible: string, ph: BoardPhandles, extra: FdtProperty[] = []): FdtNode {
  return fdtNode(name, [
    propU32("interrupts", irq),
    propU32("interrupt-parent", ph.plic),
    ...extra,
    reg(base, size),
    propString("compatible", compatible),
  ]);
}

function socNode(cfg: BoardDtConfig, ph: BoardPhandles): FdtNode {
  const serial = plicDevice(hexName("serial", UART0_BASE), UART0_BASE, UART0_SIZE, UART0_IRQ, "ns16550a", ph, [
    propU32("clock-frequency", UART_CLOCK_HZ),
  ]);
  const test = fdtNode(hexName("test", TEST_BASE), [
    propPhandle(ph.test),
    reg(TEST_BASE, TEST_SIZE),
    propStrings("compatible", ["sifive,test1", "sifive,test0", "syscon"]),
  ]);
  const virtio: FdtNode[] = [];
  for (let n = (cfg.virtioSlots ?? 0) - 1; n >= 0; n--) {
    const base = VIRTIO_BASE + n * VIRTIO_STRIDE;
    virtio.push(plicDevice(hexName("virtio_mmio", base), base, VIRTIO_STRIDE, VIRTIO_IRQ + n, "virtio,mmio", ph));
  }
  const plic = fdtNode(hexName("plic", PLIC_BASE), [
    propPhandle(ph.plic),
    // riscv,ndev counts sources 1..N (source 0 is "no interrupt"), so the
    // board's 96 sources make 95. QEMU 7.2 writes 96 here, one more than
    // its PLIC has; a driver probing that phantom source would hit a hole.
    propU32("riscv,ndev", PLIC_NUM_SOURCES - 1),
    reg(PLIC_BASE, PLIC_SIZE),
    perHartIrqs(ph, [IRQ_M_EXT, IRQ_S_EXT]),
    propEmpty("interrupt-controller"),
    propStrings("compatible", ["sifive,plic-1.0.0", "riscv,plic0"]),
    propU32("#address-cells", 0),
    propU32("#interrupt-cells", 1),
  ]);
  const clint = fdtNode(hexName("clint", CLINT_BASE), [
    perHartIrqs(ph, [IRQ_M_SOFT, IRQ_M_TIMER]),
    reg(CLINT_BASE, CLINT_SIZE),
    propStrings("compatible", ["sifive,clint0", "riscv,clint0"]),
  ]);
  return fdtNode(
    "soc",
    [
      propU32("#address-cells", ROOT_ADDRESS_CELLS),
      propU32("#size-cells", ROOT_SIZE_CELLS),
      propString("compatible", "simple-bus"),
      propEmpty("ranges"),
    ],
    [serial, test, ...virtio, plic, clint],
  );
}

/** A syscon write node (poweroff / reboot) aimed at the test device; QEMU puts them at the root. */
function sysconNode(name: string, value: number, ph: BoardPhandles): FdtNode {
  return fdtNode(name, [
    propU32("value", value),
    propU32("offset", 0),
    propU32("regmap", ph.test),
    propString("compatible", `syscon-${name}`),
  ]);
}

/** One cell when it fits (what QEMU 7.2 writes), two above 4 GiB (QEMU 7.2 would truncate). */
function propAddr(name: string, addr: number): FdtProperty {
  return addr < U32_LIMIT ? propU32(name, addr) : propU64(name, addr);
}

function chosenNode(cfg: BoardDtConfig): FdtNode {
  const props: FdtProperty[] = [];
  if (cfg.initrd !== undefined) {
    props.push(propAddr("linux,initrd-end", cfg.initrd.end), propAddr("linux,initrd-start", cfg.initrd.start));
  }
  if (cfg.bootargs !== undefined && cfg.bootargs !== "") props.push(propString("bootargs", cfg.bootargs));
  props.push(propString("stdout-path", `/soc/${hexName("serial", UART0_BASE)}`));
  return fdtNode("chosen", props);
}

function checkConfig(cfg: BoardDtConfig): void {
  if (!Number.isInteger(cfg.harts) || cfg.harts < 1) throw new ConfigError(`device tree: ${cfg.harts} harts (need at least 1)`);
  const slots = cfg.virtioSlots ?? 0;
  if (!Number.isInteger(slots) || slots < 0 || slots > VIRTIO_COUNT) {
    throw new ConfigError(`device tree: ${slots} virtio slots (the board has ${VIRTIO_COUNT})`);
  }
  if (cfg.initrd !== undefined && cfg.initrd.end < cfg.initrd.start) {
    throw new ConfigError("device tree: initrd ends before it starts");
  }
  if (!Number.isSafeInteger(cfg.ramBase) || !Number.isSafeInteger(cfg.ramSize) || cfg.ramSize <= 0) {
    throw new ConfigError(`device tree: bad RAM range base ${cfg.ramBase} size ${cfg.ramSize}`);
  }
}

/** The board's tree (unserialised), for tests and for printing. */
export function boardDeviceTreeNode(cfg: BoardDtConfig): FdtNode {
  checkConfig(cfg);
  const ph = boardPhandles(cfg.harts);
  return fdtNode(
    "",
    [
      propU32("#address-cells", ROOT_ADDRESS_CELLS),
      propU32("#size-cells", ROOT_SIZE_CELLS),
      propString("compatible", "riscv-virtio"),
      propString("model", "riscv-virtio,qemu"),
    ],
    [
      chosenNode(cfg),
      sysconNode("poweroff", TEST_POWEROFF_VALUE, ph),
      sysconNode("reboot", TEST_REBOOT_VALUE, ph),
      fdtNode(hexName("memory", cfg.ramBase), [propString("device_type", "memory"), reg(cfg.ramBase, cfg.ramSize)]),
      cpusNode(cfg, ph),
      socNode(cfg, ph),
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
