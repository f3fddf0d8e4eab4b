/*
 * QEMU's option-list syntax, as -drive, -device, -netdev and -global take
 * it: `first,key=value,key=value`, where ",," stands for a literal comma.
 * The first element may be a bare word (a device's driver, a netdev's type).
 */

import { ConfigError } from "../errors.ts";

export interface QemuOpts {
  /** The leading bare word, if any. */
  readonly head: string | undefined;
  readonly values: ReadonlyMap<string, string>;
}

/** Splits `text` at single commas; `flag` names the option in errors. */
export function parseQemuOpts(flag: string, text: string): QemuOpts {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "," && text[i + 1] === ",") {
      cur += ",";
      i++;
    } else if (ch === ",") {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  let head: string | undefined;
  const values = new Map<string, string>();
  parts.forEach((p, i) => {
    const eq = p.indexOf("=");
    if (eq < 0) {
      if (i === 0 && p !== "") head = p;
      else throw new ConfigError(`${flag}: "${p}" is not key=value (in "${text}")`);
      return;
    }
    const key = p.slice(0, eq);
    if (values.has(key)) throw new ConfigError(`${flag}: ${key}= is given twice (in "${text}")`);
    values.set(key, p.slice(eq + 1));
  });
  return { head, values };
}

/** Refuses keys outside `known`, naming them. */
export function onlyKeys(flag: string, opts: QemuOpts, known: readonly string[]): void {
  for (const k of opts.values.keys()) {
    if (!known.includes(k)) throw new ConfigError(`${flag}: unknown key ${k}= (popek takes ${known.map((x) => `${x}=`).join(", ")})`);
  }
}

/** QEMU's booleans: on/off, true/false, yes/no. */
export function parseQemuBool(flag: string, text: string): boolean {
  if (["on", "true", "yes"].includes(text)) return true;
  if (["off", "false", "no"].includes(text)) return false;
  throw new ConfigError(`${flag}: expected true or false, got "${text}"`);
}
