// The stored plan is parsed, not cast: a plan as planRollout writes it (and an old one without
// labels and groups) reads back unchanged, keys it does not know included; anything else is an
// error that names the rollout and the field.
import { describe, expect, it } from "vitest";
import { AppError } from "@/server/errors";
import { parseRolloutPlan } from "./plan-schema";
import type { RolloutPlan } from "./types";

const plan: RolloutPlan = {
  action: "update",
  app: "web",
  version: "2.0",
  policyVersion: 3,
  waves: [1],
  failureThreshold: 0,
  parallelism: 10,
  hosts: [
    {
      hostId: "a",
      name: "alpha",
      environment: "prod",
      labels: { tier: "front" },
      groups: ["eu"],
      wave: 0,
      action: "update",
      from: "1.0",
      to: "2.0",
      stream: "delta",
      parent: "1.0",
      bytes: 10,
      diskNeeded: 20,
      artifact: {
        releaseId: "r2",
        kind: "delta",
        parent: "1.0",
        digest: "d".repeat(64),
        bytes: 10,
        encoding: "keel-delta-1",
      },
    },
  ],
  totals: { hosts: 1, install: 0, update: 1, rollback: 0, nothing: 0, bytes: 10, diskNeeded: 20 },
  rootCommands: { commands: ["health check"], hosts: 1 },
};

describe("parseRolloutPlan", () => {
  it("reads a stored plan back as it was, unknown keys included", () => {
    const stored = JSON.parse(JSON.stringify({ ...plan, addedLater: { x: 1 } })) as unknown;
    expect(parseRolloutPlan(stored, 7)).toEqual(stored);
  });

  it("accepts a plan from before labels and groups were recorded (the readers report that)", () => {
    const { labels: _l, groups: _g, artifact: _a, ...old } = plan.hosts[0]!;
    const p = parseRolloutPlan({ ...plan, hosts: [old], rootCommands: undefined }, 7);
    expect(p.hosts[0]!.groups).toBeUndefined();
  });

  it("reads a plan whose root commands include an activation hook (root-hooks.ts adds it)", () => {
    const withHook = { ...plan, rootCommands: { commands: ["health check", "activation hook"], hosts: 1 } };
    expect(parseRolloutPlan(withHook, 9).rootCommands).toEqual(withHook.rootCommands);
  });

  it("refuses what is not a plan, naming the rollout and the field", () => {
    const bad = { ...plan, hosts: [{ ...plan.hosts[0]!, action: "explode" }] };
    expect(() => parseRolloutPlan(bad, 7)).toThrow(AppError);
    expect(() => parseRolloutPlan(bad, 7)).toThrow(/rollout 7 .*hosts\.0\.action/);
    expect(() => parseRolloutPlan(null, 8)).toThrow(/rollout 8 is not a valid plan/);
  });
});
