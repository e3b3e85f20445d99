// context.kind (decision 0023): a policy can tell a runtime's rollout from an app's.
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "./default-policy";
import { evaluatePolicy } from "./evaluate-policy";
import { parsePolicy } from "./parse-policy";
import type { PolicyRequest } from "./types";

const strict = {
  ...DEFAULT_POLICY,
  cedar:
    DEFAULT_POLICY.cedar +
    `\n@id("runtimes-approved") @reason("runtimes are shared by apps: every runtime change needs an approver")
@approvals("1") @approver_role("approver")
permit (principal, action in [Keel::Action::"install", Keel::Action::"update", Keel::Action::"rollback"], resource)
when { principal.roles.contains("operator") && context.kind == "runtime" };`,
};
const req = (releaseKind: PolicyRequest["releaseKind"]): PolicyRequest => ({
  actor: { id: "op", roles: ["operator"] },
  action: "update",
  hosts: [{ name: "d1", environment: "dev", groups: [], labels: {} }],
  at: new Date("2026-11-26T12:00:00Z"),
  releaseKind,
});

describe("context.kind", () => {
  it("is in the schema", () => expect(parsePolicy(strict).ok).toBe(true));

  it("tells a runtime from an app", () => {
    expect(evaluatePolicy(strict, req("runtime"))).toMatchObject({
      effect: "needs_approval",
      approvals: 1,
      reasons: ["runtimes are shared by apps: every runtime change needs an approver"],
    });
    expect(evaluatePolicy(strict, req("app")).effect).toBe("allow");
  });

  it("sees the runtimes an app's rollout installs with it (context.runtimes)", () => {
    const rule = {
      ...DEFAULT_POLICY,
      cedar:
        DEFAULT_POLICY.cedar +
        `\n@id("no-node") @reason("node changes go through the platform team") forbid (principal, action, resource) when { context.runtimes.contains("node") };`,
    };
    expect(evaluatePolicy(rule, { ...req("app"), runtimes: ["node"] })).toMatchObject({
      effect: "deny",
      reasons: ["node changes go through the platform team"],
    });
    expect(evaluatePolicy(rule, req("app")).effect).toBe("allow");
  });
});
