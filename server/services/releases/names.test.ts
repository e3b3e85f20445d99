// One name rule on the server: every schema that takes an app name or a version judges it exactly
// as the agent does (agent/protocol/names.ts) — `..`, `/` and the store's own `current`/`previous`
// are refused wherever a name comes in.
import { describe, expect, it } from "vitest";
import { appNameProblem, versionProblem } from "@/agent/protocol";
import { ZHostFilter } from "@/server/services/inventory/types";
import { ZRolloutSpec } from "@/server/services/rollouts/types";
import { ZReleaseRef } from "@/server/trpc/routers/releases/schemas";
import { ZAppName, ZVersion, assertAppName, assertVersion } from "./names";

const versions = [
  "1.0",
  "1.0~rc1",
  "2.0+build.7",
  "1..2",
  "current",
  "previous",
  "a/b",
  "-1",
  "",
  "x".repeat(65),
  "Current",
];
const apps = ["web", "web.api", "my_app-2", "..", "a..b", "current", "previous", "Web", "a/b", ".hidden", ""];

describe("app and version names", () => {
  it("refuses .., / and the reserved versions current and previous, with the agent's reason", () => {
    for (const v of ["1..2", "current", "previous", "a/b"]) {
      const r = ZVersion.safeParse(v);
      expect(r.success, v).toBe(false);
      expect(r.error?.issues[0]?.message).toBe(versionProblem(v));
    }
    for (const a of ["..", "a..b", "a/b"]) {
      const r = ZAppName.safeParse(a);
      expect(r.success, a).toBe(false);
      expect(r.error?.issues[0]?.message).toBe(appNameProblem(a));
    }
    expect(() => assertVersion("current")).toThrow(/reserved/);
    expect(() => assertAppName("a..b")).toThrow(/\.\./);
  });

  it("every server schema agrees with the agent on every name", () => {
    for (const v of versions) {
      const agent = versionProblem(v) === null;
      expect(ZVersion.safeParse(v).success, v).toBe(agent);
      expect(ZHostFilter.safeParse({ app: "web", version: v }).success, `host filter ${v}`).toBe(agent);
      expect(
        ZRolloutSpec.safeParse({ action: "update", app: "web", version: v, targets: {} }).success,
        `rollout ${v}`,
      ).toBe(agent);
      expect(ZReleaseRef.safeParse({ app: "web", version: v }).success, `release ${v}`).toBe(agent);
    }
    for (const a of apps) {
      const agent = appNameProblem(a) === null;
      expect(ZAppName.safeParse(a).success, a).toBe(agent);
      expect(ZHostFilter.safeParse({ app: a }).success, `host filter ${a}`).toBe(agent);
      expect(
        ZRolloutSpec.safeParse({ action: "update", app: a, version: "1.0", targets: {} }).success,
        `rollout ${a}`,
      ).toBe(agent);
      expect(ZReleaseRef.safeParse({ app: a, version: "1.0" }).success, `release ${a}`).toBe(agent);
    }
  });
});
