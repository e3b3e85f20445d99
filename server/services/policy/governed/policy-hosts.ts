// The hosts an admin action touches, as the policy sees them now: environment, static groups, labels.
import { Prisma, type PrismaClient } from "@prisma/client";
import { hostFilterSql } from "@/server/services/inventory/host-filter-sql";
import { ZHostFilter } from "@/server/services/inventory/types";
import type { PolicyTargetHost } from "@/server/services/policy/types";

export async function policyHosts(db: PrismaClient, ids: string[]): Promise<PolicyTargetHost[]> {
  if (ids.length === 0) return [];
  const [rows, members] = await Promise.all([
    db.host.findMany({
      where: { id: { in: ids } },
      select: { id: true, name: true, environment: true, labels: true },
    }),
    db.hostGroupMember.findMany({
      where: { hostId: { in: ids } },
      select: { hostId: true, group: { select: { name: true } } },
    }),
  ]);
  const groups = new Map<string, string[]>();
  for (const m of members) groups.set(m.hostId, [...(groups.get(m.hostId) ?? []), m.group.name]);
  return rows.map((r) => ({
    name: r.name,
    environment: r.environment,
    groups: groups.get(r.id) ?? [],
    labels: (r.labels ?? {}) as Record<string, string>,
  }));
}

/** Ids of the hosts in a group now: its static members, or the hosts its filter matches. */
export async function groupHostIds(
  db: PrismaClient,
  g: { id: string; kind: string; filter: unknown },
): Promise<string[]> {
  if (g.kind === "static")
    return (await db.hostGroupMember.findMany({ where: { groupId: g.id }, select: { hostId: true } })).map(
      (m) => m.hostId,
    );
  return filterHostIds(db, g.filter);
}

export async function filterHostIds(db: PrismaClient, filter: unknown): Promise<string[]> {
  const f = ZHostFilter.safeParse(filter);
  if (!f.success) return [];
  const rows = await db.$queryRaw<{ id: string }[]>(
    Prisma.sql`SELECT id::text FROM hosts h WHERE ${hostFilterSql({ ...f.data, groupId: undefined, ids: undefined })}`,
  );
  return rows.map((r) => r.id);
}
