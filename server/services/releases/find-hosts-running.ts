import type { PrismaClient } from "@prisma/client";

/**
 * Hosts on which the version is active or the rollback target (from inventory). Such a release
 * must not be deleted: the console could no longer re-send it, and its deltas are gone.
 */
export async function findHostsRunning(
  { db }: { db: PrismaClient },
  where: { app: string; version: string },
) {
  const rows = await db.installedVersion.findMany({
    where: { app: where.app, version: where.version, OR: [{ isCurrent: true }, { isPrevious: true }] },
    select: { isCurrent: true, host: { select: { name: true } } },
    orderBy: { host: { name: "asc" } },
  });
  return rows.map((r) => ({
    host: r.host.name,
    role: r.isCurrent ? ("current" as const) : ("previous" as const),
  }));
}
