import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "./default-policy";
import { evaluatePolicy, PolicyError } from "./evaluate-policy";
import { parsePolicy } from "./parse-policy";
import type { PolicyRequest, PolicyTargetHost } from "./types";

const host = (name: string, environment: string | null, groups: string[] = []): PolicyTargetHost => ({
  name,
  environment,
  groups,
  labels: {},
});
const operator = { id: "op", roles: ["operator" as const] };
const night = new Date("2026-11-26T23:00:00Z"); // inside the default prod window (22:00–06:00 UTC)
const noon = new Date("2026-11-26T12:00:00Z");
const prod = (n: number) => Array.from({ length: n }, (_, i) => host(`prod-${i}`, "prod"));
const ask = (over: Partial<PolicyRequest>) =>
  evaluatePolicy(DEFAULT_POLICY, {
    actor: operator,
    action: "update",
    hosts: [host("d1", "dev")],
    at: noon,
    ...over,
  });

describe("default policy", () => {
  it("lets an operator update dev at any time, with the reason", () => {
    const d = ask({});
    expect(d.effect).toBe("allow");
    expect(d.reasons[0]).toMatch(/operators and admins may/);
  });

  it("asks two approvers for a prod update with a canary wave inside the window", () => {
    const d = ask({ hosts: prod(20), waves: [1, 2, 7, 10], at: night });
    expect(d).toMatchObject({ effect: "needs_approval", approvals: 2, approverRole: "approver" });
    expect(d.reasons).toEqual(["changes to prod need two approvers"]);
  });

  it("refuses prod outside its window and names the closed window", () => {
    const d = ask({ hosts: prod(20), waves: [1, 19], at: noon });
    expect(d.effect).toBe("deny");
    expect(d.reasons.join(" ")).toMatch(/maintenance window \(closed now: prod-nights\)/);
  });

  it("refuses a prod rollout without a canary wave", () => {
    expect(ask({ hosts: prod(20), waves: [20], at: night }).effect).toBe("deny");
    expect(ask({ hosts: prod(20), waves: [5, 15], at: night }).effect).toBe("deny"); // 25% is no canary
    expect(ask({ hosts: prod(20), waves: [2, 18], at: night }).effect).toBe("needs_approval"); // 10%
  });

  it("treats a mixed dev+prod target as prod", () => {
    const d = ask({ hosts: [host("d1", "dev"), ...prod(1)], waves: [1, 1], at: night });
    expect(d.effect).toBe("needs_approval");
  });

  it("asks one approver when an operator rolls prod back, even outside the window", () => {
    const d = ask({ action: "rollback", hosts: prod(30), waves: [30], at: noon });
    expect(d).toMatchObject({ effect: "needs_approval", approvals: 1, approverRole: "approver" });
  });

  it("never lets auditors or approvers change software", () => {
    for (const roles of [["auditor"], ["approver"]] as const) {
      const d = ask({ actor: { id: "x", roles: [...roles] } });
      expect(d.effect).toBe("deny");
      expect(d.reasons[0]).toMatch(/no policy allows update/);
    }
  });

  it("keeps hosts, keys and users to admins, and policy edits need an approver", () => {
    expect(ask({ action: "enroll_host", actor: operator }).effect).toBe("deny");
    expect(ask({ action: "enroll_host", actor: { id: "a", roles: ["admin"] } }).effect).toBe("allow");
    expect(ask({ action: "edit_policy", actor: { id: "a", roles: ["admin"] } })).toMatchObject({
      effect: "needs_approval",
      approvals: 1,
    });
  });
});

describe("policy validation", () => {
  it("accepts the default policy", () => {
    expect(parsePolicy(DEFAULT_POLICY).ok).toBe(true);
  });

  it("reports syntax errors, unknown attributes and bad annotations in words", () => {
    const bad = (cedar: string) => {
      const r = parsePolicy({ cedar, windows: [] });
      return r.ok ? [] : r.errors.join("\n");
    };
    expect(bad("permit (principal, action, resource) when { ")).toMatch(/unexpected|expected/i);
    expect(
      bad('permit (principal, action == Keel::Action::"update", resource) when { context.nope };'),
    ).toMatch(/nope/);
    expect(bad('@approvals("two") @approver_role("approver") permit (principal, action, resource);')).toMatch(
      /@approvals must be a whole number/,
    );
    expect(bad('@approvals("1") @approver_role("boss") permit (principal, action, resource);')).toMatch(
      /@approver_role must be one of/,
    );
  });

  it("refuses to evaluate an invalid policy instead of guessing", () => {
    expect(() =>
      evaluatePolicy(
        { cedar: "permit (", windows: [] },
        { actor: operator, action: "update", hosts: [], at: noon },
      ),
    ).toThrow(PolicyError);
  });
});

describe("context.runsAsRoot", () => {
  // The example of docs/rollouts.md: a release whose health check runs as root needs a third
  // approver in prod (the strictest matching permit wins).
  const extra = `
@id("prod-root-checks-extra-approver")
@reason("a release whose health check runs as root needs a third approver in prod")
@approvals("3")
@approver_role("approver")
permit (principal, action in [Keel::Action::"install", Keel::Action::"update"], resource)
when { (principal.roles.contains("operator") || principal.roles.contains("admin")) && context.environments.contains("prod") && context.runsAsRoot };
`;
  const doc = { ...DEFAULT_POLICY, cedar: DEFAULT_POLICY.cedar + extra };
  const req = (runsAsRoot: boolean | undefined): PolicyRequest => ({
    actor: operator,
    action: "update",
    hosts: prod(20),
    waves: [1, 19],
    at: night,
    runsAsRoot,
  });

  it("is in the schema, so a policy may key on it", () => expect(parsePolicy(doc).ok).toBe(true));

  it("asks the extra approver only when the release's check runs as root", () => {
    expect(evaluatePolicy(doc, req(true))).toMatchObject({ effect: "needs_approval", approvals: 3 });
    expect(evaluatePolicy(doc, req(true)).reasons).toContain(
      "a release whose health check runs as root needs a third approver in prod",
    );
    expect(evaluatePolicy(doc, req(false))).toMatchObject({ effect: "needs_approval", approvals: 2 });
    expect(evaluatePolicy(doc, req(undefined))).toMatchObject({ effect: "needs_approval", approvals: 2 }); // absent = false
  });

  it("a forbid can key on it too", () => {
    const strict = {
      ...DEFAULT_POLICY,
      cedar:
        DEFAULT_POLICY.cedar +
        `\n@id("no-root") @reason("no root health checks") forbid (principal, action, resource) when { context.runsAsRoot };`,
    };
    expect(evaluatePolicy(strict, { ...req(true), hosts: [host("d1", "dev")], waves: [1] })).toMatchObject({
      effect: "deny",
      reasons: ["no root health checks"],
    });
    expect(evaluatePolicy(strict, { ...req(false), hosts: [host("d1", "dev")], waves: [1] }).effect).toBe(
      "allow",
    );
  });
});
