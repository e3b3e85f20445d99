// A plan leaves out the hosts the console cannot talk to — a host whose key changed always, a host
// unreachable at its last refresh unless the operator includes it — and marks them, so approvers do
// not approve work that cannot run. Real PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { seedHosts, seedRelease } from "@/prisma/seed/fleet";
import { planRollout } from "./plan-rollout";
import type { TRolloutSpec } from "./types";

let t: TestDatabase;
let db: PrismaClient;

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  const hosts = await seedHosts(db, 4, { prefix: "web", environment: "dev", app: "web", current: "1.0" });
  await seedRelease(db, "web", "1.1");
  await db.host.update({
    where: { id: hosts[1]!.id },
    data: { hostKeyChanged: true, presentedKeyFingerprint: "SHA256:" + "B".repeat(43) },
  });
  await db.host.update({
    where: { id: hosts[2]!.id },
    data: { reachable: false, lastError: "connect ETIMEDOUT" },
  });
});
afterAll(async () => {
  await db?.$disconnect();
  await t?.drop();
});

const spec = (over: Partial<TRolloutSpec> = {}): TRolloutSpec => ({
  action: "update",
  app: "web",
  version: "1.1",
  targets: { q: "web-" },
  waves: ["100%"],
  failureThreshold: 0,
  parallelism: 10,
  ...over,
});

describe("plan: hosts the console cannot reach", () => {
  it("leaves out the key-changed and the unreachable host with a reason, and plans the others", async () => {
    const { plan } = await planRollout({ db }, spec(), 1);
    const by = Object.fromEntries(plan.hosts.map((h) => [h.name, h]));
    expect(by["web-001"]).toMatchObject({ action: "nothing", excluded: "key-changed", wave: -1, bytes: 0 });
    expect(by["web-001"]!.note).toMatch(/host key changed; re-pin it/);
    expect(by["web-002"]).toMatchObject({ action: "nothing", excluded: "unreachable", wave: -1 });
    expect(by["web-002"]!.note).toMatch(/unreachable at its last refresh \(connect ETIMEDOUT\)/);
    expect([by["web-000"]!.action, by["web-003"]!.action]).toEqual(["update", "update"]);
    expect(plan.totals).toMatchObject({ hosts: 4, update: 2, nothing: 2 });
  });

  it("includes the unreachable host when asked, never the key-changed one", async () => {
    const { plan, digest } = await planRollout({ db }, spec({ includeUnreachable: true }), 1);
    const by = Object.fromEntries(plan.hosts.map((h) => [h.name, h]));
    expect(by["web-002"]).toMatchObject({ action: "update", wave: 0 });
    expect(by["web-002"]!.excluded).toBeUndefined();
    expect(by["web-001"]!.excluded).toBe("key-changed");
    expect(digest).not.toBe((await planRollout({ db }, spec(), 1)).digest);
  });
});
