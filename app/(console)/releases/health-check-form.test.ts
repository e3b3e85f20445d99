// The build form's health check fields, and what the console makes of what they send.
import { describe, expect, it } from "vitest";
import { parseHealthCheck } from "@/server/services/releases/health-check";
import { healthCheckFromForm } from "./health-check-form";

const form = (fields: Record<string, string>) => ({ get: (k: string) => fields[k] ?? null });

describe("health check fields of the build form", () => {
  it("sends nothing when none is chosen", () => {
    expect(healthCheckFromForm(form({ "health-argv": "/bin/true" }), "none")).toBeNull();
  });

  it("takes the command one argument per line, exactly (spaces inside an argument stay)", () => {
    const sent = healthCheckFromForm(
      form({ "health-argv": "/usr/bin/grep\n-q\nready now\n/srv/state\n", "health-timeout": "2.5" }),
      "exec",
    );
    expect(sent).toEqual({
      type: "exec",
      argv: ["/usr/bin/grep", "-q", "ready now", "/srv/state"],
      timeoutMs: 2500,
    });
    expect(parseHealthCheck(sent)).toEqual(sent);
  });

  it("takes a URL and the expected status; the console fills in what is left out", () => {
    const sent = healthCheckFromForm(
      form({ "health-url": " http://127.0.0.1:8080/health ", "health-status": "204" }),
      "http",
    );
    expect(sent).toEqual({
      type: "http",
      url: "http://127.0.0.1:8080/health",
      expectStatus: 204,
      timeoutMs: undefined,
    });
    expect(parseHealthCheck(JSON.parse(JSON.stringify(sent)))).toEqual({
      type: "http",
      url: "http://127.0.0.1:8080/health",
      expectStatus: 204,
      timeoutMs: 30_000,
    });
  });

  it("says what is missing", () => {
    expect(healthCheckFromForm(form({ "health-argv": "\n\n" }), "exec")).toMatch(
      /Give the health check's command/,
    );
    expect(healthCheckFromForm(form({}), "http")).toMatch(/Give the URL/);
    expect(
      healthCheckFromForm(form({ "health-argv": "/bin/true", "health-timeout": "soon" }), "exec"),
    ).toMatch(/timeout must be a number of seconds/);
    // A shell string typed on one line reaches the console as one argument, which refuses it.
    const shell = healthCheckFromForm(form({ "health-argv": "curl -f http://localhost/health" }), "exec");
    expect(() => parseHealthCheck(shell)).toThrow(/not as a shell string/);
  });
});

describe("the build form's run-as-root box", () => {
  it("adds runAs root only when ticked; the console keeps it", () => {
    const ticked = healthCheckFromForm(
      form({ "health-argv": "/usr/bin/test\n-f\n/srv/ok", "health-as-root": "on" }),
      "exec",
    );
    expect(ticked).toEqual({
      type: "exec",
      argv: ["/usr/bin/test", "-f", "/srv/ok"],
      timeoutMs: undefined,
      runAs: "root",
    });
    expect(parseHealthCheck(JSON.parse(JSON.stringify(ticked)))).toMatchObject({ runAs: "root" });
    const plain = healthCheckFromForm(form({ "health-argv": "/usr/bin/test\n-f\n/srv/ok" }), "exec");
    expect(plain).not.toHaveProperty("runAs");
  });
});
