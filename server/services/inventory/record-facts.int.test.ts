// The inventory write (recordFacts) against a real PostgreSQL: every row it writes — current
// versions, history periods, timeline events, the host's snapshot, the per-app and per-group counts —
// for a sequence of refreshes that installs, activates, changes, removes and rolls back versions.
// The expected rows were taken from the statement-by-statement write it replaced, so a change to
// how the write is done cannot change what is written. Also: two writes of one host serialise.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { enrollHost } from "./hosts/enroll-host";
import { saveGroup } from "./hosts/save-group";
import { setGroupMembers } from "./hosts/set-group-members";
import { recordFacts } from "./record-facts";
import { hostFacts } from "./test-support/facts";
import type { CollectedFacts } from "./types";

type V = { v: string; size?: number | null; uuid?: string | null; at?: string | null };
type Apps = Record<
  string,
  { current: string | null; previous?: string | null; kind?: string; versions: V[] }
>;

function facts(apps: Apps, over: Partial<CollectedFacts> = {}): CollectedFacts {
  return {
    ...hostFacts(),
    apps: Object.entries(apps).map(([app, a]) => ({
      app,
      kind: a.kind ?? "app",
      current: a.current,
      previous: a.previous ?? null,
      versions: a.versions.map((x) => ({
        version: x.v,
        sizeBytes: x.size === undefined ? 1000 : x.size,
        receivedUuid: x.uuid ?? null,
        createdAt: x.at ?? null,
        signer: "k1",
      })),
    })),
    raw: { agent: "raw" },
    ...over,
  };
}

