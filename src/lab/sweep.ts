/*
 * Sweeps: `sweep: {vcpus: [1, 2], handler: [main, vcpu]}` makes one point
 * per combination (the cartesian product, the first parameter outermost),
 * and `${name}` anywhere in the file takes the point's value. A value that
 * is exactly `${name}` becomes the parameter itself (a number stays a
 * number); inside a longer string it is spliced in as text.
 */

export type ParamValue = string | number | boolean;
export type Params = Readonly<Record<string, ParamValue>>;

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const WHOLE = /^\$\{([^}]*)\}$/;

/** Every combination of the sweep's values, first parameter outermost; one empty point without a sweep. */
export function expandSweep(sweep: Readonly<Record<string, readonly ParamValue[]>>): Params[] {
  let points: Record<string, ParamValue>[] = [{}];
  for (const [name, values] of Object.entries(sweep)) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
  }
  return points;
}

/** A `${name}` naming no parameter, with where it was found. */
export class UnknownParameter extends Error {
  constructor(
    readonly path: readonly (string | number)[],
    readonly param: string,
  ) {
    super(`\${${param}} names no sweep parameter`);
  }
}

/** `value` with the point's parameters substituted; `used` collects the names it met. */
export function substitute(value: unknown, params: Params, used: Set<string>, path: (string | number)[] = []): unknown {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value);
    if (whole !== null) return lookup(whole[1]!, params, used, path);
    return value.replace(PLACEHOLDER, (_, name: string) => String(lookup(name, params, used, path)));
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, params, used, [...path, i]));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, params, used, [...path, k])]));
  }
  return value;
}

function lookup(name: string, params: Params, used: Set<string>, path: readonly (string | number)[]): ParamValue {
  const v = params[name];
  if (v === undefined) throw new UnknownParameter(path, name);
  used.add(name);
  return v;
}

/** A point's parameters as one short label: `vcpus=2 handler=main`. */
export function pointLabel(params: Params): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  return parts.length === 0 ? "(no sweep)" : parts.join(" ");
}
