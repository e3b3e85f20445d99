// Reads the audit log newest first, with filters and keyset paging (cursor = the last id seen).
import type { Prisma, PrismaClient } from "@prisma/client";

export type AuditFilter = {
  /** E-mail (or part of it) or user id of the actor. */
  actor?: string;
  /** Exact action (`user.create`) or a prefix ending in a dot (`user.`). */
  action?: string;
  /** Part of the target (`user:ops@example.com`, `host:web-1`). */
  target?: string;
  from?: Date;
  to?: Date;
};

export type AuditEventItem = {
  id: string;
  at: Date;
  actorId: string | null;
  actor: string | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
};

/**
 * Prisma's contains/startsWith become LIKE patterns without escaping: a filter's own "%" and "_"
 * acted as wildcards. PostgreSQL's default LIKE escape character is the backslash.
 */
export function likeLiteral(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export async function listAuditEvents({
  db,
  filter,
  cursor,
  limit,
}: {
  db: PrismaClient;
  filter: AuditFilter;
  cursor?: string;
  limit: number;
}): Promise<{ items: AuditEventItem[]; nextCursor: string | null }> {
  const where: Prisma.AuditEventWhereInput[] = [];
  if (filter.actor)
    where.push({
      OR: [
        { actorId: filter.actor },
        { actor: { contains: likeLiteral(filter.actor), mode: "insensitive" } },
      ],
    });
  if (filter.action)
    where.push(
      filter.action.endsWith(".")
        ? { action: { startsWith: likeLiteral(filter.action) } }
        : { action: filter.action },
    );
  if (filter.target) where.push({ target: { contains: likeLiteral(filter.target), mode: "insensitive" } });
  if (filter.from) where.push({ at: { gte: filter.from } });
  if (filter.to) where.push({ at: { lt: filter.to } });
  if (cursor) where.push({ id: { lt: BigInt(cursor) } });
  const rows = await db.auditEvent.findMany({
    where: { AND: where },
    orderBy: { id: "desc" },
    take: limit + 1,
    select: { id: true, at: true, actorId: true, actor: true, action: true, target: true, detail: true },
  });
  const page = rows.slice(0, limit);
  return {
    items: page.map((r) => ({
      ...r,
      id: r.id.toString(),
      detail: (r.detail ?? {}) as Record<string, unknown>,
    })),
    nextCursor: rows.length > limit ? page[page.length - 1]!.id.toString() : null,
  };
}
