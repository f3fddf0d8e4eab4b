/*
 * Parsing of option values that speak QEMU's language (`--mem 128M`), with a
 * ConfigError naming the flag for anything malformed.
 */

import { ConfigError } from "../errors.ts";

const UNITS: Readonly<Record<string, number>> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 };

/** "128M", "1G", "65536K", or a bare number of MiB as QEMU's -m takes it. */
export function parseMemSize(text: string): number {
  const m = /^(\d+)([KMG])?i?B?$/i.exec(text.trim());
  if (m === null) throw new ConfigError(`--mem: cannot parse "${text}" (try 128M or 1G)`);
  const bytes = Number(m[1]) * (m[2] ? UNITS[m[2].toUpperCase()] : UNITS.M);
  if (bytes < 2 ** 20) throw new ConfigError(`--mem: ${text} is too little memory (at least 1M)`);
  if (bytes % 65536 !== 0) throw new ConfigError(`--mem: ${text} is not a multiple of 64K`);
  if (bytes > 2 ** 31) throw new ConfigError(`--mem: ${text} exceeds popek's 2G limit`);
  return bytes;
}

/** A positive integer flag within [min, max]. */
export function parseCount(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) {
    throw new ConfigError(`${flag}: expected a whole number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

/** Seconds (may be fractional), > 0. */
export function parseSeconds(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${flag}: expected a positive number of seconds, got "${text}"`);
  return n;
}

/** One of a fixed set of words. */
export function parseChoice<T extends string>(flag: string, text: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === text);
  if (found === undefined) throw new ConfigError(`${flag}: expected one of ${choices.join(", ")}, got "${text}"`);
  return found;
}

/** commander's collector for repeatable flags. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
