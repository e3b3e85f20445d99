// app_version_history_deltas against a real PostgreSQL: after refreshes written at times hours and
// days apart — some with the clock set back, so a period can end before it starts — and a host
// removed, the hosts per version of an app at any time T read from the deltas (readVersionsAt, and
// the distribution and one-app "as of" total built on it) equal the straightforward count of the
// periods live at T, at the writes' own times, just before and after them, and on hour and day
// boundaries; compaction changes no answer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma, type PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { enrollHost } from "./hosts/enroll-host";
import { removeHost } from "./hosts/remove-host";
import { getHostsAsOf } from "./get-hosts-as-of";
import { getVersionDistribution } from "./get-version-distribution";
import { readVersionsAt } from "./history-counts";
import { recordFacts } from "./record-facts";
import { randomFacts as facts, rng } from "@/server/services/inventory/test-support/facts";

const FP = (n: number) => `SHA256:${String(n).padStart(43, "H")}`;
const APPS = ["api", "web"];
const VERSIONS = ["1.8", "1.9", "2.0"];
const HOUR = 3600_000;

describe("app_version_history_deltas (PostgreSQL)", () => {
  let t: TestDatabase;
  let db: PrismaClient;
  const ids: string[] = [];
  const times: Date[] = [];
  const start = new Date(Date.UTC(2026, 10, 1, 22, 30));

  const truth = async (app: string, at: Date) =>
    (
      await db.$queryRaw<{ version: string; n: number }[]>(Prisma.sql`
        SELECT version, count(*)::int AS n FROM installed_version_history
        WHERE app = ${app} AND is_current AND valid_from <= ${at} AND (valid_to IS NULL OR valid_to > ${at})
        GROUP BY 1`)
    )
      .map((r) => `${r.version} ${r.n}`)
      .sort();
  const read = async (app: string, at: Date) =>
    (await readVersionsAt(db, app, at)).map((r) => `${r.version} ${r.hosts}`).sort();

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createDb(t.url);
    for (let i = 0; i < 12; i++)
      ids.push(
        (
          await enrollHost(
            { db, clock: () => start },
            { actorId: null, name: `h-${i}`, address: `10.9.0.${i + 1}`, acceptedFingerprint: FP(i) },
          )
        ).id,
      );
    // Refreshes at times 20 min to 30 h apart, going back now and then (a clock set back), so
    // periods start and end in the same hour, in other hours and days, and some end before they start.
    const r = rng(5);
    let at = start.getTime();
    for (let round = 0; round < 14; round++) {
      at += [20 * 60_000, 50 * 60_000, 7 * HOUR, 30 * HOUR, -90 * 60_000][r(5)]!;
      const when = new Date(at);
      times.push(when);
      await Promise.all(
        ids
          .filter(() => r(3) !== 0)
          .map((id) => recordFacts({ db, clock: () => when }, id, facts(r, APPS, VERSIONS))),
      );
    }
    await removeHost({ db, clock: () => new Date(at + HOUR) }, { actorId: null, id: ids[0]! });
    times.push(new Date(at + HOUR));
  });
  afterAll(async () => {
    await db?.$disconnect();
    await t?.drop();
  });

  const probes = () => {
    const out: Date[] = [new Date(start.getTime() - HOUR)];
    for (const w of times) {
      const hour = Math.floor(w.getTime() / HOUR) * HOUR;
      const day = Math.floor(w.getTime() / (24 * HOUR)) * 24 * HOUR;
      for (const ms of [
        w.getTime(),
        w.getTime() - 1,
        w.getTime() + 1,
        hour,
        hour - 1,
        day,
        day - 1,
        hour + HOUR,
      ])
        out.push(new Date(ms));
    }
    return out;
  };

  it("equals the count of live periods at every probed time", async () => {
    const backwards = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM installed_version_history WHERE is_current AND valid_to < valid_from`;
    expect(backwards[0]!.n).toBeGreaterThan(0);
    let nonEmpty = 0;
    for (const at of probes())
      for (const app of APPS) {
        const want = await truth(app, at);
        if (want.length) nonEmpty++;
        expect(await read(app, at), `${app} at ${at.toISOString()}`).toEqual(want);
      }
    expect(nonEmpty).toBeGreaterThan(50);
  });

  it("serves the distribution and the one-app 'as of' total, and compaction changes no answer", async () => {
    for (const at of probes().filter((_, i) => i % 5 === 0))
      for (const app of APPS) {
        const want = await truth(app, at);
        const d = await getVersionDistribution({ db }, { app, at });
        expect(d.versions.map((v) => `${v.version} ${v.hosts}`).sort()).toEqual(want);
        const page = await getHostsAsOf({ db }, { at, app, pageSize: 5 });
        expect(page.total).toBe(want.reduce((s, w) => s + Number(w.split(" ")[1]), 0));
      }
    const at = times[times.length - 3]!;
    const before = await read("web", at);
    const rows = await db.appVersionHistoryDelta.count();
    await db.$executeRaw`SELECT keel_compact_app_version_history_deltas()`;
    expect(await db.appVersionHistoryDelta.count()).toBeLessThan(rows);
    expect(await read("web", at)).toEqual(before);
  });
});
