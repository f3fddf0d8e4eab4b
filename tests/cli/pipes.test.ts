/*
 * Guest output through a pipe, as `popek run GUEST | ...` meets it: a slow
 * reader gets every line (nothing queued is dropped at exit), and a reader
 * that goes away (`| head -1`) ends the run quietly with SIGPIPE's status.
 */

import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chattyGuest } from "../helpers/small-guests.ts";

const POPEK = join(process.cwd(), "bin/popek.js");
const dir = mkdtempSync(join(tmpdir(), "popek-pipes-"));
const LINE = "popek says a line of output\n";
const LINES = 8000; // 224 KB: several times a pipe's buffer
const chatty = join(dir, "chatty.bin");
writeFileSync(chatty, chattyGuest(LINE, LINES));
const endless = join(dir, "endless.bin");
writeFileSync(endless, chattyGuest(LINE, 0));

interface Spawned {
  readonly status: Promise<number | null>;
  readonly stderr: () => string;
  readonly child: ReturnType<typeof spawn>;
}

function popek(args: string[]): Spawned {
  const child = spawn(process.execPath, [POPEK, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const status = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { status, stderr: () => err, child };
}

/** Reads nothing until the child has filled the pipe and finished its run, then reads it all. */
async function readSlowly(s: Spawned): Promise<string> {
  const out = s.child.stdout!;
  out.pause();
  // The guest ends long before we read: wait until popek has written its last byte to the full pipe.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  let text = "";
  out.on("data", (b: Buffer) => (text += b.toString()));
  out.resume();
  await s.status;
  return text;
}

describe("a slowly read pipe loses nothing", () => {
  for (const virt of ["none", "trap"]) {
    it(`all ${LINES} lines arrive (--virt ${virt})`, async () => {
      const s = popek(["run", chatty, "--virt", virt, "--timeout", "100"]);
      const text = await readSlowly(s);
      expect(await s.status).toBe(0);
      expect(text.split("\n").length - 1).toBe(LINES);
      expect(text).toBe(LINE.repeat(LINES));
    }, 120_000);
  }
});

describe("a pipe closed early ends the run quietly", () => {
  for (const virt of ["none", "trap"]) {
    it(`no EPIPE stack, exit status 141 (--virt ${virt})`, async () => {
      const s = popek(["run", endless, "--virt", virt, "--timeout", "100"]);
      // Like `| head -1`: read the first line, then close the pipe.
      await new Promise<void>((resolve) => {
        s.child.stdout!.once("data", () => {
          s.child.stdout!.destroy();
          resolve();
        });
      });
      expect(await s.status).toBe(141);
      expect(s.stderr()).not.toMatch(/EPIPE|\n\s+at /);
    }, 120_000);
  }
});
