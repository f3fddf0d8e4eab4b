/*
 * End to end: a bare-metal driver (guests/virtio-blk-test) programs the
 * virtio-mmio version-2 registers of a disk given with QEMU's flags, reads
 * what the host put in sector 0, writes sectors 2-3 and reads them back;
 * the host then finds them in the image file. Natively and under --virt
 * trap, and (when QEMU is installed) the same guest on QEMU prints the same.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const POPEK = new URL("../../bin/popek.js", import.meta.url).pathname;
const GUEST = new URL("../../guests/bin/virtio-blk-test.elf", import.meta.url).pathname;
const SECTOR = 512;

function freshImage(): string {
  const path = join(mkdtempSync(join(tmpdir(), "popek-vblk-")), "disk.img");
  const bytes = new Uint8Array(64 * 1024);
  bytes.set(new TextEncoder().encode("written by the host\n"));
  writeFileSync(path, bytes);
  return path;
}

/** What the guest writes to sector s (guests/virtio-blk-test/main.c, pattern()). */
function pattern(s: number): Uint8Array {
  const p = new Uint8Array(SECTOR);
  const tag = new TextEncoder().encode(`popek-sector-${s}`);
  for (let i = 0; i < SECTOR; i++) p[i] = i < tag.length ? tag[i] : (i ^ s) & 0xff;
  return p;
}

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hasQemu = run("qemu-system-riscv64", ["--version"]).status === 0;

describe("a guest's virtio-blk driver writes and reads back a disk image", () => {
  for (const virt of ["none", "trap"]) {
    it(`--virt ${virt}: the data is on the host file`, () => {
      const img = freshImage();
      const r = run(process.execPath, [
        POPEK, "run", "--virt", virt, "--bios", "none", GUEST,
        "--drive", `file=${img},if=none,format=raw,id=d0`,
        "--device", "virtio-blk-device,drive=d0,serial=vd0",
        "--timeout", "90",
      ]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("virtio-blk-test: disk at 0x10008000, 128 sectors");
      expect(r.stdout).toContain("sector 0: written by the host");
      expect(r.stdout).toContain("device id: vd0");
      expect(r.stdout).toContain("virtio-blk-test: PASS");
      expect(r.status).toBe(0);
      const file = readFileSync(img);
      expect(new Uint8Array(file.subarray(2 * SECTOR, 3 * SECTOR))).toEqual(pattern(2));
      expect(new Uint8Array(file.subarray(3 * SECTOR, 4 * SECTOR))).toEqual(pattern(3));
      expect(file.subarray(4 * SECTOR).every((b) => b === 0)).toBe(true);
    }, 150_000);
  }

  it("bus=virtio-mmio-bus.0 puts the disk in the first slot; force-legacy=true shows the driver a version-1 device", () => {
    const img = freshImage();
    const first = run(process.execPath, [POPEK, "run", GUEST, "--drive", `file=${img},if=none,id=d0`, "--device", "virtio-blk-device,drive=d0,bus=virtio-mmio-bus.0"]);
    expect(first.stdout).toContain("disk at 0x10001000");
    const legacy = run(process.execPath, [POPEK, "run", GUEST, "--drive", `file=${img},if=virtio`, "--global", "virtio-mmio.force-legacy=true"]);
    expect(legacy.stdout).toContain("FAIL: legacy virtio-mmio");
    expect(legacy.status).toBe(1);
  }, 150_000);

  it("a bad option is one line on stderr", () => {
    const r = run(process.execPath, [POPEK, "run", GUEST, "--device", "virtio-blk-device,drive=nope"]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual(["popek: --device virtio-blk-device: no --drive with id=nope"]);
  }, 60_000);

  it.skipIf(!hasQemu)("QEMU runs the same guest with the same flags and prints the same", () => {
    const img = freshImage();
    const q = run("qemu-system-riscv64", [
      "-machine", "virt", "-bios", "none", "-nographic", "-kernel", GUEST,
      "-global", "virtio-mmio.force-legacy=false",
      "-drive", `file=${img},if=none,format=raw,id=d0`, "-device", "virtio-blk-device,drive=d0,serial=vd0",
    ]);
    expect(q.stdout.replace(/\r/g, "")).toContain("device id: vd0\nvirtio-blk-test: PASS");
    expect(q.status).toBe(0);
    expect(new Uint8Array(readFileSync(img).subarray(2 * SECTOR, 3 * SECTOR))).toEqual(pattern(2));
  }, 60_000);
});
