// Writes a newc cpio archive (the initramfs format Linux unpacks at boot) holding one
// executable, /init. Deterministic: inode 1, mtime 0, owner root, so the image rebuilds
// byte for byte. Usage: node mkcpio.mjs INIT_ELF OUT.cpio
import { readFileSync, writeFileSync } from "node:fs";

const [initPath, outPath] = process.argv.slice(2);
if (!initPath || !outPath) {
  console.error("usage: node mkcpio.mjs INIT_ELF OUT.cpio");
  process.exit(2);
}

const S_IFREG = 0o100000;
const parts = [];
const pad4 = (n) => (4 - (n % 4)) % 4;
const hex8 = (n) => n.toString(16).padStart(8, "0");

function entry(name, mode, data, ino) {
  const nameBytes = Buffer.from(name + "\0");
  const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0];
  const header = Buffer.from("070701" + fields.map(hex8).join(""));
  parts.push(header, nameBytes, Buffer.alloc(pad4(header.length + nameBytes.length)), data, Buffer.alloc(pad4(data.length)));
}

entry("init", S_IFREG | 0o755, readFileSync(initPath), 1);
entry("TRAILER!!!", 0, Buffer.alloc(0), 0);
writeFileSync(outPath, Buffer.concat(parts));
