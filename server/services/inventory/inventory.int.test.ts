// Inventory services against a real PostgreSQL: refresh history and "as of", filters, drift,
// unreachable hosts keeping their last state, key changes, groups, export.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { enrollHost } from "./hosts/enroll-host";
import { importHosts } from "./hosts/import-hosts";
import { parseHostsCsv } from "./hosts/parse-import";
import { removeHost } from "./hosts/remove-host";
import { saveGroup } from "./hosts/save-group";
import { setAppTarget } from "./hosts/set-app-target";
import { setGroupMembers } from "./hosts/set-group-members";
import { setHostEnvironment } from "./hosts/set-host-environment";
import { setHostLabels } from "./hosts/set-host-labels";
import { exportTable } from "./export-table";
import { getDriftReport } from "./get-drift-report";
import { getHostDetail } from "./get-host-detail";
import { getHostsAsOf } from "./get-hosts-as-of";
import { getVersionDistribution } from "./get-version-distribution";
import { listHosts } from "./list-hosts";
import { listStaleHosts } from "./list-stale-hosts";
import { refreshHosts } from "./refresh-hosts";
import { hostFacts } from "./test-support/facts";
import type { CollectedFacts, InventorySsh } from "./types";

const FP = (n: number) => `SHA256:${String(n).padStart(43, "A")}`;

function facts(
  apps: Record<string, { current: string | null; previous?: string | null; versions: string[] }>,
  over: Partial<CollectedFacts> = {},
): CollectedFacts {
  return {
    ...hostFacts(),
    apps: Object.entries(apps).map(([app, a]) => ({
      app,
      kind: "app",
      current: a.current,
      previous: a.previous ?? null,
      versions: a.versions.map((version) => ({
        version,
        sizeBytes: 1000,
        receivedUuid: null,
        createdAt: null,
        signer: "k1",
      })),
    })),
    ...over,
  };
}

/** A fake SSH port: the lab tests use the real one; here the host answers with what we set. */
class FakeFleet implements InventorySsh {
  state = new Map<string, CollectedFacts | Error>();
  async fetchHostKey() {
    return { fingerprint: FP(1) };
  }
  async collectFacts(h: { name: string }) {
    const s = this.state.get(h.name);
    if (!s) throw Object.assign(new Error(`${h.name}: connect ECONNREFUSED`), { code: "CONNECT_FAILED" });
    if (s instanceof Error) throw s;
    return s;
  }
}

