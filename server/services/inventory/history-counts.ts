// Hosts per current version of one app at a past time T, exactly, without reading the app's
// ~one live period per host: app_version_history_deltas holds each current-version period's +1 at
// its start and -1 at its end in day and hour buckets (kept by a trigger on the history, migration
// 20261208110000, decision 0036). The count at T is the day buckets before T's day, the hour
// buckets of T's day before T's hour, and the periods starting or ending in T's hour up to T (two
// index-only range scans of the history). A period that ends before it starts counts nowhere, as
// in the "live at T" test the other "as of" queries use.
import { Prisma, type PrismaClient } from "@prisma/client";

/** Delta rows read beyond the number of buckets before a read compacts them. */
const COMPACT_AFTER_EXTRA_ROWS = 2000;
const ORIGIN = Prisma.sql`timestamptz '2000-01-01 00:00:00+00'`;

/** Hosts whose current version of `app` at `at` was each version (versions with none left out). */
export async function readVersionsAt(
  db: PrismaClient,
  app: string,
  at: Date,
): Promise<{ version: string; hosts: number }[]> {
  const t = Prisma.sql`${at}::timestamptz`;
  const day = Prisma.sql`date_bin('1 day', ${t}, ${ORIGIN})`;
  const hour = Prisma.sql`date_bin('1 hour', ${t}, ${ORIGIN})`;
  const rows = await db.$queryRaw<{ version: string | null; n: bigint }[]>(Prisma.sql`
    WITH d AS (
      SELECT version, hourly, bucket, delta FROM app_version_history_deltas
      WHERE app = ${app} AND NOT hourly AND bucket < ${day}
      UNION ALL
      SELECT version, hourly, bucket, delta FROM app_version_history_deltas
      WHERE app = ${app} AND hourly AND bucket >= ${day} AND bucket < ${hour}
    ), c AS (
      SELECT version, delta AS n FROM d
      UNION ALL
      SELECT x.version, CASE WHEN x.valid_to < x.valid_from THEN 0 ELSE 1 END FROM installed_version_history x
      WHERE x.app = ${app} AND x.is_current AND x.valid_from >= ${hour} AND x.valid_from <= ${t}
      UNION ALL
      SELECT x.version, -1 FROM installed_version_history x
      WHERE x.app = ${app} AND x.is_current AND x.valid_to >= ${hour} AND x.valid_to <= ${t} AND x.valid_to >= x.valid_from
    )
    SELECT version, sum(n)::bigint AS n FROM c GROUP BY version HAVING sum(n) <> 0
    UNION ALL
    SELECT NULL, count(*) - count(DISTINCT (version, hourly, bucket)) FROM d`);
  const surplus = Number(rows.find((r) => r.version === null)?.n ?? 0);
  if (surplus > COMPACT_AFTER_EXTRA_ROWS)
    await db.$executeRaw`SELECT keel_compact_app_version_history_deltas()`;
  return rows.filter((r) => r.version !== null).map((r) => ({ version: r.version!, hosts: Number(r.n) }));
}
