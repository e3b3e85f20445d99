import { describe, expect, it } from "vitest";
import { describeChanges, factChanges, hostFactChanges } from "./decision-facts";
import type { PlanHost, RolloutPlan } from "./types";

const host = (over: Partial<PlanHost> = {}): PlanHost => ({
  hostId: "h1",
  name: "web-3",
  environment: "prod",
  labels: { tier: "a" },
  groups: ["payments"],
  wave: 0,
  action: "update",
  from: "1.0",
  to: "1.1",
  stream: "delta",
  parent: "1.0",
  bytes: 10,
  diskNeeded: 10,
  ...over,
});
const same = { environment: "prod", labels: { tier: "a" }, groups: ["payments"] };

describe("what changed since the plan", () => {
  it("nothing, when the live facts are the plan's (label order does not matter)", () => {
    expect(
      hostFactChanges(host({ labels: { b: "2", a: "1" } }), { ...same, labels: { a: "1", b: "2" } }),
    ).toEqual([]);
  });
  it("names the host and each change", () => {
    expect(
      hostFactChanges(host(), { environment: "dev", labels: { tier: "b", x: "y" }, groups: ["web"] }),
    ).toEqual([
      "host web-3 moved from prod to dev",
      "host web-3's labels changed from tier=a to tier=b, x=y",
      "host web-3 joined group web",
      "host web-3 left group payments",
    ]);
    expect(hostFactChanges(host({ environment: null }), same)).toEqual([
      "host web-3 moved from no environment to prod",
    ]);
    expect(hostFactChanges(host(), undefined)).toEqual(["host web-3 is no longer enrolled"]);
  });
  it("a plan made before plans recorded labels and groups counts as changed", () => {
    const old = { ...host(), labels: undefined, groups: undefined } as unknown as PlanHost;
    expect(hostFactChanges(old, same)).toEqual([
      "host web-3: the plan predates recording labels and groups with it",
    ]);
  });
  it("only the hosts the plan changes count; a long list is cut to three and counted", () => {
    const plan = {
      hosts: [host({ hostId: "a", name: "a" }), host({ hostId: "b", name: "b", action: "nothing" })],
    } as RolloutPlan;
    expect(factChanges(plan, new Map([["a", same]]))).toEqual([]);
    expect(describeChanges(["one", "two", "three", "four", "five"], "after approval")).toBe(
      "one after approval; two after approval; three after approval; and 2 more change(s)",
    );
  });
});
