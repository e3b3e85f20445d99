// Reads host_environment_counts: enrolled hosts per environment, kept by statement triggers on
// hosts in the writing transaction (migration 20261207120000_inventory_host_counts, decision 0033).
// Writers append signed deltas; a read sums them (exact in its snapshot) and, when the deltas have
// piled up, folds them into one row per environment (keel_compact_host_environment_counts).
import { Prisma, type PrismaClient } from "@prisma/client";

/** Rows read beyond the number of environments before a read compacts the deltas. */
const COMPACT_AFTER_EXTRA_ROWS = 2000;

/** Hosts per environment (null: hosts without one); `environments` narrows to those. */
export async function readHostEnvironmentCounts(
  db: PrismaClient,
  environments?: string[],
): Promise<{ environment: string | null; hosts: number }[]> {
  if (environments && !environments.length) return [];
  const where = environments ? Prisma.sql`environment IN (${Prisma.join(environments)})` : Prisma.sql`TRUE`;
  const rows = await db.$queryRaw<{ environment: string; hosts: number; n: number }[]>(Prisma.sql`
    SELECT environment, sum(hosts)::int AS hosts, count(*)::int AS n
    FROM host_environment_counts WHERE ${where} GROUP BY environment`);
  if (rows.reduce((s, r) => s + r.n, 0) - rows.length > COMPACT_AFTER_EXTRA_ROWS)
    await db.$executeRaw`SELECT keel_compact_host_environment_counts()`;
  return rows
    .filter((r) => r.hosts !== 0)
    .map((r) => ({ environment: r.environment === "" ? null : r.environment, hosts: r.hosts }));
}

/**
 * The exact number of hosts a filter selects, read from the counts tables when the filter is one
 * they answer (nothing, environments, a current app version with or without environments), as a
 * SQL expression to put in the list's own statement (same snapshot as its page); null otherwise.
 */
export function countsTableTotal(f: {
  environments?: string[];
  app?: string;
  version?: string;
  [k: string]: unknown;
}): Prisma.Sql | null {
  // An empty list selects nothing in particular (hostFilterSql skips it); '' is where the counts
  // keep hosts without an environment, which `environment IN ('')` would not select.
  const keys = Object.keys(f).filter((k) => f[k] !== undefined && !(Array.isArray(f[k]) && !f[k].length));
  const envs = f.environments?.length ? f.environments : undefined;
  if (envs?.includes("")) return null;
  const envIn = envs ? Prisma.sql`environment IN (${Prisma.join(envs)})` : Prisma.sql`TRUE`;
  const only = (allowed: string[]) => keys.every((k) => allowed.includes(k));
  if (only(["environments"]))
    return Prisma.sql`(SELECT coalesce(sum(hosts), 0)::bigint FROM host_environment_counts WHERE ${envIn})`;
  if (f.app && f.version && only(["app", "version", "environments"]))
    return Prisma.sql`(SELECT coalesce(sum(hosts), 0)::bigint FROM app_version_counts
      WHERE app = ${f.app} AND version = ${f.version} AND ${envIn})`;
  return null;
}
