// The health check a build declares: defaults, and the messages people get for what is wrong.
import { describe, expect, it } from "vitest";
import { healthCheckFromFlags } from "@/server/cli/commands/release";
import { describeHealthCheck, parseDuration, parseHealthCheck, parseHealthCheckParam } from "./health-check";

const refused = (v: unknown) => {
  try {
    parseHealthCheck(v);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(v)}`);
};

describe("parseHealthCheck", () => {
  it("fills in the timeout (30 s) and the expected status (200)", () => {
    expect(parseHealthCheck({ type: "exec", argv: ["/usr/bin/test", "-f", "/srv/ok"] })).toEqual({
      type: "exec",
      argv: ["/usr/bin/test", "-f", "/srv/ok"],
      timeoutMs: 30_000,
    });
    expect(parseHealthCheck({ type: "http", url: "http://127.0.0.1:8080/health", timeoutMs: 500 })).toEqual({
      type: "http",
      url: "http://127.0.0.1:8080/health",
      expectStatus: 200,
      timeoutMs: 500,
    });
  });

  it("keeps arguments exactly as given: spaces, quotes and $ inside an argument are not a shell's business", () => {
    const argv = ["/bin/grep", "-q", "ready: $yes 'really'", "/srv/state"];
    expect(parseHealthCheck({ type: "exec", argv })).toMatchObject({ argv });
  });

  it("refuses, saying what is wrong", () => {
    expect(refused({ type: "exec", argv: [] })).toBe(
      "health check: the command needs at least the program to run",
    );
    expect(refused({ type: "exec", argv: ["curl -f http://localhost/health"] })).toMatch(
      /contains white space: give the command as separate arguments \(argv\), not as a shell string/,
    );
    expect(refused({ type: "exec", argv: ["./check.sh"] })).toMatch(/must be an absolute path/);
    expect(refused({ type: "exec", argv: ["/bin/true", ""] })).toBe(
      "health check: argument 1 of the command is empty",
    );
    expect(refused({ type: "exec", argv: "/bin/true" })).toMatch(/^health check: argv must be an array/);
    expect(refused({ type: "exec", argv: ["/bin/true"], timeoutMs: 0 })).toMatch(
      /timeout must be between 1 ms and 60 minutes/,
    );
    expect(refused({ type: "exec", argv: ["/bin/true"], timeoutMs: 3_600_001 })).toMatch(
      /timeout must be between/,
    );
    expect(refused({ type: "exec", argv: ["/bin/true"], shell: true })).toBe(
      "health check: unknown field shell",
    );
    expect(refused({ type: "http", url: "ftp://host/x" })).toMatch(/must be http:\/\/ or https:\/\//);
    expect(refused({ type: "http", url: "not a url" })).toMatch(/is not a URL/);
    expect(refused({ type: "http", url: "http://h/", expectStatus: 99 })).toMatch(
      /expected status must be an HTTP status/,
    );
    expect(refused({ type: "tcp", port: 80 })).toMatch(/type must be exec \(a command\) or http \(a URL\)/);
    expect(refused("curl http://x")).toMatch(/must be an object/);
  });

  it("reads the upload route's JSON parameter", () => {
    expect(parseHealthCheckParam(null)).toBeUndefined();
    expect(parseHealthCheckParam('{"type":"exec","argv":["/bin/true"]}')).toEqual({
      type: "exec",
      argv: ["/bin/true"],
      timeoutMs: 30_000,
    });
    expect(() => parseHealthCheckParam("{")).toThrow(/must be JSON/);
    expect(() => parseHealthCheckParam(JSON.stringify({ type: "exec", argv: ["/x".repeat(5000)] }))).toThrow(
      /longer than 8192/,
    );
  });

  it("describes a check in one line", () => {
    expect(describeHealthCheck({ type: "exec", argv: ["/bin/true"], timeoutMs: 5000 })).toBe(
      'runs ["/bin/true"] as the unprivileged user keel-check (timeout 5 s)',
    );
    expect(describeHealthCheck({ type: "http", url: "http://h/", expectStatus: 204, timeoutMs: 250 })).toBe(
      "GET http://h/ expects 204 (timeout 250 ms)",
    );
  });

  it("parses durations", () => {
    expect([parseDuration("30s"), parseDuration("1500ms"), parseDuration("2m"), parseDuration("45")]).toEqual(
      [30_000, 1500, 120_000, 45_000],
    );
    expect(parseDuration("soon")).toBeNull();
  });
});

describe("keel release build --health-* flags", () => {
  it("--health-cmd takes the argv as a JSON array; --health-timeout a duration", () => {
    expect(healthCheckFromFlags({ cmd: '["/usr/bin/test","-f","/srv/ok"]', timeout: "5s" })).toEqual({
      type: "exec",
      argv: ["/usr/bin/test", "-f", "/srv/ok"],
      timeoutMs: 5000,
    });
    expect(healthCheckFromFlags({})).toBeUndefined();
  });

  it("--health-url with --health-status", () => {
    expect(healthCheckFromFlags({ url: "http://127.0.0.1:8080/health", status: "204" })).toEqual({
      type: "http",
      url: "http://127.0.0.1:8080/health",
      expectStatus: 204,
      timeoutMs: 30_000,
    });
  });

  it("refuses shell strings, mixed and stray flags with clear messages", () => {
    expect(() => healthCheckFromFlags({ cmd: "curl -f http://localhost/health" })).toThrow(
      /--health-cmd takes the command as a JSON array of arguments \(no shell\)/,
    );
    expect(() => healthCheckFromFlags({ cmd: '["curl -f http://localhost/"]' })).toThrow(
      /not as a shell string/,
    );
    expect(() => healthCheckFromFlags({ cmd: '["/bin/true"]', url: "http://h/" })).toThrow(
      /either --health-cmd or --health-url/,
    );
    expect(() => healthCheckFromFlags({ cmd: '["/bin/true"]', status: "200" })).toThrow(
      /--health-status goes with --health-url/,
    );
    expect(() => healthCheckFromFlags({ status: "200" })).toThrow(/--health-status goes with --health-url/);
    expect(() => healthCheckFromFlags({ timeout: "5s" })).toThrow(/--health-timeout goes with/);
    expect(() => healthCheckFromFlags({ url: "http://h/", status: "ok" })).toThrow(
      /give an HTTP status such as 200/,
    );
    expect(() => healthCheckFromFlags({ url: "http://h/", timeout: "soon" })).toThrow(
      /give a duration such as 30s/,
    );
    expect(() => healthCheckFromFlags({ url: "http://h/", timeout: "2h" })).toThrow(/give a duration/);
    expect(() => healthCheckFromFlags({ url: "http://h/", timeout: "61m" })).toThrow(
      /timeout must be between 1 ms and 60 minutes/,
    );
  });
});

describe("who the health check runs as", () => {
  const exec = { type: "exec", argv: ["/usr/bin/test", "-f", "/srv/ok"], timeoutMs: 1000 };
  it("is the unprivileged user unless the build says root; unprivileged is never written out", () => {
    expect(parseHealthCheck(exec)).toEqual(exec);
    expect(parseHealthCheck({ ...exec, runAs: "unprivileged" })).toEqual(exec);
    expect(parseHealthCheck({ ...exec, runAs: "root" })).toEqual({ ...exec, runAs: "root" });
    expect(describeHealthCheck(parseHealthCheck(exec))).toBe(
      'runs ["/usr/bin/test","-f","/srv/ok"] as the unprivileged user keel-check (timeout 1 s)',
    );
    expect(describeHealthCheck(parseHealthCheck({ ...exec, runAs: "root" }))).toBe(
      'runs ["/usr/bin/test","-f","/srv/ok"] AS ROOT (timeout 1 s)',
    );
  });

  it("refuses other users, and root for an HTTP check", () => {
    expect(refused({ ...exec, runAs: "admin" })).toBe(
      'health check: runAs must be "root" or "unprivileged" (the default)',
    );
    expect(refused({ type: "http", url: "http://h/", runAs: "root" })).toMatch(
      /runAs is for a command \(exec\)/,
    );
  });

  it("--health-check-as-root signs the command as root, and only goes with --health-cmd", () => {
    expect(healthCheckFromFlags({ cmd: '["/usr/bin/test","-f","/srv/ok"]', asRoot: true })).toEqual({
      ...exec,
      timeoutMs: 30_000,
      runAs: "root",
    });
    expect(healthCheckFromFlags({ cmd: '["/usr/bin/test","-f","/srv/ok"]', asRoot: false })).toEqual({
      ...exec,
      timeoutMs: 30_000,
    });
    expect(() => healthCheckFromFlags({ url: "http://h/", asRoot: true })).toThrow(
      /--health-check-as-root goes with --health-cmd/,
    );
    expect(() => healthCheckFromFlags({ asRoot: true })).toThrow(
      /--health-check-as-root goes with --health-cmd/,
    );
  });
});
