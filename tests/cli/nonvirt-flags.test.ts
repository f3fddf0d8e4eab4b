/*
 * --isa-variant and --nonvirt-fix on `popek run`: what each accepts, and a
 * clear ConfigError for combinations that mean nothing.
 */

import { describe, expect, it } from "vitest";
import { isaVariantFrom, nonvirtFixFrom, type RunFlags } from "../../src/cli/run-flags.ts";
import { ConfigError } from "../../src/errors.ts";

function flags(extra: Partial<RunFlags>): RunFlags {
  return { virt: "none", mem: "128M", clock: "real", wait: "poll", exitHandler: "main", mmu: "sv39", ...extra };
}

describe("--isa-variant and --nonvirt-fix", () => {
  it("default to the standard ISA and no fix", () => {
    expect(isaVariantFrom(flags({}))).toBe("standard");
    expect(nonvirtFixFrom(flags({}), "none")).toBe("none");
  });
  it("take nonvirt and scan together under --virt trap", () => {
    const f = flags({ isaVariant: "nonvirt", nonvirtFix: "scan" });
    expect(isaVariantFrom(f)).toBe("nonvirt");
    expect(nonvirtFixFrom(f, "trap")).toBe("scan");
  });
  it("refuse unknown words, naming the flag", () => {
    expect(() => isaVariantFrom(flags({ isaVariant: "x86" }))).toThrow(/--isa-variant: expected one of standard, nonvirt/);
    expect(() => nonvirtFixFrom(flags({ nonvirtFix: "bt" }), "trap")).toThrow(/--nonvirt-fix: expected one of none, scan/);
  });
  it("refuse a scan natively, or on the standard ISA", () => {
    expect(() => nonvirtFixFrom(flags({ isaVariant: "nonvirt", nonvirtFix: "scan" }), "none")).toThrow(ConfigError);
    expect(() => nonvirtFixFrom(flags({ nonvirtFix: "scan" }), "trap")).toThrow(/add --isa-variant nonvirt/);
  });
});