describe("recordFacts: the rows written (PostgreSQL)", () => {
  let t: TestDatabase;
  let db: PrismaClient;
  let clockNow = new Date("2026-11-01T00:00:00Z");
  const clock = () => clockNow;
  const ids: Record<string, string> = {};
  const at = (s: string) => (clockNow = new Date(s));

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createDb(t.url);
    for (const [i, name] of ["a-1", "a-2"].entries()) {
      const r = await enrollHost(
        { db, clock },
        {
          actorId: null,
          name,
          address: `10.9.1.${i + 2}`,
          acceptedFingerprint: `SHA256:${String(i + 1).padStart(43, "A")}`,
          environment: "prod",
        },
      );
      ids[name] = r.id;
    }
    const g = await saveGroup({ db, clock }, { actorId: null, name: "g", kind: "static" });
    await setGroupMembers({ db, clock }, { actorId: null, groupId: g.id, add: [ids["a-1"]!] });
  });
  afterAll(async () => {
    await db?.$disconnect();
    await t?.drop();
  });

  /** Every row the write touches, one line each in a stable order: hosts by name, times as ISO text. */
  const rows = async () => {
    const name = `(SELECT name FROM hosts WHERE id = host_id) AS host`;
    const lines = async (sql: string) =>
      (await db.$queryRawUnsafe<Record<string, unknown>[]>(sql)).map((x) =>
        Object.values(x)
          .map((v) =>
            v instanceof Date ? v.toISOString() : typeof v === "object" ? JSON.stringify(v) : String(v),
          )
          .join(" "),
      );
    return {
      versions:
        await lines(`SELECT ${name}, app, version, kind, size_bytes, received_uuid, signer, installed_at,
        is_current, is_previous, first_seen_at FROM installed_versions ORDER BY 1, 2, 3`),
      history: await lines(`SELECT ${name}, app, version, kind, size_bytes, received_uuid, signer, is_current,
        is_previous, valid_from, valid_to FROM installed_version_history ORDER BY id`),
      events: await lines(`SELECT ${name}, at, kind, message, detail FROM host_events
        WHERE kind NOT IN ('host.enrolled') ORDER BY id`),
      hosts: await lines(`SELECT name, facts, facts_at, hostname, machine_id, os, kernel, arch, agent_version,
        store_total_bytes, store_used_bytes, reachable, last_error, last_seen_at, last_refresh_at
        FROM hosts ORDER BY name`),
      counts: await lines(`SELECT app, version, environment, sum(hosts)::int AS hosts FROM app_version_counts
        GROUP BY 1, 2, 3 HAVING sum(hosts) <> 0 ORDER BY 1, 2, 3`),
      groupCounts: await lines(`SELECT app, version, sum(hosts)::int AS hosts FROM group_app_version_counts
        GROUP BY 1, 2 HAVING sum(hosts) <> 0 ORDER BY 1, 2`),
    };
  };

  it("writes the same versions, history, timeline, snapshot and counts as the statement-by-statement write", async () => {
    const a1 = ids["a-1"]!;
    const a2 = ids["a-2"]!;
    const changes: string[] = [];
    const record = async (hostId: string, f: CollectedFacts, inTx = false) => {
      const r = inTx
        ? await db.$transaction((tx) => recordFacts({ db: tx, clock }, hostId, f))
        : await recordFacts({ db, clock }, hostId, f);
      changes.push(`${r.changed ? "changed" : "same"}: ${r.events.map((e) => e.kind).join(", ")}`);
    };
    at("2026-11-02T00:00:00Z");
    await record(
      a1,
      facts({
        web: { current: "1.0", versions: [{ v: "1.0", uuid: "u-1", at: "2026-10-30T10:00:00Z" }] },
        py: { current: "3.12", kind: "runtime", versions: [{ v: "3.12", size: null }] },
      }),
    );
    await record(a2, facts({ web: { current: "1.0", versions: [{ v: "1.0" }] } }));
    at("2026-11-03T00:00:00Z");
    // Nothing changed but disk use: no history, no event.
    await record(
      a1,
      facts(
        {
          web: { current: "1.0", versions: [{ v: "1.0", uuid: "u-1", at: "2026-10-30T10:00:00Z" }] },
          py: { current: "3.12", kind: "runtime", versions: [{ v: "3.12", size: null }] },
        },
        { store: { backend: "btrfs", totalBytes: 10 ** 9, usedBytes: 2 * 10 ** 8 } },
      ),
    );
    at("2026-11-04T00:00:00Z");
    // An update in a caller's transaction: 1.1 added and current, 1.0 previous (a changed row).
    await record(
      a1,
      facts({
        web: {
          current: "1.1",
          previous: "1.0",
          versions: [
            { v: "1.0", uuid: "u-1", at: "2026-10-30T10:00:00Z" },
            { v: "1.1", uuid: "u-2", at: "2026-11-03T23:59:00Z" },
          ],
        },
        py: { current: "3.12", kind: "runtime", versions: [{ v: "3.12", size: null }] },
      }),
      true,
    );
    at("2026-11-05T00:00:00Z");
    // Unreachable meanwhile; answers again with new facts, 1.0 pruned, the runtime gone, a new app.
    await db.$executeRaw`UPDATE hosts SET reachable = false, last_error = 'gone' WHERE id = ${a1}::uuid`;
    await record(
      a1,
      facts(
        {
          web: { current: "1.1", versions: [{ v: "1.1", uuid: "u-2", at: "2026-11-03T23:59:00Z" }] },
          cache: { current: null, versions: [{ v: "7.0", size: 5 }] },
        },
        { kernel: "6.1.1", agentVersion: "0.2.0", cpuCount: 4, store: null },
      ),
    );
    at("2026-11-06T00:00:00Z");
    // A rollback: 1.0 comes back current, 1.1 previous; cache becomes current; size changes.
    await record(
      a1,
      facts({
        web: {
          current: "1.0",
          previous: "1.1",
          versions: [{ v: "1.1", uuid: "u-2", at: "2026-11-03T23:59:00Z" }, { v: "1.0" }],
        },
        cache: { current: "7.0", versions: [{ v: "7.0", size: 6 }] },
      }),
      true,
    );
    await record(a2, facts({}, { hostname: null }));
    expect(changes).toMatchInlineSnapshot(`
      [
        "changed: version.installed, version.installed, version.activated, version.activated",
        "changed: version.installed, version.activated",
        "same: ",
        "changed: version.installed, version.activated",
        "changed: version.installed, version.removed, version.removed, version.activated, facts.changed, host.reachable",
        "changed: version.installed, version.activated, version.activated, facts.changed",
        "changed: version.removed, version.activated, facts.changed",
      ]
    `);
    expect(await rows()).toMatchInlineSnapshot(`
      {
        "counts": [
          "cache 7.0 prod 1",
          "web 1.0 prod 1",
        ],
        "events": [
          "a-1 2026-11-02T00:00:00.000Z version.installed web 1.0 installed {"app":"web","version":"1.0"}",
          "a-1 2026-11-02T00:00:00.000Z version.installed py 3.12 installed {"app":"py","version":"3.12"}",
          "a-1 2026-11-02T00:00:00.000Z version.activated web current (none) → 1.0 {"to":"1.0","app":"web","from":null}",
          "a-1 2026-11-02T00:00:00.000Z version.activated py current (none) → 3.12 {"to":"3.12","app":"py","from":null}",
          "a-2 2026-11-02T00:00:00.000Z version.installed web 1.0 installed {"app":"web","version":"1.0"}",
          "a-2 2026-11-02T00:00:00.000Z version.activated web current (none) → 1.0 {"to":"1.0","app":"web","from":null}",
          "a-1 2026-11-04T00:00:00.000Z version.installed web 1.1 installed {"app":"web","version":"1.1"}",
          "a-1 2026-11-04T00:00:00.000Z version.activated web current 1.0 → 1.1 {"to":"1.1","app":"web","from":"1.0"}",
          "a-1 2026-11-05T00:00:00.000Z version.installed cache 7.0 installed {"app":"cache","version":"7.0"}",
          "a-1 2026-11-05T00:00:00.000Z version.removed py 3.12 removed {"app":"py","version":"3.12"}",
          "a-1 2026-11-05T00:00:00.000Z version.removed web 1.0 removed {"app":"web","version":"1.0"}",
          "a-1 2026-11-05T00:00:00.000Z version.activated py has no current version (was 3.12) {"to":null,"app":"py","from":"3.12"}",
          "a-1 2026-11-05T00:00:00.000Z facts.changed kernel 6.1.0 → 6.1.1, agentVersion 0.1.0 → 0.2.0, cpuCount 2 → 4 {"kernel":{"to":"6.1.1","from":"6.1.0"},"cpuCount":{"to":4,"from":2},"agentVersion":{"to":"0.2.0","from":"0.1.0"}}",
          "a-1 2026-11-05T00:00:00.000Z host.reachable answering again null",
          "a-1 2026-11-06T00:00:00.000Z version.installed web 1.0 installed {"app":"web","version":"1.0"}",
          "a-1 2026-11-06T00:00:00.000Z version.activated web current 1.1 → 1.0 {"to":"1.0","app":"web","from":"1.1"}",
          "a-1 2026-11-06T00:00:00.000Z version.activated cache current (none) → 7.0 {"to":"7.0","app":"cache","from":null}",
          "a-1 2026-11-06T00:00:00.000Z facts.changed kernel 6.1.1 → 6.1.0, agentVersion 0.2.0 → 0.1.0, cpuCount 4 → 2 {"kernel":{"to":"6.1.0","from":"6.1.1"},"cpuCount":{"to":2,"from":4},"agentVersion":{"to":"0.1.0","from":"0.2.0"}}",
          "a-2 2026-11-06T00:00:00.000Z version.removed web 1.0 removed {"app":"web","version":"1.0"}",
          "a-2 2026-11-06T00:00:00.000Z version.activated web has no current version (was 1.0) {"to":null,"app":"web","from":"1.0"}",
          "a-2 2026-11-06T00:00:00.000Z facts.changed hostname h → null {"hostname":{"to":null,"from":"h"}}",
        ],
        "groupCounts": [
          "cache 7.0 1",
          "web 1.0 1",
        ],
        "history": [
          "a-1 web 1.0 app 1000 u-1 k1 true false 2026-11-02T00:00:00.000Z 2026-11-04T00:00:00.000Z",
          "a-1 py 3.12 runtime null null k1 true false 2026-11-02T00:00:00.000Z 2026-11-05T00:00:00.000Z",
          "a-2 web 1.0 app 1000 null k1 true false 2026-11-02T00:00:00.000Z 2026-11-06T00:00:00.000Z",
          "a-1 web 1.1 app 1000 u-2 k1 true false 2026-11-04T00:00:00.000Z 2026-11-06T00:00:00.000Z",
          "a-1 web 1.0 app 1000 u-1 k1 false true 2026-11-04T00:00:00.000Z 2026-11-05T00:00:00.000Z",
          "a-1 cache 7.0 app 5 null k1 false false 2026-11-05T00:00:00.000Z 2026-11-06T00:00:00.000Z",
          "a-1 web 1.0 app 1000 null k1 true false 2026-11-06T00:00:00.000Z null",
          "a-1 web 1.1 app 1000 u-2 k1 false true 2026-11-06T00:00:00.000Z null",
          "a-1 cache 7.0 app 6 null k1 true false 2026-11-06T00:00:00.000Z null",
        ],
        "hosts": [
          "a-1 {"os":"Debian GNU/Linux 12 (bookworm)","raw":{"agent":"raw"},"arch":"x86_64","store":{"backend":"btrfs","usedBytes":100000000,"totalBytes":1000000000},"kernel":"6.1.0","cpuCount":2,"cpuModel":"cpu","hostname":"h","machineId":"m","memoryBytes":2147483648,"agentVersion":"0.1.0"} 2026-11-06T00:00:00.000Z h m Debian GNU/Linux 12 (bookworm) 6.1.0 x86_64 0.1.0 1000000000 100000000 true null 2026-11-06T00:00:00.000Z 2026-11-06T00:00:00.000Z",
          "a-2 {"os":"Debian GNU/Linux 12 (bookworm)","raw":{"agent":"raw"},"arch":"x86_64","store":{"backend":"btrfs","usedBytes":100000000,"totalBytes":1000000000},"kernel":"6.1.0","cpuCount":2,"cpuModel":"cpu","hostname":null,"machineId":"m","memoryBytes":2147483648,"agentVersion":"0.1.0"} 2026-11-06T00:00:00.000Z null m Debian GNU/Linux 12 (bookworm) 6.1.0 x86_64 0.1.0 1000000000 100000000 true null 2026-11-06T00:00:00.000Z 2026-11-06T00:00:00.000Z",
        ],
        "versions": [
          "a-1 cache 7.0 app 6 null k1 null true false 2026-11-05T00:00:00.000Z",
          "a-1 web 1.0 app 1000 null k1 null true false 2026-11-06T00:00:00.000Z",
          "a-1 web 1.1 app 1000 u-2 k1 2026-11-03T23:59:00.000Z false true 2026-11-04T00:00:00.000Z",
        ],
      }
    `);
  });

  it("serialises two writes of one host: the second diffs against what the first committed", async () => {
    const a2 = ids["a-2"]!;
    at("2026-11-10T00:00:00Z");
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const lockTaken = new Promise<void>((r) => (locked = r));
    const first = db.$transaction(
      async (tx) => {
        await recordFacts(
          { db: tx, clock },
          a2,
          facts({ web: { current: "2.0", versions: [{ v: "2.0" }] } }),
        );
        locked();
        await held;
      },
      { timeout: 20_000 },
    );
    await lockTaken;
    const second = recordFacts(
      { db, clock: () => new Date("2026-11-10T00:00:01Z") },
      a2,
      facts({ web: { current: "2.1", previous: "2.0", versions: [{ v: "2.0" }, { v: "2.1" }] } }),
    );
    // Release the first only once the second waits for the host's row lock.
    let waits = false;
    for (let i = 0; i < 200 && !waits; i++) {
      const [w] = await db.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'`;
      waits = w!.n > 0;
      if (!waits) await new Promise((r) => setTimeout(r, 25));
    }
    release();
    expect(waits).toBe(true);
    await first;
    const r = await second;
    expect(r.events.map((e) => e.message)).toEqual(["web 2.1 installed", "web current 2.0 → 2.1"]);
    const h = await db.$queryRaw<
      { version: string; is_current: boolean; valid_from: Date; valid_to: Date | null }[]
    >`
      SELECT version, is_current, valid_from, valid_to FROM installed_version_history
      WHERE host_id = ${a2}::uuid AND valid_from >= '2026-11-10' ORDER BY id`;
    expect(h.map((x) => [x.version, x.is_current, x.valid_to?.toISOString() ?? null])).toEqual([
      ["2.0", true, "2026-11-10T00:00:01.000Z"],
      ["2.1", true, null],
      ["2.0", false, null],
    ]);
  });
});
