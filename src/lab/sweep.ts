/*
 * Sweeps: `sweep: {vcpus: [1, 2], handler: [main, vcpu]}` makes one point
 * per combination (the cartesian product, the first parameter outermost),
 * and `${name}` anywhere in the file takes the point's value. A value that
 * is exactly `${name}` becomes the parameter itself (a number stays a
 * number); inside a longer string it is spliced in as text.
 *
 * A value may also be a mapping, to move several settings together rather
 * than in a product: `mode: [{name: native, virt: none}, {name: trap, virt:
 * trap}]`, used as `${mode.virt}`; results show it by its `name`.
 */

type Scalar = string | number | boolean;
export type ParamValue = Scalar | Readonly<Record<string, Scalar>>;
/** A point's parameters as results show them: one scalar each. */
export type Params = Readonly<Record<string, Scalar>>;
/** A point's parameters as substitution sees them. */
export type Bindings = Readonly<Record<string, ParamValue>>;

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const WHOLE = /^\$\{([^}]*)\}$/;

/** Every combination of the sweep's values, first parameter outermost; one empty point without a sweep. */
export function expandSweep(sweep: Readonly<Record<string, readonly ParamValue[]>>): Bindings[] {
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

/** How results show a binding: a mapping by its name (or its fields). */
export function paramsOf(b: Bindings): Params {
  return Object.fromEntries(
    Object.entries(b).map(([k, v]) => [k, typeof v !== "object" ? v : typeof v.name === "string" ? v.name : Object.entries(v).map(([f, x]) => `${f}:${x}`).join("/")]),
  );
}

/** `value` with the point's parameters substituted; `used` collects the names it met. */
export function substitute(value: unknown, params: Bindings, used: Set<string>, path: (string | number)[] = [], depth = 0): unknown {
  if (typeof value === "string") {
    // A parameter's value may name another parameter (`append: "tx ${size}"` in a mapping): substituted
    // again, a few levels deep at most, so two values naming each other end as an error, not a hang.
    const again = (v: string | number | boolean) => (typeof v === "string" && v.includes("${") ? substituteText(v, params, used, path, depth + 1) : v);
    const whole = WHOLE.exec(value);
    if (whole !== null) return again(lookup(whole[1]!, params, used, path));
    return value.replace(PLACEHOLDER, (_, name: string) => String(again(lookup(name, params, used, path))));
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, params, used, [...path, i], depth));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, params, used, [...path, k], depth)]));
  }
  return value;
}

const MAX_DEPTH = 4;

function substituteText(text: string, params: Bindings, used: Set<string>, path: (string | number)[], depth: number): string | number | boolean {
  if (depth > MAX_DEPTH) throw new UnknownParameter(path, `${text}: parameters naming each other more than ${MAX_DEPTH} deep`);
  return substitute(text, params, used, path, depth) as string | number | boolean;
}

function lookup(ref: string, params: Bindings, used: Set<string>, path: readonly (string | number)[]): Scalar {
  const [name, field, ...rest] = ref.split(".");
  const v = params[name!];
  const found = v === undefined || rest.length > 0 ? undefined : field === undefined ? v : typeof v === "object" ? v[field] : undefined;
  if (found === undefined || typeof found === "object") throw new UnknownParameter(path, ref);
  used.add(name!);
  return found;
}

/** A point's parameters as one short label: `vcpus=2 handler=main`. */
export function pointLabel(params: Params): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  return parts.length === 0 ? "(no sweep)" : parts.join(" ");
}
