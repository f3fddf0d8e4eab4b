/*
 * --cpu MODEL[,PROP=VALUE...] as QEMU's -cpu takes it: popek has one model,
 * rv64, and one optional extension, the hypervisor extension H
 * (`--cpu rv64,h=true`, QEMU's spelling). Off by default, so a plain run's
 * misa and device tree stay as they were.
 */

import { ConfigError } from "../errors.ts";

export interface CpuConfig {
  /** The harts implement the H extension. */
  readonly h: boolean;
}

const BOOL: Readonly<Record<string, boolean>> = { true: true, on: true, yes: true, false: false, off: false, no: false };

/** Parses --cpu; undefined means the default rv64 without H. */
export function parseCpu(text: string | undefined): CpuConfig {
  if (text === undefined) return { h: false };
  const [model, ...props] = text.split(",");
  if (model !== "rv64") throw new ConfigError(`--cpu: popek has one CPU model, rv64, got "${model}"`);
  let h = false;
  for (const prop of props) {
    const [key, value, ...rest] = prop.split("=");
    const flag = value === undefined ? undefined : BOOL[value];
    if (key !== "h" || flag === undefined || rest.length > 0) {
      throw new ConfigError(`--cpu: unknown property "${prop}" (popek's rv64 takes h=true or h=false)`);
    }
    h = flag;
  }
  return { h };
}
