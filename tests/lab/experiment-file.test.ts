/*
 * Experiment files: a sweep expands to the right points with the right
 * values substituted, and every mistake is one line naming the file, the
 * place in it, what was expected and what was found.
 */

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadExperiment, parseExperiment } from "../../src/lab/experiment-file.ts";
import { experimentJsonSchema } from "../../src/lab/experiment-schema.ts";
import { expandSweep } from "../../src/lab/sweep.ts";

const VM = `
name: t
vms:
  - name: vm0
    kernel: guests/bin/kernel-mini.elf
`;

function errorOf(text: string, file = "x.yaml"): string {
  try {
    parseExperiment(file, text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("no error");
}

describe("sweeps", () => {
  it("expand to the cartesian product, the first parameter outermost", () => {
    expect(expandSweep({ a: [1, 2], b: ["x", "y", "z"] })).toEqual([
      { a: 1, b: "x" }, { a: 1, b: "y" }, { a: 1, b: "z" },
      { a: 2, b: "x" }, { a: 2, b: "y" }, { a: 2, b: "z" },
    ]);
    expect(expandSweep({})).toEqual([{}]);
  });

  it("substitute each point's values: a whole ${name} keeps its type, inside text it is spliced", () => {
    const exp = parseExperiment(
      "s.yaml",
      `${VM}    vcpus: \${vcpus}
    handler: \${handler}
    append: "iters=1/\${scale} on \${handler}"
sweep:
  vcpus: [1, 2, 4]
  handler: [main, vcpu]
  scale: [10]
`,
    );
    expect(exp.paramNames).toEqual(["vcpus", "handler", "scale"]);
    expect(exp.points).toHaveLength(6);
    expect(exp.points.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5]);
    const p3 = exp.points[3]!;
    expect(p3.params).toEqual({ vcpus: 2, handler: "vcpu", scale: 10 });
    expect(p3.experiment.vms[0]).toMatchObject({ vcpus: 2, handler: "vcpu", append: "iters=1/10 on vcpu", wait: "poll", virt: "trap" });
  });

  it("move settings together with mapping values, whose own text may name other parameters", () => {
    const exp = parseExperiment(
      "m.yaml",
      `${VM}    virt: \${mode.virt}
    append: \${mode.append}
sweep:
  mode:
    - { name: native, virt: none, append: "n \${size}" }
    - { name: trap, virt: trap, append: "t \${size}" }
  size: [64, 1514]
`,
    );
    expect(exp.points.map((p) => [p.params.mode, p.params.size, p.experiment.vms[0]!.virt, p.experiment.vms[0]!.append])).toEqual([
      ["native", 64, "none", "n 64"],
      ["native", 1514, "none", "n 1514"],
      ["trap", 64, "trap", "t 64"],
      ["trap", 1514, "trap", "t 1514"],
    ]);
  });

  it("read JSON as well as YAML, with the defaults filled in", () => {
    const dir = mkdtempSync(join(tmpdir(), "popek-expfile-"));
    const file = join(dir, "e.json");
    writeFileSync(file, JSON.stringify({ name: "j", vms: [{ name: "a", image: "guests/bin/hello.elf", virt: "none" }] }));
    const exp = loadExperiment(file);
    expect(exp.points).toHaveLength(1);
    expect(exp.points[0]!.experiment).toMatchObject({ until: "exit", timeout: 120, repetitions: 1, links: [], endpoints: [] });
  });
});

describe("experiment file errors name the file, the place, what was expected and what was found", () => {
  it("a value of the wrong type", () => {
    expect(errorOf(`${VM}    vcpus: two\n`)).toBe('x.yaml: vms[0].vcpus: expected number, found "two"');
  });

  it("a value out of range, with the sweep point that made it", () => {
    expect(errorOf(`${VM}    vcpus: \${n}\nsweep:\n  n: [1, 9]\n`)).toBe("x.yaml: vms[0].vcpus: expected number to be <=8, found 9 (point n=9)");
  });

  it("a word that is not one of the choices", () => {
    expect(errorOf(`${VM}    wait: sleep\n`)).toBe('x.yaml: vms[0].wait: expected one of "spin"|"block"|"poll", found "sleep"');
  });

  it("pin: true or a CPU list, and only for the hypervisor's VMs", () => {
    expect(parseExperiment("x.yaml", `${VM}    pin: "0,1"\n`).points[0]!.experiment.vms[0]!.pin).toBe("0,1");
    expect(parseExperiment("x.yaml", `${VM}    pin: true\n`).points[0]!.experiment.vms[0]!.pin).toBe(true);
    expect(errorOf(`${VM}    pin: "0-1"\n`)).toMatch(/^x\.yaml: vms\[0\]\.pin: /);
    expect(errorOf(`${VM}    virt: none\n    pin: true\n`)).toMatch(/^x\.yaml: vms\[0\]: .*pin places the hypervisor's threads/);
  });

  it("an unknown key", () => {
    expect(errorOf(`${VM}    cpus: 2\n`)).toBe('x.yaml: vms[0]: expected only known keys, found "cpus"');
  });

  it("a missing key", () => {
    expect(errorOf("name: t\n")).toBe("x.yaml: vms: expected array, found nothing");
  });

  it("a ${name} no sweep declares", () => {
    expect(errorOf(`${VM}    wait: \${policy}\n`)).toBe("x.yaml: vms[0].wait: expected a sweep parameter (none declared), found ${policy} (point (no sweep))");
  });

  it("a sweep parameter nothing uses", () => {
    expect(errorOf(`${VM}sweep:\n  vcpus: [1, 2]\n`)).toBe("x.yaml: sweep.vcpus: expected ${vcpus} somewhere in the file, found it unused");
  });

  it("an empty sweep list", () => {
    expect(errorOf(`${VM}sweep:\n  vcpus: []\n`)).toBe("x.yaml: sweep.vcpus: expected a non-empty list of values, found []");
  });

  it("a link or endpoint naming no VM", () => {
    expect(errorOf(`${VM}endpoints:\n  - { kind: sink, nic: vm9.n0 }\n`)).toBe('x.yaml: endpoints[0].nic: expected a NIC of one of the VMs (vm0), found "vm9.n0"');
    expect(errorOf(`${VM}links:\n  - [vm0.n0, vm1.n0]\n`)).toBe('x.yaml: links[0][1]: expected a NIC of one of the VMs (vm0), found "vm1.n0"');
  });

  it("a pattern that is not a regular expression", () => {
    expect(errorOf(`${VM}metrics:\n  patterns:\n    x: "(unclosed"\n`)).toBe('x.yaml: metrics.patterns.x: expected a valid regular expression, found "(unclosed"');
  });

  it("text that is not YAML, and a file that is not there", () => {
    expect(errorOf("name: [unclosed\n")).toMatch(/^x\.yaml: not YAML or JSON: /);
    expect(errorOf("- just\n- a list\n")).toBe('x.yaml: expected a mapping (name:, vms:, ...), found ["just","a list"]');
    expect(() => loadExperiment("/nonexistent/e.yaml")).toThrow("/nonexistent/e.yaml: cannot read (ENOENT)");
  });
});

describe("the format's JSON Schema", () => {
  it("documents every top-level key", () => {
    const schema = experimentJsonSchema() as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties).sort()).toEqual(
      ["description", "endpoints", "links", "metrics", "name", "repetitions", "sweep", "timeout", "trace", "until", "vms"].sort(),
    );
  });
});
