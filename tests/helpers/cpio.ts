/*
 * A newc cpio archive (the initramfs format) built in memory from files,
 * for tests that pack an /init with a kernel's own modules at run time.
 * Deterministic like guests/linux-init/mkcpio.mjs: mtime 0, owner root.
 */

const S_IFREG = 0o100000;

export interface CpioFile {
  readonly name: string;
  readonly data: Uint8Array;
  readonly mode?: number;
}

export function cpio(files: readonly CpioFile[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const pad = (n: number) => new Uint8Array((4 - (n % 4)) % 4);
  const hex8 = (n: number) => n.toString(16).padStart(8, "0");
  const entry = (name: string, mode: number, data: Uint8Array, ino: number) => {
    const nameBytes = new TextEncoder().encode(name + "\0");
    const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0];
    const header = new TextEncoder().encode("070701" + fields.map(hex8).join(""));
    parts.push(header, nameBytes, pad(header.length + nameBytes.length), data, pad(data.length));
  };
  files.forEach((f, i) => entry(f.name, S_IFREG | (f.mode ?? 0o644), f.data, i + 1));
  entry("TRAILER!!!", 0, new Uint8Array(0), 0);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
