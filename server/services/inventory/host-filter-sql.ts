// Turns a HostFilter into one SQL predicate over `hosts h`, used by the host list, exports, filter
// groups, drift scopes and "as of" views. Filter groups are expanded (one level: a filter group
// cannot name another group), so the predicate never needs a lookup at query time.
import { Prisma, type PrismaClient } from "@prisma/client";
import { AppError } from "@/server/errors";
import { ZHostFilter, type THostFilter } from "./types";

/** Escape LIKE wildcards so free text matches literally. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The predicate for a filter whose groups are already resolved (`group` given for groupId). */
export function hostFilterSql(
  f: THostFilter,
  group?: { id: string; kind: string; filter: THostFilter | null },
  alias = "h",
): Prisma.Sql {
  const h = Prisma.raw(alias);
  const parts: Prisma.Sql[] = [];
  if (f.q && f.q.trim()) {
    const p = likePattern(f.q.trim());
    // Each column has its own trigram index (hosts_name_trgm_idx …, migration
    // 20261207120000_inventory_host_counts): PostgreSQL ORs the six index scans and rechecks a
    // candidate with the one ILIKE that found it. A match across two columns does not count.
    parts.push(Prisma.sql`(${h}.name ILIKE ${p} OR ${h}.address ILIKE ${p} OR ${h}.hostname ILIKE ${p}
      OR ${h}.os ILIKE ${p} OR ${h}.environment ILIKE ${p} OR ${h}.labels::text ILIKE ${p})`);
  }
  if (f.labels && Object.keys(f.labels).length > 0)
    parts.push(Prisma.sql`${h}.labels @> ${JSON.stringify(f.labels)}::jsonb`);
  if (f.environments && f.environments.length > 0)
    parts.push(Prisma.sql`${h}.environment IN (${Prisma.join(f.environments)})`);
  if (f.os) parts.push(Prisma.sql`${h}.os ILIKE ${likePattern(f.os)}`);
  if (f.app && f.version)
    parts.push(
      Prisma.sql`EXISTS (SELECT 1 FROM installed_versions iv WHERE iv.host_id = ${h}.id AND iv.app = ${f.app} AND iv.version = ${f.version} AND iv.is_current)`,
    );
  else if (f.app)
    parts.push(
      Prisma.sql`EXISTS (SELECT 1 FROM installed_versions iv WHERE iv.host_id = ${h}.id AND iv.app = ${f.app})`,
    );
  else if (f.version)
    parts.push(
      Prisma.sql`EXISTS (SELECT 1 FROM installed_versions iv WHERE iv.host_id = ${h}.id AND iv.version = ${f.version} AND iv.is_current)`,
    );
  if (f.reachable === true) parts.push(Prisma.sql`${h}.reachable IS TRUE`);
  if (f.reachable === false) parts.push(Prisma.sql`${h}.reachable IS NOT TRUE`);
  if (f.hostKeyChanged !== undefined) parts.push(Prisma.sql`${h}.host_key_changed = ${f.hostKeyChanged}`);
  if (f.seenBefore)
    parts.push(Prisma.sql`(${h}.last_seen_at IS NULL OR ${h}.last_seen_at < ${f.seenBefore})`);
  if (f.seenAfter) parts.push(Prisma.sql`${h}.last_seen_at >= ${f.seenAfter}`);
  if (f.ids)
    parts.push(
      f.ids.length
        ? Prisma.sql`${h}.id IN (${Prisma.join(f.ids.map((id) => Prisma.sql`${id}::uuid`))})`
        : Prisma.sql`FALSE`,
    );
  if (f.groupId) {
    if (!group) throw new Error("hostFilterSql: group not resolved");
    if (group.kind === "static")
      parts.push(
        Prisma.sql`EXISTS (SELECT 1 FROM host_group_members m WHERE m.host_id = ${h}.id AND m.group_id = ${group.id}::uuid)`,
      );
    else
      parts.push(
        group.filter
          ? hostFilterSql({ ...group.filter, groupId: undefined }, undefined, alias)
          : Prisma.sql`FALSE`,
      );
  }
  return parts.length ? Prisma.join(parts, " AND ") : Prisma.sql`TRUE`;
}

/** Load the group a filter names (if any) and build the predicate. */
export async function resolveHostFilter(db: PrismaClient, f: THostFilter, alias = "h"): Promise<Prisma.Sql> {
  if (!f.groupId) return hostFilterSql(f, undefined, alias);
  const g = await db.hostGroup.findUnique({
    where: { id: f.groupId },
    select: { id: true, kind: true, filter: true },
  });
  if (!g) throw new AppError("NOT_FOUND", { message: `group ${f.groupId} does not exist` });
  return hostFilterSql(
    f,
    { id: g.id, kind: g.kind, filter: g.filter ? ZHostFilter.parse(g.filter) : null },
    alias,
  );
}
