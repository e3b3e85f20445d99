import { describe, expect, it } from "vitest";
import { activationFromForm } from "./activation-form";

const form = (v: Record<string, string>) => ({ get: (k: string) => v[k] ?? null });

describe("activationFromForm", () => {
  it("is nothing when the fields are empty", () => expect(activationFromForm(form({}))).toBeNull());
  it("takes one argument per line, unprivileged unless ticked", () => {
    expect(activationFromForm(form({ "hook-argv": "bin/restart\n--now\n" }))).toEqual({
      onActivate: { argv: ["bin/restart", "--now"], timeoutMs: 60_000 },
    });
    expect(activationFromForm(form({ "hook-argv": "x", "hook-as-root": "on", "hook-timeout": "5" }))).toEqual(
      { onActivate: { argv: ["x"], timeoutMs: 5000, runAs: "root" } },
    );
  });
  it("parses exports as JSON and says what is wrong", () => {
    expect(activationFromForm(form({ exports: '[{"from":"a","dir":"/usr/local/bin"}]' }))).toEqual({
      exports: [{ from: "a", dir: "/usr/local/bin" }],
    });
    expect(activationFromForm(form({ exports: "[{" }))).toMatch(/^Exports must be JSON/);
  });
});
