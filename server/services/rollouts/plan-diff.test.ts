import { describe, expect, it } from "vitest";
import { diffPlans } from "./plan-diff";
import type { PlanHost, RolloutPlan } from "./types";

const host = (name: string, patch: Partial<PlanHost> = {}): PlanHost => ({
  hostId: name,
  name,
  environment: "prod",
  labels: {},
  groups: [],
  wave: 0,
  action: "update",
  from: "1.0",
  to: "1.1",
  stream: "delta",
  parent: "1.0",
  bytes: 10,
  diskNeeded: 10,
  ...patch,
});
const plan = (hosts: PlanHost[], patch: Partial<RolloutPlan> = {}): RolloutPlan => ({
  action: "update",
  app: "web",
  version: "1.1",
  policyVersion: 1,
  waves: [hosts.length],
  failureThreshold: 0,
  parallelism: 5,
  hosts,
  totals: {
    hosts: hosts.length,
    install: 0,
    update: hosts.length,
    rollback: 0,
    nothing: 0,
    bytes: 0,
    diskNeeded: 0,
  },
  ...patch,
});

describe("diffPlans", () => {
  it("is empty for the same plan and names every difference otherwise", () => {
    const a = plan([host("a"), host("b")]);
    expect(diffPlans(a, a)).toEqual([]);
    const b = plan(
      [
        host("a", { stream: "full", bytes: 99, labels: { role: "web" } }),
        host("c", { action: "nothing", excluded: "unreachable", to: "1.1" }),
      ],
      {
        version: "1.2",
        rootCommands: { commands: ["health check"], hosts: 1 },
      },
    );
    expect(diffPlans(a, b)).toEqual([
      "version: 1.1 → 1.2",
      "commands as root: none → health check on 1 hosts",
      'a: stream delta → full, bytes 10 → 99, labels {} → {"role":"web"}',
      "c added: nothing to do (unreachable)",
      "b removed (was: update 1.0 → 1.1, delta stream, 10 bytes, wave 1)",
    ]);
  });
});
