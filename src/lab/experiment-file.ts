/*
 * Reading an experiment file (YAML or JSON; YAML is a superset, one parser
 * reads both): its sweep is expanded and every point is substituted and
 * validated before anything runs, so a typo in the last point stops the
 * experiment at once. Every error names the file, the path inside it, what
 * was expected and what was found:
 *
 *   bench/experiments/exits.yaml: vms[0].vcpus: expected a number, found "two" (point vcpus=two)
 */

import { readFileSync } from "node:fs";
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.ts";
import { experimentSchema, type Experiment } from "./experiment-schema.ts";
import { expandSweep, paramsOf, pointLabel, substitute, UnknownParameter, type Params, type ParamValue } from "./sweep.ts";

/** One sweep point: its index (what `--point K` and a Slurm array task name), parameters and the experiment they make. */
export interface Point {
  readonly index: number;
  readonly params: Params;
  readonly experiment: Experiment;
}

export interface ExperimentFile {
  readonly file: string;
  readonly name: string;
  /** The sweep's parameter names, in order. */
  readonly paramNames: readonly string[];
  readonly points: readonly Point[];
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Reads, expands and validates `file`; a ConfigError naming the file and the place otherwise. */
export function loadExperiment(file: string): ExperimentFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseExperiment(file, text);
}

/** As loadExperiment, from the file's text. */
export function parseExperiment(file: string, text: string): ExperimentFile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    if (e instanceof YAMLParseError) throw new ConfigError(`${file}: not YAML or JSON: ${e.message.split("\n")[0]}`);
    throw e;
  }
  return experimentFromValue(file, raw);
}

/** As parseExperiment, from the file's parsed value (a built-in experiment, like the demo's). */
export function experimentFromValue(file: string, raw: unknown): ExperimentFile {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`${file}: expected a mapping (name:, vms:, ...), found ${describe(raw)}`);
  }
  const doc = raw as Record<string, unknown>;
  const sweep = checkSweep(file, doc.sweep);
  const names = Object.keys(sweep);
  const used = new Set<string>();
  const points = expandSweep(sweep).map((bindings, index) => {
    const params = paramsOf(bindings);
    const body = { ...doc };
    delete body.sweep;
    let substituted: unknown;
    try {
      substituted = substitute(body, bindings, used);
    } catch (e) {
      if (e instanceof UnknownParameter) {
        throw new ConfigError(`${file}: ${pathText(e.path)}: expected a sweep parameter (${names.join(", ") || "none declared"}), found \${${e.param}} (point ${pointLabel(params)})`);
      }
      throw e;
    }
    const result = experimentSchema.safeParse({ ...(substituted as object), sweep });
    if (!result.success) throw new ConfigError(formatIssue(file, result.error.issues[0]!, substituted, names.length > 0 ? params : undefined));
    return { index, params, experiment: result.data };
  });
  for (const name of names) {
    if (!used.has(name)) throw new ConfigError(`${file}: sweep.${name}: expected \${${name}} somewhere in the file, found it unused`);
  }
  return { file, name: points[0]!.experiment.name, paramNames: names, points };
}

function checkSweep(file: string, sweep: unknown): Record<string, ParamValue[]> {
  if (sweep === undefined) return {};
  if (sweep === null || typeof sweep !== "object" || Array.isArray(sweep)) {
    throw new ConfigError(`${file}: sweep: expected a mapping of parameter: [values], found ${describe(sweep)}`);
  }
  const out: Record<string, ParamValue[]> = {};
  for (const [name, values] of Object.entries(sweep)) {
    if (!PARAM_NAME.test(name)) throw new ConfigError(`${file}: sweep.${name}: expected a name of letters, digits and _, found "${name}"`);
    if (!Array.isArray(values) || values.length === 0) throw new ConfigError(`${file}: sweep.${name}: expected a non-empty list of values, found ${describe(values)}`);
    values.forEach((v: unknown, i) => {
      const scalar = (x: unknown) => typeof x === "string" || typeof x === "number" || typeof x === "boolean";
      const group = v !== null && typeof v === "object" && !Array.isArray(v) && Object.values(v).every(scalar);
      if (!scalar(v) && !group) {
        throw new ConfigError(`${file}: sweep.${name}[${i}]: expected a string, number, boolean or a mapping of those, found ${describe(v)}`);
      }
    });
    out[name] = values as ParamValue[];
  }
  return out;
}

/** One zod issue as `FILE: PATH: expected ..., found ...`. */
function formatIssue(file: string, issue: z.core.$ZodIssue, input: unknown, params: Params | undefined): string {
  const where = issue.path.length === 0 ? "" : `${pathText(issue.path)}: `;
  const point = params === undefined ? "" : ` (point ${pointLabel(params)})`;
  if (issue.code === "unrecognized_keys") {
    return `${file}: ${where}expected only known keys, found ${issue.keys.map((k) => `"${k}"`).join(", ")}${point}`;
  }
  const expected = issue.message
    .replace(/^Invalid (input|option): /, "")
    .replace(/, received \w+$/, "")
    .replace(/^(Too small|Too big): /, "")
    .replace(/^expected /, "");
  const found = valueAt(input, issue.path);
  return `${file}: ${where}expected ${expected}, found ${describe(found)}${point}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** `vms[0].vcpus` */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join("");
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
