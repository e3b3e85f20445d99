// Removing a host retires it (docs/decisions/0008-retired-hosts.md), against a real PostgreSQL:
// it leaves the current views (list, distribution, drift, apps), but "what ran on it last
// Tuesday" is still answered — its page by id with the versions it had and its timeline, the
// "as of" views and the distribution as of a time it was enrolled — and the audit log keeps the
// removal. The same name can be enrolled again as a new host without mixing the two histories.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { getDriftReport } from "@/server/services/inventory/get-drift-report";
import { getHostDetail } from "@/server/services/inventory/get-host-detail";
import { getHostsAsOf } from "@/server/services/inventory/get-hosts-as-of";
import { getVersionDistribution } from "@/server/services/inventory/get-version-distribution";
import { listApps } from "@/server/services/inventory/list-apps";
import { listHosts } from "@/server/services/inventory/list-hosts";
import { recordFacts } from "@/server/services/inventory/record-facts";
import { factsWithApps, hostFacts } from "@/server/services/inventory/test-support/facts";
import { enrollHost } from "./enroll-host";
import { listRetiredHosts } from "./list-retired-hosts";
import { removeHost } from "./remove-host";
import { setAppTarget } from "./set-app-target";

const FP = (n: number) => `SHA256:${String(n).padStart(43, "D")}`;
const nginx = (current: string, versions: string[]) => factsWithApps({ nginx: { current, versions } });

