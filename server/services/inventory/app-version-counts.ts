// Reads app_version_counts: hosts per (app, current version, environment), kept by triggers on
// installed_versions and hosts in the writing transaction (migration 20261126220000). Writers
// append signed deltas; a read sums them and, when the deltas have piled up, folds them into one
// row per key (keel_compact_app_version_counts), so reads stay a few hundred rows.
import { Prisma, type PrismaClient } from "@prisma/client";

export type AppVersionEnvCount = { app: string; version: string; environment: string | null; hosts: number };

/** Rows read beyond the number of keys before a read compacts the deltas. */
const COMPACT_AFTER_EXTRA_ROWS = 2000;

export async function readAppVersionCounts(
  db: PrismaClient,
  input: { apps?: string[]; environments?: string[] } = {},
): Promise<AppVersionEnvCount[]> {
  const parts: Prisma.Sql[] = [];
  if (input.apps)
    parts.push(input.apps.length ? Prisma.sql`app IN (${Prisma.join(input.apps)})` : Prisma.sql`FALSE`);
  if (input.environments)
    parts.push(
      input.environments.length
        ? Prisma.sql`environment IN (${Prisma.join(input.environments)})`
        : Prisma.sql`FALSE`,
    );
  const where = parts.length ? Prisma.join(parts, " AND ") : Prisma.sql`TRUE`;
  const rows = await db.$queryRaw<
    { app: string; version: string; environment: string; hosts: number; n: number }[]
  >(Prisma.sql`
    SELECT app, version, environment, sum(hosts)::int AS hosts, count(*)::int AS n
    FROM app_version_counts WHERE ${where} GROUP BY app, version, environment`);
  const read = rows.reduce((s, r) => s + r.n, 0);
  if (read - rows.length > COMPACT_AFTER_EXTRA_ROWS)
    await db.$executeRaw`SELECT keel_compact_app_version_counts()`;
  return rows
    .filter((r) => r.hosts !== 0)
    .map((r) => ({
      app: r.app,
      version: r.version,
      environment: r.environment === "" ? null : r.environment,
      hosts: r.hosts,
    }));
}

/** Hosts per (app, current version) in each static group, from group_app_version_counts. */
export async function readGroupAppVersionCounts(
  db: PrismaClient,
  groupIds: string[],
  apps: string[],
): Promise<{ groupId: string; app: string; version: string; hosts: number }[]> {
  if (!groupIds.length || !apps.length) return [];
  const rows = await db.$queryRaw<
    { group_id: string; app: string; version: string; hosts: number; n: number }[]
  >(Prisma.sql`
    SELECT group_id, app, version, sum(hosts)::int AS hosts, count(*)::int AS n FROM group_app_version_counts
    WHERE group_id IN (${Prisma.join(groupIds.map((g) => Prisma.sql`${g}::uuid`))}) AND app IN (${Prisma.join(apps)})
    GROUP BY group_id, app, version`);
  const read = rows.reduce((s, r) => s + r.n, 0);
  if (read - rows.length > COMPACT_AFTER_EXTRA_ROWS)
    await db.$executeRaw`SELECT keel_compact_group_app_version_counts()`;
  return rows
    .filter((r) => r.hosts !== 0)
    .map((r) => ({ groupId: r.group_id, app: r.app, version: r.version, hosts: r.hosts }));
}
