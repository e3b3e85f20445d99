// host_environment_counts against a real PostgreSQL: the triggers on hosts keep it equal to a
// recount of hosts per environment while enrollments, removals, environment moves and refreshes run
// concurrently on many connections — also when two transactions move the same host at once and a
// third removes it — and the host list's totals read from the counts tables (no filter, by
// environment, by app + version) equal a count of the rows the list itself pages through.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { Prisma, type PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { enrollHost } from "./hosts/enroll-host";
import { removeHost } from "./hosts/remove-host";
import { setHostEnvironment } from "./hosts/set-host-environment";
import { readHostEnvironmentCounts } from "./host-environment-counts";
import { hostsAtSql } from "./hosts-at";
import { hostsAtCountSql } from "./hosts-at-count";
import { listHosts } from "./list-hosts";
import { getDriftReport } from "./get-drift-report";
import { recordFacts } from "./record-facts";
import type { THostFilter } from "./types";
import { factsWithApps, rng } from "./test-support/facts";

const FP = (n: number) => `SHA256:${String(n).padStart(43, "E")}`;
const ENVS = ["dev", "staging", "prod", null] as const;

/** A host holding api 1.0 and 2.0, `current` active. */
const facts = (current: string) => factsWithApps({ api: { current, versions: ["1.0", "2.0"] } });