describe("inventory services (PostgreSQL)", () => {
  let t: TestDatabase;
  let db: PrismaClient;
  const fleet = new FakeFleet();
  let clockNow = new Date("2026-11-01T00:00:00Z");
  const clock = () => clockNow;
  const deps = () => ({ db, ssh: fleet, clock });
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createDb(t.url);
    for (const [i, name] of ["web-1", "web-2", "db-1"].entries()) {
      const r = await enrollHost(
        { db, clock },
        {
          actorId: null,
          name,
          address: `10.9.0.${i + 2}`,
          acceptedFingerprint: FP(i + 1),
          environment: name.startsWith("web") ? "prod" : "staging",
          labels: { role: name.split("-")[0]! },
        },
      );
      ids[name] = r.id;
    }
  });
  afterAll(async () => {
    await db?.$disconnect();
    await t?.drop();
  });

  it("a version's 'Since' is when it became current again after a rollback, not when it was first installed", async () => {
    clockNow = new Date("2026-11-10T00:00:00Z");
    fleet.state.set("web-2", facts({ tool: { current: "1.0", versions: ["1.0"] } }));
    await refreshHosts(deps(), { hostIds: [ids["web-2"]!] });
    clockNow = new Date("2026-11-11T00:00:00Z");
    fleet.state.set("web-2", facts({ tool: { current: "1.1", previous: "1.0", versions: ["1.0", "1.1"] } }));
    await refreshHosts(deps(), { hostIds: [ids["web-2"]!] });
    clockNow = new Date("2026-11-12T00:00:00Z");
    fleet.state.set("web-2", facts({ tool: { current: "1.0", previous: "1.1", versions: ["1.0", "1.1"] } }));
    await refreshHosts(deps(), { hostIds: [ids["web-2"]!] });
    const tool = (await getHostDetail(deps(), { id: ids["web-2"] })).apps.find((a) => a.app === "tool")!;
    expect(tool.current).toBe("1.0");
    const since = Object.fromEntries(tool.versions.map((v) => [v.version, v.since.toISOString()]));
    expect(since).toEqual({ "1.0": "2026-11-12T00:00:00.000Z", "1.1": "2026-11-12T00:00:00.000Z" });
    fleet.state.delete("web-2");
    clockNow = new Date("2026-11-01T00:00:00Z");
  });

  it("records a refresh, keeps every change as history and answers 'as of' for host and fleet", async () => {
    fleet.state.set(
      "web-1",
      facts({ nginx: { current: "1.9", versions: ["1.9"] }, app: { current: "2.0", versions: ["2.0"] } }),
    );
    fleet.state.set("web-2", facts({ nginx: { current: "1.9", versions: ["1.9"] } }));
    fleet.state.set("db-1", facts({ postgres: { current: "16.1", versions: ["16.1"] } }));
    const first = await refreshHosts(deps(), { all: true });
    expect(first).toMatchObject({ total: 3, ok: 3, changed: 3 });

    const t1 = new Date(clockNow);
    clockNow = new Date("2026-11-02T00:00:00Z");
    // An update on web-1: nginx 1.10 received and activated, 1.9 kept as previous.
    fleet.state.set(
      "web-1",
      facts(
        {
          nginx: { current: "1.10", previous: "1.9", versions: ["1.9", "1.10"] },
          app: { current: "2.0", versions: ["2.0"] },
        },
        { kernel: "6.1.1" },
      ),
    );
    const second = await refreshHosts(deps(), { all: true });
    expect(second.changed).toBe(1);

    const now = await getHostDetail(deps(), { id: ids["web-1"] });
    expect(now.kernel).toBe("6.1.1");
    expect(now.apps.find((a) => a.app === "nginx")).toMatchObject({ current: "1.10", previous: "1.9" });
    expect(now.events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(["version.installed", "version.activated", "facts.changed", "host.enrolled"]),
    );
    expect(now.events.find((e) => e.kind === "version.activated")?.message).toBe("nginx current 1.9 → 1.10");

    const then = await getHostDetail(deps(), { id: ids["web-1"], at: new Date(t1.getTime() + 1000) });
    expect(then.apps.find((a) => a.app === "nginx")).toMatchObject({ current: "1.9", previous: null });
    expect(then.apps.find((a) => a.app === "nginx")?.versions.map((v) => v.version)).toEqual(["1.9"]);
    // Before the first refresh the host had nothing recorded.
    expect(
      (await getHostDetail(deps(), { id: ids["web-1"], at: new Date("2026-10-01T00:00:00Z") })).apps,
    ).toEqual([]);

    const distNow = await getVersionDistribution(deps(), { app: "nginx" });
    expect(distNow).toMatchObject({
      hostCount: 3,
      withoutApp: 1,
      versions: [
        { version: "1.10", hosts: 1 },
        { version: "1.9", hosts: 1 },
      ],
    });
    const distThen = await getVersionDistribution(deps(), {
      app: "nginx",
      at: new Date(t1.getTime() + 1000),
    });
    expect(distThen.versions).toEqual([{ version: "1.9", hosts: 2 }]);

    const asOf = await getHostsAsOf(deps(), { at: new Date(t1.getTime() + 1000), app: "nginx" });
    expect(asOf.rows.map((r) => [r.name, r.versions])).toEqual([
      ["web-1", [{ app: "nginx", version: "1.9" }]],
      ["web-2", [{ app: "nginx", version: "1.9" }]],
    ]);

    // A removal on the host closes the period: history still knows, the current view does not.
    clockNow = new Date("2026-11-03T00:00:00Z");
    fleet.state.set(
      "web-1",
      facts(
        { nginx: { current: "1.10", versions: ["1.10"] }, app: { current: "2.0", versions: ["2.0"] } },
        { kernel: "6.1.1" },
      ),
    );
    await refreshHosts(deps(), { hostIds: [ids["web-1"]!] });
    const afterGc = await getHostDetail(deps(), { id: ids["web-1"] });
    expect(afterGc.apps.find((a) => a.app === "nginx")?.versions.map((v) => v.version)).toEqual(["1.10"]);
    expect(afterGc.events[0]?.kind).toBe("version.removed");
    const before = await getHostDetail(deps(), { id: ids["web-1"], at: new Date("2026-11-02T12:00:00Z") });
    expect(before.apps.find((a) => a.app === "nginx")?.versions.map((v) => v.version)).toEqual([
      "1.10",
      "1.9",
    ]);

    // Nothing changed → no new history rows, no events.
    const hist = await db.installedVersionHistory.count();
    const events = await db.hostEvent.count();
    clockNow = new Date("2026-11-03T01:00:00Z");
    const quiet = await refreshHosts(deps(), { all: true });
    expect(quiet.changed).toBe(0);
    expect(await db.installedVersionHistory.count()).toBe(hist);
    expect(await db.hostEvent.count()).toBe(events);
  });

  it("keeps an unreachable host's last state with the error, and marks it back when it answers", async () => {
    const saved = fleet.state.get("db-1")!;
    const lastSeen = (await getHostDetail(deps(), { id: ids["db-1"] })).lastSeenAt;
    fleet.state.delete("db-1");
    clockNow = new Date("2026-11-04T00:00:00Z");
    const r = await refreshHosts(deps(), { all: true });
    expect(r).toMatchObject({ ok: 2, unreachable: 1 });
    expect(r.results.find((x) => x.name === "db-1")).toMatchObject({
      status: "unreachable",
      message: expect.stringContaining("ECONNREFUSED"),
    });
    const d = await getHostDetail(deps(), { id: ids["db-1"] });
    expect(d).toMatchObject({
      reachable: false,
      lastError: expect.stringContaining("ECONNREFUSED"),
      lastSeenAt: lastSeen,
    });
    expect(d.apps.map((a) => [a.app, a.current])).toEqual([["postgres", "16.1"]]);
    expect((await listHosts(deps(), { filter: { reachable: false } })).rows.map((h) => h.name)).toEqual([
      "db-1",
    ]);
    expect((await listStaleHosts(deps(), { olderThanMs: 3600_000 })).rows.map((h) => h.name)).toEqual([
      "db-1",
    ]);

    fleet.state.set("db-1", saved);
    clockNow = new Date("2026-11-04T01:00:00Z");
    await refreshHosts(deps(), { hostIds: [ids["db-1"]!] });
    const back = await getHostDetail(deps(), { id: ids["db-1"] });
    expect(back).toMatchObject({ reachable: true, lastError: null, lastSeenAt: clockNow });
    expect(back.events.slice(0, 2).map((e) => e.kind)).toEqual(["host.reachable", "host.unreachable"]);
  });

  it("stops at a changed host key: host flagged, state kept, later refreshes skip it", async () => {
    fleet.state.set(
      "web-2",
      Object.assign(new Error("key changed"), {
        code: "HOST_KEY_CHANGED",
        details: { pinned: FP(2), presented: FP(9) },
      }),
    );
    const r = await refreshHosts(deps(), { hostIds: [ids["web-2"]!] });
    expect(r.results[0]?.status).toBe("key-changed");
    const d = await getHostDetail(deps(), { id: ids["web-2"] });
    expect(d).toMatchObject({
      hostKeyChanged: true,
      presentedKeyFingerprint: FP(9),
      hostKeyFingerprint: FP(2),
    });
    expect(d.apps.map((a) => a.current)).toEqual(["1.9"]);
    fleet.state.set("web-2", facts({}));
    const again = await refreshHosts(deps(), { hostIds: [ids["web-2"]!] });
    expect(again.results[0]?.status).toBe("skipped");
    expect((await getHostDetail(deps(), { id: ids["web-2"] })).apps).toHaveLength(1);
    expect((await listHosts(deps(), { filter: { hostKeyChanged: true } })).rows.map((h) => h.name)).toEqual([
      "web-2",
    ]);
  });

  it("filters, sorts, pages and searches the host list", async () => {
    const names = async (i: Parameters<typeof listHosts>[1]) =>
      (await listHosts(deps(), i)).rows.map((r) => r.name);
    expect(await names({ filter: { labels: { role: "web" } } })).toEqual(["web-1", "web-2"]);
    expect(await names({ filter: { environments: ["staging"] } })).toEqual(["db-1"]);
    expect(await names({ filter: { app: "nginx", version: "1.10" } })).toEqual(["web-1"]);
    expect(await names({ filter: { app: "postgres" } })).toEqual(["db-1"]);
    expect(await names({ filter: { os: "bookworm" } })).toEqual(["db-1", "web-1", "web-2"]);
    expect(await names({ filter: { q: "10.9.0.3" } })).toEqual(["web-2"]);
    expect(await names({ filter: { q: "role" } })).toHaveLength(3);
    expect(await names({ filter: { q: "100%_" } })).toEqual([]);
    expect(await names({ sort: "name", direction: "desc" })).toEqual(["web-2", "web-1", "db-1"]);
    const page1 = await listHosts(deps(), { pageSize: 2 });
    expect(page1).toMatchObject({ total: 3, prevCursor: null, rows: [{ name: "db-1" }, { name: "web-1" }] });
    const page2 = await listHosts(deps(), { pageSize: 2, after: page1.nextCursor! });
    expect(page2).toMatchObject({ total: 3, nextCursor: null, rows: [{ name: "web-2" }] });
    expect(
      (await listHosts(deps(), { pageSize: 2, before: page2.prevCursor! })).rows.map((r) => r.name),
    ).toEqual(["db-1", "web-1"]);

    await setHostLabels(deps(), {
      actorId: null,
      hostIds: [ids["web-1"]!, ids["db-1"]!],
      set: { tier: "gold" },
      unset: ["role"],
    });
    expect(await names({ filter: { labels: { tier: "gold" } } })).toEqual(["db-1", "web-1"]);
    expect((await getHostDetail(deps(), { id: ids["web-1"] })).labels).toEqual({ tier: "gold" });
    await setHostLabels(deps(), { actorId: null, hostIds: [ids["web-1"]!], set: { role: "web" } });
    await setHostEnvironment(deps(), { actorId: null, hostIds: [ids["db-1"]!], environment: "prod" });
    expect(await names({ filter: { environments: ["prod"] } })).toEqual(["db-1", "web-1", "web-2"]);
  });

  it("computes drift per fleet, environment, static and filter group", async () => {
    const web = await saveGroup(deps(), { actorId: null, name: "web", kind: "static" });
    await setGroupMembers(deps(), { actorId: null, groupId: web.id, add: [ids["web-1"]!, ids["web-2"]!] });
    const gold = await saveGroup(deps(), {
      actorId: null,
      name: "gold",
      kind: "filter",
      filter: { labels: { tier: "gold" } },
    });
    await setAppTarget(deps(), { actorId: null, app: "nginx", version: "1.10", scope: { kind: "fleet" } });
    await setAppTarget(deps(), {
      actorId: null,
      app: "nginx",
      version: "1.10",
      scope: { kind: "group", groupId: web.id },
    });
    await setAppTarget(deps(), {
      actorId: null,
      app: "nginx",
      version: "1.9",
      scope: { kind: "environment", environment: "prod" },
    });
    await setAppTarget(deps(), {
      actorId: null,
      app: "nginx",
      version: "1.10",
      scope: { kind: "group", groupId: gold.id },
    });
    const drift = await getDriftReport(deps(), { app: "nginx" });
    const by = Object.fromEntries(
      drift.map((d) => [
        d.scopeName,
        { hosts: d.hosts, onTarget: d.onTarget, behind: d.behind, ahead: d.ahead, missing: d.missing },
      ]),
    );
    expect(by).toEqual({
      "env prod": { hosts: 3, onTarget: 1, behind: 0, ahead: 1, missing: 1 },
      "whole fleet": { hosts: 3, onTarget: 1, behind: 1, ahead: 0, missing: 1 },
      "group web": { hosts: 2, onTarget: 1, behind: 1, ahead: 0, missing: 0 },
      "group gold": { hosts: 2, onTarget: 1, behind: 0, ahead: 0, missing: 1 },
    });
    expect((await listHosts(deps(), { filter: { groupId: gold.id } })).rows.map((r) => r.name)).toEqual([
      "db-1",
      "web-1",
    ]);
    expect((await listHosts(deps(), { filter: { groupId: web.id } })).rows.map((r) => r.name)).toEqual([
      "web-1",
      "web-2",
    ]);
  });

  it("exports tables as CSV and imports hosts from CSV, refusing rows without an accepted fingerprint", async () => {
    const csv = await exportTable(deps(), { table: "hosts", filter: { labels: { role: "web" } } });
    const lines = csv.csv.trim().split("\r\n");
    expect(lines[0]).toMatch(/^name,address,port/);
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["web-1", "web-2"]);
    expect((await exportTable(deps(), { table: "drift", app: "nginx" })).csv).toContain(
      "whole fleet,1.10,3,1,1,0,1",
    );

    const parsed = parseHostsCsv(
      `name,address,fingerprint,labels\nnew-1,10.9.1.1,${FP(7)},role=cache\nnew-2,10.9.1.2,,\nweb-1,10.9.0.2,${FP(1)},\n`,
    );
    const r = await importHosts({ db }, { actorId: null, entries: parsed.entries, source: "csv" });
    expect(r.outcomes.map((o) => [o.name, o.status])).toEqual([
      ["new-1", "enrolled"],
      ["new-2", "needs-fingerprint"],
      ["web-1", "exists"],
    ]);
    const withFetch = await importHosts(
      { db, ssh: fleet },
      { actorId: null, entries: parsed.entries.slice(1, 2), source: "csv", acceptPresentedKeys: true },
    );
    expect(withFetch.outcomes[0]).toMatchObject({ status: "enrolled", fingerprint: FP(1) });
    expect((await getHostDetail(deps(), { name: "new-1" })).labels).toEqual({ role: "cache" });

    await removeHost(deps(), { actorId: null, id: (await getHostDetail(deps(), { name: "new-2" })).id });
    expect((await listHosts(deps(), { filter: { q: "new-" } })).rows.map((h) => h.name)).toEqual(["new-1"]);
  });
});
