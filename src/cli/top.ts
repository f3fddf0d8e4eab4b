/*
 * `popek run … --top`: a live view of the VM's exits, redrawn each second
 * (report/top-view.ts), in the manner of kvm_stat. It takes the terminal:
 * the alternate screen, the cursor hidden, stdin in raw mode for its keys
 * (q or Ctrl-C quit; the guest gets no keyboard input while it runs). The
 * guest's console output is kept, its last lines shown under the table.
 * Quitting, or the VM stopping, gives the terminal back as it was: raw mode
 * off, cursor shown, the main screen restored.
 *
 * It needs a terminal on stdout: without one it refuses, in one line,
 * before the VM starts (a pipe wants --stats or --trace instead).
 */

import { ConfigError } from "../errors.ts";
import { readStats } from "../hypervisor/stats.ts";
import type { Vm } from "../hypervisor/vm.ts";
import { formatTopFrame, type TopSample } from "../report/top-view.ts";

const REFRESH_MS = 1000;
/** Lines of guest console output kept under the table. */
const CONSOLE_LINES = 6;

const ALT_SCREEN_ON = "\x1b[?1049h";
const ALT_SCREEN_OFF = "\x1b[?1049l";
const CURSOR_HIDE = "\x1b[?25l";
const CURSOR_SHOW = "\x1b[?25h";
const HOME_CLEAR = "\x1b[H\x1b[2J";
const CTRL_C = 0x03;

/** Refuses --top where it cannot draw: stdout is not a terminal. */
export function checkTopTerminal(): void {
  if (process.stdout.isTTY !== true) throw new ConfigError("--top needs a terminal on stdout (in a pipe or a file, use --stats or --trace FILE)");
}

export class LiveTop {
  private prev: TopSample | undefined;
  private closed = false;
  private consoleLines: string[] = [""];
  private readonly onKey = (chunk: Buffer): void => {
    for (const b of chunk) if (b === 0x71 /* q */ || b === 0x51 /* Q */ || b === CTRL_C) this.quit();
  };
  private readonly onSignal = (): void => this.quit();

  /** The VM now running (a guest reset boots a new one), and how to stop the run; set by start(). */
  private vm: () => Vm = () => {
    throw new Error("top: not started");
  };
  private quit: () => void = () => {};
  private timer: NodeJS.Timeout | undefined;
  private raw = false;
  private started = false;
  /** A crash must not leave the terminal raw and the cursor hidden: restored as the process exits. */
  private readonly onExit = (): void => this.close();

  /** Takes the terminal and draws the first frame; `quit` stops the run when the user asks. */
  start(vm: () => Vm, quit: () => void): void {
    this.vm = vm;
    this.quit = quit;
    this.started = true;
    const stdin = process.stdin;
    this.raw = stdin.isTTY === true;
    if (this.raw) stdin.setRawMode(true);
    stdin.on("data", this.onKey);
    stdin.on("error", () => {});
    process.on("SIGINT", this.onSignal);
    process.on("SIGTERM", this.onSignal);
    process.once("exit", this.onExit);
    process.stdout.write(ALT_SCREEN_ON + CURSOR_HIDE);
    this.draw();
    this.timer = setInterval(() => this.draw(), REFRESH_MS);
  }

  /** The guest's console output, one byte at a time (VmConfig.output). */
  readonly consoleByte = (byte: number): void => {
    if (byte === 0x0a) {
      this.consoleLines.push("");
      if (this.consoleLines.length > CONSOLE_LINES + 1) this.consoleLines.shift();
    } else if (byte >= 0x20 && byte < 0x7f) {
      this.consoleLines[this.consoleLines.length - 1] += String.fromCharCode(byte);
    }
  };

  private sample(vm: Vm): TopSample {
    return { ms: performance.now(), vcpus: vm.pages.map((p) => readStats(p)) };
  }

  private draw(): void {
    if (this.closed) return;
    const vm = this.vm();
    const now = this.sample(vm);
    const prev = this.prev !== undefined && this.prev.vcpus.length === now.vcpus.length ? this.prev : { ms: now.ms - REFRESH_MS, vcpus: [] };
    this.prev = now;
    // A terminal that does not say its size (0) gets a usual one.
    const rows = process.stdout.rows || 40;
    const cols = process.stdout.columns || 120;
    const header = { vm: vm.name, exitHandler: vm.config.exitHandler, wait: vm.config.wait, uptimeMs: Date.now() - vm.clock.startMs };
    const frame = formatTopFrame(header, prev, now, rows - CONSOLE_LINES - 3);
    const guest = this.consoleLines.filter((l, i) => l !== "" || i < this.consoleLines.length - 1).slice(-CONSOLE_LINES);
    const lines = [...frame, "", "guest console:", ...guest.map((l) => "  " + l)];
    process.stdout.write(HOME_CLEAR + lines.map((l) => l.slice(0, cols)).join("\n") + "\n"); // the tty adds the \r (libuv's raw mode keeps ONLCR)
  }

  /** Gives the terminal back: raw mode off, cursor shown, main screen restored. Safe to call twice. */
  close(): void {
    if (this.closed || !this.started) return;
    this.closed = true;
    clearInterval(this.timer);
    process.off("exit", this.onExit);
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
    const stdin = process.stdin;
    stdin.off("data", this.onKey);
    if (this.raw) stdin.setRawMode(false);
    stdin.pause();
    process.stdout.write(CURSOR_SHOW + ALT_SCREEN_OFF);
  }
}