describe("host_environment_counts (PostgreSQL)", () => {
  let t: TestDatabase;
  let db: PrismaClient;
  const ids: string[] = [];
  let enrolled = 0;

  const recount = async () =>
    (
      await db.$queryRaw<{ environment: string | null; hosts: number }[]>(
        Prisma.sql`SELECT environment, count(*)::int AS hosts FROM hosts GROUP BY 1`,
      )
    )
      .map((r) => `${r.environment ?? "-"} ${r.hosts}`)
      .sort();
  const counted = async () =>
    (await readHostEnvironmentCounts(db)).map((r) => `${r.environment ?? "-"} ${r.hosts}`).sort();
  const enroll = async (env: string | null) => {
    const i = enrolled++;
    const r = await enrollHost(
      { db },
      {
        actorId: null,
        name: `e-${i}`,
        address: `10.8.${Math.floor(i / 250)}.${(i % 250) + 1}`,
        acceptedFingerprint: FP(i),
        environment: env ?? undefined,
      },
    );
    ids.push(r.id);
    return r.id;
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createDb(t.url);
    for (let i = 0; i < 16; i++) await enroll(ENVS[i % 4]!);
  });
  afterAll(async () => {
    await db?.$disconnect();
    await t?.drop();
  });

  it("stays equal to a recount while hosts are enrolled, moved, refreshed and removed at once", async () => {
    const r = rng(11);
    expect(await counted()).toEqual(await recount());
    for (let round = 0; round < 5; round++) {
      const gone = new Set([ids[r(ids.length)]!, ids[r(ids.length)]!]);
      const staying = ids.filter((id) => !gone.has(id));
      const pick = () => staying[r(staying.length)]!;
      const results = await Promise.allSettled([
        ...[0, 1, 2].map(() => enroll(ENVS[r(4)]!)),
        ...[0, 1, 2, 3].map(() =>
          setHostEnvironment({ db }, { actorId: null, hostIds: [pick(), pick()], environment: ENVS[r(4)]! }),
        ),
        ...staying.slice(0, 8).map((id) => recordFacts({ db }, id, facts(r(2) ? "1.0" : "2.0"))),
        ...[...gone].map((id) => removeHost({ db }, { actorId: null, id })),
      ]);
      expect(results.filter((x) => x.status === "rejected")).toEqual([]);
      for (const id of gone) ids.splice(ids.indexOf(id), 1);
      expect(await counted()).toEqual(await recount());
    }
    expect(await db.host.count()).toBeGreaterThan(16);
  });

  it("stays exact when two transactions move the same host and a third removes it", async () => {
    const id = await enroll("dev");
    const other = await enroll(null);
    const client = async () => {
      const c = new pg.Client({ connectionString: t.url });
      await c.connect();
      return c;
    };
    const [a, b, c] = await Promise.all([client(), client(), client()]);
    try {
      await a.query("BEGIN");
      await a.query(`UPDATE hosts SET environment = 'prod' WHERE id = $1`, [id]);
      await b.query("BEGIN");
      // b waits for a's row lock; when a commits, b re-reads the row (now prod) and moves it from prod.
      const bMove = b.query(`UPDATE hosts SET environment = 'staging' WHERE id IN ($1, $2)`, [id, other]);
      await new Promise((res) => setTimeout(res, 200));
      await a.query("COMMIT");
      await bMove;
      await c.query("BEGIN");
      const cDelete = c.query(`DELETE FROM hosts WHERE id = $1`, [id]);
      await new Promise((res) => setTimeout(res, 200));
      await b.query("COMMIT");
      await cDelete;
      await c.query("COMMIT");
    } finally {
      await Promise.all([a.end(), b.end(), c.end()]);
    }
    ids.splice(ids.indexOf(id), 1);
    expect(await db.host.findUnique({ where: { id: other }, select: { environment: true } })).toEqual({
      environment: "staging",
    });
    expect(await counted()).toEqual(await recount());
    // Compaction folds the deltas into one row per environment and changes no sum.
    const before = await counted();
    expect(await db.hostEnvironmentCount.count()).toBeGreaterThan(before.length);
    await db.$executeRaw`SELECT keel_compact_host_environment_counts()`;
    expect(await db.hostEnvironmentCount.count()).toBe(before.length);
    expect(await counted()).toEqual(before);
  });

  it("gives the host list and drift the exact totals", async () => {
    for (const id of ids.slice(0, 10)) await recordFacts({ db }, id, facts("2.0"));
    const filters: THostFilter[] = [
      {},
      { environments: ["prod"] },
      { environments: ["dev", "staging"] },
      { app: "api", version: "2.0" },
      { app: "api", version: "2.0", environments: ["prod", "dev"] },
      { app: "api", version: "9.9" },
    ];
    for (const filter of filters) {
      // Walk every page: the rows the list shows are the truth its total must match.
      let shown = 0;
      let after: string | undefined;
      let total = -1;
      for (;;) {
        const page = await listHosts({ db }, { filter, pageSize: 7, after });
        total = page.total;
        shown += page.rows.length;
        if (!page.nextCursor) break;
        after = page.nextCursor;
      }
      expect(total, JSON.stringify(filter)).toBe(shown);
    }
    expect((await listHosts({ db }, { filter: { app: "api", version: "2.0" } })).total).toBeGreaterThan(0);
    await db.appTarget.create({
      data: { app: "api", version: "2.0", scopeKind: "environment", scopeKey: "prod" },
    });
    const [row] = await getDriftReport({ db }, { app: "api" });
    expect(row!.hosts).toBe(await db.host.count({ where: { environment: "prod" } }));
  });

  it("counts the hosts enrolled at a past time as a count of them does", async () => {
    const countAt = async (at: Date) => [
      Number((await db.$queryRaw<{ n: bigint }[]>(hostsAtCountSql(at)))[0]!.n),
      Number(
        (await db.$queryRaw<{ n: bigint }[]>(Prisma.sql`SELECT count(*) AS n FROM ${hostsAtSql(at)} h`))[0]!
          .n,
      ),
    ];
    const tick = () => new Promise((res) => setTimeout(res, 20));
    const t0 = new Date();
    await tick();
    const fresh = [await enroll("dev"), await enroll(null)];
    await tick();
    const t1 = new Date();
    await tick();
    for (const id of [ids[0]!, fresh[0]!]) {
      await removeHost({ db }, { actorId: null, id });
      ids.splice(ids.indexOf(id), 1);
    }
    const enrolledAtT0 = (await countAt(t0))[1]!;
    for (const at of [new Date(0), t0, t1, new Date()]) {
      const [fromCounts, counted] = await countAt(at);
      expect(fromCounts, at.toISOString()).toBe(counted);
    }
    // Both views of t1 see the two hosts enrolled after t0 and the two retired since.
    expect((await countAt(t1))[1]).toBe(enrolledAtT0 + 2);
    expect((await countAt(new Date()))[1]).toBe(enrolledAtT0);
    expect((await countAt(new Date(0)))[1]).toBe(0);
  });
});
