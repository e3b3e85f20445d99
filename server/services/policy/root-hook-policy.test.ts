// context.rootHook (decision 0022): the example of docs/policy.md — "root hooks in prod need an
// extra approver" — parses against the schema and tells a root hook from an unprivileged one.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { DEFAULT_POLICY } from "./default-policy";
import { evaluatePolicy } from "./evaluate-policy";
import { parsePolicy } from "./parse-policy";
import type { PolicyRequest } from "./types";

const example = /```cedar\n(@id\("prod-root-hooks-extra-approver"\)[\s\S]*?)```/.exec(
  readFileSync("docs/policy.md", "utf8"),
)![1]!;
const doc = { ...DEFAULT_POLICY, cedar: DEFAULT_POLICY.cedar + "\n" + example };
const prod = Array.from({ length: 20 }, (_, i) => ({
  name: `prod-${i}`,
  environment: "prod",
  groups: [],
  labels: {},
}));
const req = (rootHook: boolean | undefined): PolicyRequest => ({
  actor: { id: "op", roles: ["operator"] },
  action: "update",
  hosts: prod,
  waves: [1, 19],
  at: new Date("2026-11-26T23:00:00Z"),
  rootHook,
  runsAsRoot: rootHook,
});

describe("context.rootHook", () => {
  it("the docs' example is a valid policy", () => expect(parsePolicy(doc).ok).toBe(true));

  it("asks a third approver only when a hook runs as root", () => {
    expect(evaluatePolicy(doc, req(true))).toMatchObject({ effect: "needs_approval", approvals: 3 });
    expect(evaluatePolicy(doc, req(true)).reasons).toContain(
      "a release whose activation hook runs as root needs a third approver in prod",
    );
    expect(evaluatePolicy(doc, req(false))).toMatchObject({ effect: "needs_approval", approvals: 2 });
    expect(evaluatePolicy(doc, req(undefined))).toMatchObject({ effect: "needs_approval", approvals: 2 });
  });

  it("a root health check alone is not a root hook", () => {
    const strict = {
      ...DEFAULT_POLICY,
      cedar:
        DEFAULT_POLICY.cedar +
        `\n@id("no-root-hooks") @reason("no root hooks") forbid (principal, action, resource) when { context.rootHook };`,
    };
    const dev = [{ name: "d1", environment: "dev", groups: [], labels: {} }];
    expect(evaluatePolicy(strict, { ...req(true), hosts: dev, waves: [1] })).toMatchObject({
      effect: "deny",
      reasons: ["no root hooks"],
    });
    expect(evaluatePolicy(strict, { ...req(false), runsAsRoot: true, hosts: dev, waves: [1] }).effect).toBe(
      "allow",
    );
  });
});
