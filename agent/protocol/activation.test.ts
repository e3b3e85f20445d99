import { describe, expect, it } from "vitest";
import {
  exportPath,
  hookArgv,
  hookRunsAsRoot,
  validateActivation,
  validateExports,
  validateOnActivate,
} from "./activation";

describe("onActivate", () => {
  it("keeps argv, timeout and runAs as signed; root only when it says so", () => {
    expect(validateOnActivate({ argv: ["bin/restart"], timeoutMs: 1000 })).toEqual({
      argv: ["bin/restart"],
      timeoutMs: 1000,
    });
    expect(hookRunsAsRoot(validateOnActivate({ argv: ["x"], timeoutMs: 1, runAs: "unprivileged" }))).toBe(
      false,
    );
    expect(hookRunsAsRoot(validateOnActivate({ argv: ["x"], timeoutMs: 1, runAs: "root" }))).toBe(true);
    expect(() => validateOnActivate({ argv: ["x"], timeoutMs: 1, runAs: "admin" })).toThrow(/runAs/);
    expect(() => validateOnActivate({ argv: [], timeoutMs: 1 })).toThrow(/must not be empty/);
    expect(() => validateOnActivate({ argv: ["x"], timeoutMs: 1, env: {} })).toThrow(/env/);
  });

  it("runs no shell unless asked, and then exactly one command string", () => {
    expect(hookArgv({ argv: ["systemctl", "restart", "a; rm -rf /"], timeoutMs: 1 })).toEqual([
      "systemctl",
      "restart",
      "a; rm -rf /",
    ]);
    expect(hookArgv(validateOnActivate({ argv: ["a && b"], timeoutMs: 1, shell: true }))).toEqual([
      "/bin/sh",
      "-c",
      "a && b",
    ]);
    expect(() => validateOnActivate({ argv: ["a", "b"], timeoutMs: 1, shell: true })).toThrow(/one string/);
  });
});

describe("exports", () => {
  it("accepts plain relative sources and absolute directories", () => {
    const e = validateExports([
      { from: "units/hello.service", dir: "/etc/systemd/system" },
      { from: "bin/hello", dir: "/usr/local/bin", name: "hi" },
    ]);
    expect(e.map(exportPath)).toEqual(["/etc/systemd/system/hello.service", "/usr/local/bin/hi"]);
  });

  it.each([
    [{ from: "../etc/passwd", dir: "/usr/local/bin" }, /must not contain "\.\."/],
    [{ from: "/etc/passwd", dir: "/usr/local/bin" }, /bad part/],
    [{ from: "a//b", dir: "/usr/local/bin" }, /bad part/],
    [{ from: "a", dir: "/usr/local/bin/../../etc" }, /must not contain "\.\."/],
    [{ from: "a", dir: "usr/local/bin" }, /absolute/],
    [{ from: "a", dir: "/usr/local/bin", name: "../x" }, /name/],
  ])("refuses %j", (x, why) => {
    expect(() => validateExports([x])).toThrow(why);
  });

  it("refuses two exports to one place and more than 16", () => {
    expect(() =>
      validateExports([
        { from: "a/x", dir: "/d" },
        { from: "b/x", dir: "/d" },
      ]),
    ).toThrow(/twice/);
    expect(() =>
      validateExports(Array.from({ length: 17 }, (_, i) => ({ from: `f${i}`, dir: "/d" }))),
    ).toThrow();
  });

  it("activation bundles both", () => {
    expect(validateActivation({ onActivate: { argv: ["x"], timeoutMs: 5 }, exports: [] })).toEqual({
      onActivate: { argv: ["x"], timeoutMs: 5 },
      exports: [],
    });
  });
});