describe("retiring a host (PostgreSQL)", () => {
  let t: TestDatabase;
  let db: PrismaClient;
  let clockNow = new Date("2026-11-10T00:00:00Z");
  const deps = () => ({ db, clock: () => clockNow });
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createDb(t.url);
    await db.user.create({
      data: { id: "u-admin", email: "admin@keel.local", name: "admin", roles: ["admin"] },
    });
    for (const [i, name] of ["web-1", "web-2"].entries())
      ids[name] = (
        await enrollHost(deps(), {
          actorId: null,
          name,
          address: `10.8.0.${i + 1}`,
          acceptedFingerprint: FP(i),
          environment: "prod",
          labels: { role: "web" },
        })
      ).id;
    await recordFacts(deps(), ids["web-1"]!, nginx("1.9", ["1.9"]));
    await recordFacts(deps(), ids["web-2"]!, nginx("1.9", ["1.9"]));
    clockNow = new Date("2026-11-17T00:00:00Z"); // Tuesday: web-1 updated
    await recordFacts(deps(), ids["web-1"]!, nginx("1.10", ["1.9", "1.10"]));
    await setAppTarget(deps(), { actorId: null, app: "nginx", version: "1.10", scope: { kind: "fleet" } });
  });
  afterAll(async () => {
    await db?.$disconnect();
    await t?.drop();
  });

  it("keeps history, timeline and audit; leaves the current views; answers as of a time it was enrolled", async () => {
    const tuesday = new Date("2026-11-18T12:00:00Z");
    clockNow = new Date("2026-11-20T00:00:00Z");
    const r = await removeHost(deps(), { actorId: "u-admin", id: ids["web-1"]! });
    expect(r).toMatchObject({ id: ids["web-1"], name: "web-1", retiredAt: clockNow });

    // Gone from what is enrolled now.
    expect((await listHosts(deps())).rows.map((h) => h.name)).toEqual(["web-2"]);
    expect(await getVersionDistribution(deps(), { app: "nginx" })).toMatchObject({
      hostCount: 1,
      versions: [{ version: "1.9", hosts: 1 }],
    });
    expect(await listApps(deps())).toEqual([{ app: "nginx", hosts: 1, versions: 1 }]);
    expect((await getDriftReport(deps()))[0]).toMatchObject({ hosts: 1, onTarget: 0, behind: 1 });
    expect(await db.installedVersion.count({ where: { hostId: ids["web-1"] } })).toBe(0);

    // Its page: last facts, versions as they were when it was removed, its timeline, marked retired.
    const d = await getHostDetail(deps(), { id: ids["web-1"] });
    expect(d).toMatchObject({
      name: "web-1",
      retiredAt: clockNow,
      retiredBy: "admin@keel.local",
      environment: "prod",
      labels: { role: "web" },
      os: hostFacts().os, // its last facts
      reachable: null,
    });
    expect(d.apps).toEqual([expect.objectContaining({ app: "nginx", current: "1.10" })]);
    expect(d.apps[0]!.versions.map((v) => v.version)).toEqual(["1.10", "1.9"]);
    expect(d.events[0]).toMatchObject({ kind: "host.retired", actorId: "u-admin" });
    expect(d.events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(["version.activated", "host.enrolled"]),
    );
    // What ran on it last Tuesday, and before the update.
    expect((await getHostDetail(deps(), { id: ids["web-1"], at: tuesday })).apps[0]).toMatchObject({
      current: "1.10",
    });
    expect(
      (await getHostDetail(deps(), { id: ids["web-1"], at: new Date("2026-11-12T00:00:00Z") })).apps[0],
    ).toMatchObject({ current: "1.9" });
    // Its periods ended at the removal: nothing is open for it any more.
    expect(await db.installedVersionHistory.count({ where: { hostId: ids["web-1"], validTo: null } })).toBe(
      0,
    );

    // Fleet "as of" while it was enrolled includes it (marked), after its removal it does not.
    const asOf = await getHostsAsOf(deps(), { at: tuesday });
    expect(asOf.rows.map((h) => [h.name, h.retiredAt, h.versions])).toEqual([
      ["web-1", clockNow, [{ app: "nginx", version: "1.10" }]],
      ["web-2", null, [{ app: "nginx", version: "1.9" }]],
    ]);
    expect(asOf.total).toBe(2);
    expect(
      (
        await getHostsAsOf(deps(), { at: tuesday, app: "nginx", filter: { labels: { role: "web" } } })
      ).rows.map((h) => h.name),
    ).toEqual(["web-1", "web-2"]);
    expect(
      (await getHostsAsOf(deps(), { at: new Date("2026-11-21T00:00:00Z") })).rows.map((h) => h.name),
    ).toEqual(["web-2"]);
    expect((await getVersionDistribution(deps(), { app: "nginx", at: tuesday })).versions).toEqual([
      { version: "1.10", hosts: 1 },
      { version: "1.9", hosts: 1 },
    ]);
    expect(
      (await getVersionDistribution(deps(), { app: "nginx", at: new Date("2026-11-21T00:00:00Z") }))
        .hostCount,
    ).toBe(1);

    // The audit log keeps the removal, naming the host's id.
    const audit = await db.auditEvent.findMany({ where: { action: "host.remove" } });
    expect(audit.map((a) => [a.actorId, a.target, (a.detail as { id?: string }).id])).toEqual([
      ["u-admin", "host:web-1", ids["web-1"]],
    ]);
    expect((await listRetiredHosts(deps(), { q: "web" })).map((h) => [h.name, h.retiredAt])).toEqual([
      ["web-1", clockNow],
    ]);
  });

  it("enrolls the same name again as a new host; the two histories stay apart", async () => {
    clockNow = new Date("2026-11-22T00:00:00Z");
    const again = await enrollHost(deps(), {
      actorId: null,
      name: "web-1",
      address: "10.8.0.9",
      acceptedFingerprint: FP(9),
    });
    expect(again.id).not.toBe(ids["web-1"]);
    await recordFacts(deps(), again.id, nginx("2.0", ["2.0"]));
    expect((await getHostDetail(deps(), { name: "web-1" })).id).toBe(again.id);
    expect((await getHostDetail(deps(), { id: ids["web-1"] })).apps[0]).toMatchObject({ current: "1.10" });
    expect(
      (await getHostsAsOf(deps(), { at: new Date("2026-11-18T12:00:00Z"), app: "nginx" })).rows.map((h) => [
        h.id,
        h.versions[0]!.version,
      ]),
    ).toEqual([
      [ids["web-1"], "1.10"],
      [ids["web-2"], "1.9"],
    ]);
    expect(
      (await getHostsAsOf(deps(), { at: clockNow, app: "nginx" })).rows.map((h) => [
        h.id,
        h.versions[0]!.version,
      ]),
    ).toEqual([
      [again.id, "2.0"],
      [ids["web-2"], "1.9"],
    ]);
    await expect(removeHost(deps(), { actorId: null, id: ids["web-1"]! })).rejects.toThrow(/not enrolled/);
  });
});
