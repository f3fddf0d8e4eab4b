import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { virtioDevicesFrom, type DeviceFlags } from "../../src/cli/devices.ts";
import { parseQemuOpts } from "../../src/cli/qemu-opts.ts";
import { ConfigError } from "../../src/errors.ts";
import { boardDevices } from "../../src/machine/board-devices.ts";
import { guestRam } from "../devices/virtio/driver-ring.ts";
import { TestPort } from "../devices/virtio/loop-port.ts";

const dir = mkdtempSync(join(tmpdir(), "popek-cli-"));
const disk = join(dir, "disk.img");
const disk2 = join(dir, "disk2.img");
writeFileSync(disk, new Uint8Array(4096));
writeFileSync(disk2, new Uint8Array(4096));

const ports = () => new TestPort();
const parse = (flags: DeviceFlags) => virtioDevicesFrom(flags, ports);
const names = (m: Map<number, { name: string }>) => Object.fromEntries([...m].map(([slot, k]) => [slot, k.name]));
const legacyOf = (flags: DeviceFlags) => {
  const kind = [...parse(flags).values()][0];
  const dev = kind.create({ irq: { set: () => {} }, clock: { mtime: () => 0 }, memory: guestRam() }, { consoleOut: () => {}, power: () => {} });
  return dev.read(4, 4);
};

function refuses(flags: DeviceFlags, message: RegExp): void {
  expect(() => parse(flags)).toThrow(ConfigError);
  expect(() => parse(flags)).toThrow(message);
}

describe("device flags in QEMU's words", () => {
  it("a drive and its device take the last slot first, as QEMU virt hands them out", () => {
    const m = parse({ drive: [`file=${disk},if=none,format=raw,id=d0`], device: ["virtio-blk-device,drive=d0"] });
    expect(names(m)).toEqual({ 7: "virtio-blk-device" });
  });

  it("devices fill downwards in order; bus=virtio-mmio-bus.N picks a slot; if=virtio drives come after", () => {
    const m = parse({
      drive: [`file=${disk},if=none,id=d0`, `file=${disk2},if=virtio,format=raw`],
      netdev: ["user,id=n0"],
      device: ["virtio-net-device,netdev=n0", "virtio-blk-device,drive=d0,bus=virtio-mmio-bus.0"],
    });
    expect(names(m)).toEqual({ 7: "virtio-net-device", 0: "virtio-blk-device", 6: "virtio-blk-device" });
  });

  it("--device virtio-console-device takes a slot like any virtio device, and no backend option", () => {
    expect(names(parse({ device: ["virtio-console-device"] }))).toEqual({ 7: "virtio-console-device" });
    refuses({ device: ["virtio-console-device,chardev=c0"] }, /unknown key chardev=/);
  });

  it("gives the board all eight slots once any is plugged, the rest empty", () => {
    const specs = boardDevices({ virtio: parse({ drive: [`file=${disk},if=virtio`] }) });
    const virtio = specs.filter((s) => s.base >= 0x1000_1000 && s.base < 0x1000_9000);
    expect(virtio.map((s) => s.kind.name)).toEqual([...Array(7).fill("virtio-mmio-slot"), "virtio-blk-device"]);
    expect(virtio.map((s) => s.irq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("builds version-2 transports unless --global virtio-mmio.force-legacy=true", () => {
    const drive = [`file=${disk},if=virtio`];
    expect(legacyOf({ drive })).toBe(2);
    expect(legacyOf({ drive, global: ["virtio-mmio.force-legacy=false"] })).toBe(2);
    expect(legacyOf({ drive, global: ["virtio-mmio.force-legacy=true"] })).toBe(1);
    expect(legacyOf({ drive, global: ["virtio-mmio.force-legacy=on"] })).toBe(1);
  });

  it("splits options at single commas; ',,' is a comma", () => {
    const o = parseQemuOpts("--drive", "file=a,,b.img,if=none");
    expect(o.values.get("file")).toBe("a,b.img");
    expect(o.head).toBeUndefined();
  });

  it("says in one line what is wrong with a bad or conflicting option", () => {
    refuses({ device: ["virtio-blk-device,drive=d9"] }, /no --drive with id=d9/);
    refuses({ device: ["virtio-blk-device"] }, /drive= is missing/);
    refuses({ device: ["e1000,netdev=n0"] }, /unknown device/);
    refuses({ drive: [`file=${disk},if=none`] }, /needs id=/);
    refuses({ drive: [`file=${disk},if=ide`] }, /if=ide/);
    refuses({ drive: [`file=${disk},format=qcow2`] }, /raw images only/);
    refuses({ drive: [`file=${disk},cache=none`] }, /unknown key cache=/);
    refuses({ drive: ["file=/nonexistent.img,if=virtio"] }, /cannot open/);
    refuses({ drive: [`file=${disk},if=none,id=d0`, `file=${disk2},if=none,id=d0`] }, /id=d0 is given twice/);
    refuses({ drive: [`file=${disk},if=none,id=d0`], device: ["virtio-blk-device,drive=d0", "virtio-blk-device,drive=d0"] }, /already used/);
    refuses({ drive: [`file=${disk},if=virtio,id=d0`], device: ["virtio-blk-device,drive=d0"] }, /makes its own device/);
    refuses(
      { drive: [`file=${disk},if=none,id=d0`, `file=${disk2},if=none,id=d1`], device: ["virtio-blk-device,drive=d0,bus=virtio-mmio-bus.3", "virtio-blk-device,drive=d1,bus=virtio-mmio-bus.3"] },
      /virtio-mmio-bus.3 already has a device/,
    );
    refuses({ drive: [`file=${disk},if=none,id=d0`], device: ["virtio-blk-device,drive=d0,bus=virtio-mmio-bus.8"] }, /virtio-mmio-bus.0 to virtio-mmio-bus.7/);
    refuses({ drive: Array(9).fill(`file=${disk},if=virtio`) }, /all 8 virtio-mmio slots are taken/);
    refuses({ netdev: ["user"] }, /id= is missing/);
    refuses({ netdev: ["user,id=n0"], device: ["virtio-net-device,netdev=n0,mac=xx"] }, /mac=xx/);
    refuses({ global: ["virtio-mmio.force-legacy=maybe"] }, /true or false/);
    refuses({ global: ["e1000.mac=1"] }, /only virtio-mmio.force-legacy/);
  });

  it("attaches a NIC to the virtual network by the real lookup, and refuses kinds it does not provide", () => {
    expect(virtioDevicesFrom({ netdev: ["user,id=n0"], device: ["virtio-net-device,netdev=n0"] }).get(7)?.name).toBe("virtio-net-device");
    expect(() => virtioDevicesFrom({ netdev: ["tap,id=n0"], device: ["virtio-net-device,netdev=n0"] })).toThrow(/unknown kind/);
  });
});
