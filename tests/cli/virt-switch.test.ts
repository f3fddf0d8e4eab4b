/*
 * `--virt trap` is a drop-in switch: the command line that runs an image
 * natively runs it deprivileged when `--virt trap` is added. Without --bios
 * the firmware follows the image, and one line on stderr says which.
 */

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const POPEK = join(process.cwd(), "bin/popek.js");

function popek(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [POPEK, ...args], { encoding: "utf8", timeout: 90_000, stdio: ["ignore", "pipe", "pipe"] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("--virt trap chooses the firmware from the image", () => {
  it("an image at 0x80000000 runs in virtual M-mode, as natively", () => {
    const r = popek("run", "guests/bin/hello.elf", "--virt", "trap");
    expect(r.stdout).toBe("hello from popek\n");
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("popek: guests/bin/hello.elf starts at 0x80000000: it runs in virtual M-mode (--bios none)\n");
  }, 90_000);

  it("a kernel linked at 0x80200000 gets the hypervisor's SBI", () => {
    const r = popek("run", "guests/bin/sbi-hello.elf", "--virt", "trap");
    expect(r.stdout).toMatch(/hello from/);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("popek: guests/bin/sbi-hello.elf loads at 0x80200000: an S-mode kernel, on the hypervisor's SBI (--bios hv)\n");
  }, 90_000);

  it("--kernel without --bios gets the hypervisor's SBI", () => {
    const r = popek("run", "--kernel", "guests/bin/sbi-hello.elf", "--virt", "trap");
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^popek: --kernel without --bios: .*\(--bios hv\)\n$/);
  }, 90_000);

  it("an explicit --bios is obeyed without a note", () => {
    const r = popek("run", "guests/bin/htif-fail.elf", "--virt", "trap", "--bios", "none");
    expect(r.status).toBe(3);
    expect(r.stderr).toBe("");
  }, 90_000);
});
